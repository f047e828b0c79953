"""The data that flows through migcheck: files, statements, findings.

Data flows one way: files -> parsed statements -> rules -> findings -> suppression -> reporter.
Nothing here knows about output formats or about individual rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


class Record:
    """What ``@dataclass(slots=True)`` gives (fields in ``__slots__``, a repr naming them, equality
    of same-class instances field by field, unhashable), written out instead of generated: each
    ``@dataclass`` compiles its methods when its module is imported, about 0.5 ms a class, a fifth
    of a one-file check's time (issue 22). A subclass lists its fields in ``__slots__`` and writes
    its ``__init__``; use it for the types every run imports. ``SHOWN``: the fields the repr shows
    and equality compares, when not all of them (a dataclass's ``field(repr=False, compare=False)``).
    A type whose instances callers give other attributes too (as a dataclass without slots lets
    them) adds ``"__dict__"`` to its slots."""

    __slots__: tuple[str, ...] = ()
    SHOWN: tuple[str, ...] = ()
    # the compared fields' values as a tuple, as a dataclass compares and hashes them (set per class)
    _key: Callable[[Any], tuple] = staticmethod(lambda self: ())

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        names = cls.SHOWN or tuple(n for n in cls.__slots__ if n != "__dict__")
        if "_key" in cls.__dict__:  # (its own: it compares other fields than it shows)
            pass
        elif len(names) == 1:
            cls._key = staticmethod(lambda self, get=attrgetter(names[0]): (get(self),))
        elif names:  # (attrgetter of several names gives their tuple, in C)
            cls._key = staticmethod(attrgetter(*names))

    def _fields(self) -> tuple[str, ...]:
        return self.SHOWN or tuple(n for n in self.__slots__ if n != "__dict__")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields())})"

    def __eq__(self, other) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = self._key
        return key(self) == key(other)

    # (mutable, compared by value: as a dataclass)
    __hash__ = None  # type: ignore[assignment]


class FrozenRecord(Record):
    """``Record`` for ``@dataclass(frozen=True)``: immutable and hashable. Its ``__init__`` sets the
    fields with ``_init`` (in ``__slots__`` order)."""

    __slots__: tuple[str, ...] = ()

    def _init(self, *values) -> None:
        for name, value in zip(self.__slots__, values):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name}")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name}")

    def __hash__(self) -> int:  # type: ignore[override]  # (Record's is None: mutable ones are unhashable)
        return hash(self._key(self))

    def __reduce__(self):
        # (copy, deepcopy and pickle: a frozen dataclass's support them; slots set one by one
        # would meet __setattr__. A subclass's __init__ takes its fields in ``__slots__`` order.)
        return type(self), tuple(getattr(self, n) for n in self.__slots__)

    def replace(self, **changes):
        """A copy with ``changes`` (``dataclasses.replace``: an unknown field is a TypeError)."""
        fields = self._fields()
        if not changes.keys() <= set(fields):
            raise TypeError(f"{type(self).__name__} has no field {sorted(set(changes) - set(fields))[0]!r}")
        return type(self)(**{n: changes.get(n, getattr(self, n)) for n in fields})


class Finding(Record):
    """One finding as reported: rule, severity, place, message and help."""

    __slots__ = (
        "rule",
        "severity",
        "path",
        "line",
        "column",
        "message",
        "help",
        "end_line",
        "end_column",
        "suppressed",
        "reason",
    )

    def __init__(
        self,
        rule: str,
        severity: str,
        path: str,
        line: int,
        column: int,
        message: str,
        help: str,
        end_line: int | None = None,
        end_column: int | None = None,
        suppressed: bool = False,
        reason: str | None = None,
    ):
        self.rule = rule
        self.severity = severity
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.help = help
        self.end_line = end_line
        self.end_column = end_column
        self.suppressed = suppressed
        self.reason = reason

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.rule, self.message)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "help": self.help,
            "suppressed": self.suppressed,
        }
        if self.suppressed:
            out["reason"] = self.reason
        return out


class Hit(Record):
    """What a rule reports: where and what. The engine adds rule id, severity and path."""

    __slots__ = ("file", "line", "column", "message", "help", "end_line", "end_column", "rule_override")

    def __init__(
        self,
        file: Any,
        line: int,
        column: int,
        message: str,
        help: str,
        end_line: int | None = None,
        end_column: int | None = None,
        rule_override: str | None = None,
    ):
        self.file = file  # MigrationFile
        self.line = line
        self.column = column
        self.message = message
        self.help = help
        self.end_line = end_line
        self.end_column = end_column
        self.rule_override = rule_override  # for rule families: the id this hit belongs to


class Statement(Record):
    """One parsed statement with its position in the original file.

    ``kind`` is the PostgreSQL parse node name (``CreateStmt``, ``DropStmt``, ...) and ``node``
    the node's fields as plain dicts/lists from pglast's JSON parse tree. ``start``/``end`` are
    character offsets into the decoded text. Statements found inside a ``DO`` block's PL/pgSQL
    body have ``parent`` set to the ``DO`` statement; those a called routine's body runs
    (``migcheck.routines``) are positioned at the call, with ``via`` naming the routine.
    """

    __slots__ = (
        "index",
        "kind",
        "node",
        "start",
        "end",
        "line",
        "column",
        "end_line",
        "end_column",
        "text",
        "parent",
        "via",
    )

    def __init__(
        self,
        index: int,
        kind: str,
        node: dict,
        start: int,
        end: int,
        line: int,
        column: int,
        end_line: int,
        end_column: int,
        text: str,
        parent: Statement | None = None,
        via: str | None = None,
    ):
        self.index = index
        self.kind = kind
        self.node = node
        self.start = start
        self.end = end
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.text = text
        self.parent = parent
        self.via = via  # run by a routine the file defines and calls (migcheck.routines): which one

    @property
    def inner(self) -> bool:
        return self.parent is not None

    def first_line(self, width: int = 80) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= width else text[: width - 3] + "..."


class ParseProblem(Record):
    """A statement the parser refused: its message and where."""

    __slots__ = ("message", "line", "column")

    def __init__(self, message: str, line: int, column: int):
        self.message = message
        self.line = line
        self.column = column


class Comment(Record):
    """A comment of the file and where it is."""

    __slots__ = ("text", "start", "line", "column", "own_line")

    def __init__(self, text: str, start: int, line: int, column: int, own_line: bool):
        self.text = text  # the comment's text including its -- or /* */ markers
        self.start = start  # character offset
        self.line = line
        self.column = column
        self.own_line = own_line  # nothing but white space before it on its line


class Header(Record):
    """The comment block before the first statement: ``-- Field: value`` lines."""

    __slots__ = ("fields", "present", "__dict__")

    def __init__(self, fields: dict[str, tuple[str, int]] | None = None, present: bool = False):
        self.fields = {} if fields is None else fields  # lower name -> (value, line)
        self.present = present

    def get(self, name: str) -> tuple[str, int] | None:
        return self.fields.get(name.lower())


def walk(node: Any) -> Iterator[tuple[str, dict]]:
    """Yield ``(node_type, fields)`` for every node below ``node`` in a JSON parse tree."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for key, value in cur.items():
                if isinstance(value, dict):
                    if key[:1].isupper():
                        yield key, value
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(value)
        elif isinstance(cur, list):
            stack.extend(cur)
