"""The data that flows through migcheck: files, statements, findings.

Data flows one way: files -> parsed statements -> rules -> findings -> suppression -> reporter.
Nothing here knows about output formats or about individual rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(slots=True)
class Finding:
    """One finding as reported: rule, severity, place, message and help."""

    rule: str
    severity: str
    path: str
    line: int
    column: int
    message: str
    help: str
    end_line: int | None = None
    end_column: int | None = None
    suppressed: bool = False
    reason: str | None = None

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


@dataclass(slots=True)
class Hit:
    """What a rule reports: where and what. The engine adds rule id, severity and path."""

    file: Any  # MigrationFile
    line: int
    column: int
    message: str
    help: str
    end_line: int | None = None
    end_column: int | None = None
    rule_override: str | None = None  # for rule families: the id this hit belongs to


@dataclass(slots=True)
class Statement:
    """One parsed statement with its position in the original file.

    ``kind`` is the PostgreSQL parse node name (``CreateStmt``, ``DropStmt``, ...) and ``node``
    the node's fields as plain dicts/lists from pglast's JSON parse tree. ``start``/``end`` are
    character offsets into the decoded text. Statements found inside a ``DO`` block's PL/pgSQL
    body have ``parent`` set to the ``DO`` statement; those a called routine's body runs
    (``migcheck.routines``) are positioned at the call, with ``via`` naming the routine.
    """

    index: int
    kind: str
    node: dict
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    parent: Statement | None = None
    via: str | None = None  # run by a routine the file defines and calls (migcheck.routines): which one

    @property
    def inner(self) -> bool:
        return self.parent is not None

    def first_line(self, width: int = 80) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(slots=True)
class ParseProblem:
    """A statement the parser refused: its message and where."""

    message: str
    line: int
    column: int


@dataclass(slots=True)
class Comment:
    """A comment of the file and where it is."""

    text: str  # the comment's text including its -- or /* */ markers
    start: int  # character offset
    line: int
    column: int
    own_line: bool  # nothing but white space before it on its line


@dataclass
class Header:
    """The comment block before the first statement: ``-- Field: value`` lines."""

    fields: dict[str, tuple[str, int]] = field(default_factory=dict)  # lower name -> (value, line)
    present: bool = False

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
