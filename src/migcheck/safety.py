"""File context the safety rules share: which tables are new in this migration, which
statements run inside a transaction block, and which session settings are in force.

A table created earlier in the same file is new and empty: building an index on it, adding a
NOT NULL column or a validating foreign key costs nothing, so the safety rules skip it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import pg, txn
from .model import Statement


def _unqualified(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@dataclass
class FileContext:
    statements: list[Statement]
    new_before: list[frozenset[str]] = field(default_factory=list)  # per statement: tables created earlier
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
    created: set[str] = set()
    settings: dict[str, str] = {}
    blocks = txn.analyse(statements)
    ctx.inside = blocks.inside
    for st in statements:
        ctx.new_before.append(frozenset(created))
        ctx.settings_before.append(dict(settings))
        key = pg.create_key(st)
        if key and key[0] in ("table", "materialized view", "foreign table"):
            created.add(key[1])
        elif st.kind == "CreateTableAsStmt":
            rel = st.node.get("into", {}).get("rel", {}).get("relname")
            if rel:
                created.add(rel)
        elif st.kind == "VariableSetStmt" and st.node.get("name"):
            if st.node.get("kind") == "VAR_RESET":
                settings.pop(st.node["name"], None)
            elif st.node.get("kind") == "VAR_RESET_ALL":
                settings.clear()
            else:
                settings[st.node["name"]] = _set_value(st.node)
        elif st.kind == "DropStmt" and st.node.get("removeType") == "OBJECT_TABLE":
            for _, name, _ in pg.drop_keys(st):
                created.discard(name)
    return ctx


def context(f) -> FileContext:
    """The (cached) safety context of a MigrationFile."""
    cached = getattr(f, "_safety_ctx", None)
    if cached is None:
        cached = build(f.statements)
        f._safety_ctx = cached
    return cached
