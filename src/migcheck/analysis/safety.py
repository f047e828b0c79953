"""File context the safety rules share: which tables are new in this migration, which
statements run inside a transaction block, and which session settings are in force.

A table created earlier in the same file is new and empty: building an index on it, adding a
NOT NULL column or a validating foreign key costs nothing, so the safety rules skip it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from . import pg, txn
from ..model import Statement


def _unqualified(name: str) -> str:
    return name.rsplit(".", 1)[-1]


class _CreatedAt:
    """The tables created before statement ``i`` (supports ``in``, ``len`` and iteration)."""

    __slots__ = ("_t", "_i")

    def __init__(self, timeline: "_Created", i: int):
        self._t, self._i = timeline, i

    def __contains__(self, name: object) -> bool:
        ev = self._t.events.get(name)  # type: ignore[arg-type]
        if not ev:
            return False
        pos = bisect.bisect_left(ev[0], self._i) - 1  # the last change made by an earlier statement
        return pos >= 0 and ev[1][pos]

    def __iter__(self):
        return (name for name in self._t.events if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Created:
    """Per statement, the tables created earlier in the file: a sequence of ``_CreatedAt``. It
    keeps each table's create/drop events, O(statements) memory, where a set per statement was
    O(statements x tables) (a 1 MB file of CREATE TABLEs took over 1 GB)."""

    def __init__(self):
        self.events: dict[str, tuple[list[int], list[bool]]] = {}
        self.n = 0

    def set(self, name: str, i: int, created: bool) -> None:
        idx, states = self.events.setdefault(name, ([], []))
        if idx and idx[-1] == i:
            states[-1] = created
        else:
            idx.append(i)
            states.append(created)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> _CreatedAt:
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return _CreatedAt(self, i)


@dataclass
class FileContext:
    """Per statement of a file: tables created earlier, transaction state, SET values in force."""

    statements: list[Statement]
    new_before: _Created = field(default_factory=_Created)  # per statement: tables created earlier
    inside: list[bool] = field(default_factory=list)  # per statement: inside BEGIN ... COMMIT
    settings_before: list[dict[str, str]] = field(default_factory=list)  # per statement: SET values in force

    def index(self, stmt: Statement) -> int:
        top = stmt.parent or stmt
        i = top.index  # position in the file's statement list, set by the parser
        if i < len(self.statements) and self.statements[i] is top:
            return i
        return len(self.statements)  # not a statement of this file

    def is_new_table(self, stmt: Statement, table: str) -> bool:
        """Was ``table`` created earlier in this file (before ``stmt``)?"""
        i = self.index(stmt)
        if i >= len(self.new_before):
            return False
        return _unqualified(table) in self.new_before[i]

    def in_transaction(self, stmt: Statement) -> bool:
        i = self.index(stmt)
        return i < len(self.inside) and self.inside[i]

    def setting(self, stmt: Statement, name: str) -> str | None:
        i = self.index(stmt)
        if i >= len(self.settings_before):
            return None
        return self.settings_before[i].get(name)


def _set_value(node: dict) -> str:
    vals = []
    for a in node.get("args", ()):
        c = a.get("A_Const", {})
        if "sval" in c:
            vals.append(c["sval"].get("sval", ""))
        elif "ival" in c:
            vals.append(str(c["ival"].get("ival", 0)))
        else:
            vals.append("?")
    return ",".join(vals)


def build(statements: list[Statement]) -> FileContext:
    ctx = FileContext(statements)
    created = ctx.new_before
    settings: dict[str, str] = {}  # shared by the statements it applies to; copied when a SET changes it
    blocks = txn.analyse(statements)
    ctx.inside = blocks.inside
    for i, st in enumerate(statements):
        created.n = i + 1
        ctx.settings_before.append(settings)
        key = pg.create_key(st)
        if key and key[0] in ("table", "materialized view", "foreign table"):
            created.set(key[1], i, True)
        elif st.kind == "CreateTableAsStmt":
            rel = st.node.get("into", {}).get("rel", {}).get("relname")
            if rel:
                created.set(rel, i, True)
        elif st.kind == "VariableSetStmt" and st.node.get("name"):
            settings = dict(settings)
            if st.node.get("kind") == "VAR_RESET":
                settings.pop(st.node["name"], None)
            elif st.node.get("kind") == "VAR_RESET_ALL":
                settings.clear()
            else:
                settings[st.node["name"]] = _set_value(st.node)
        elif st.kind == "DropStmt" and st.node.get("removeType") == "OBJECT_TABLE":
            for _, name, _ in pg.drop_keys(st):
                if name in created.events:
                    created.set(name, i, False)
    return ctx


def context(f) -> FileContext:
    """The (cached) safety context of a MigrationFile."""
    cached = getattr(f, "_safety_ctx", None)
    if cached is None:
        cached = build(f.statements)
        f._safety_ctx = cached
    return cached
