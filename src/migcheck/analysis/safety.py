"""File context the safety rules share: which statements run inside a transaction block, and
which session settings are in force. Which tables are new (created earlier in the file or change
set) is the schema model's business (``analysis.schema``); ``is_new_table`` asks it.
"""

from __future__ import annotations

from ..model import Record, Statement
from . import txn


class FileContext(Record):
    """Per statement of a file: transaction state, SET values in force; which tables are new is
    the schema model's answer (``analysis.schema``)."""

    __slots__ = ("statements", "inside", "settings_before", "file", "_own", "__dict__")

    def __init__(
        self,
        statements: list[Statement],
        inside: list[bool] | None = None,
        settings_before: list[dict[str, str]] | None = None,
        file: object = None,
        _own: object = None,
    ):
        self.statements = statements
        self.inside: list[bool] = [] if inside is None else inside  # per statement: inside BEGIN ... COMMIT
        # per statement: SET values in force
        self.settings_before: list[dict[str, str]] = [] if settings_before is None else settings_before
        self.file = file  # the MigrationFile, when built from one (``context``)
        self._own = _own  # without a file: the statements' own timeline (``schema.replay``)

    def index(self, stmt: Statement) -> int:
        top = stmt.parent or stmt
        i = top.index  # position in the file's statement list, set by the parser
        if i < len(self.statements) and self.statements[i] is top:
            return i
        return len(self.statements)  # not a statement of this file

    def is_new_table(self, stmt: Statement, table: str) -> bool:
        """Was ``table`` created earlier in this file (before ``stmt``)?"""
        from . import schema

        if self.file is not None:
            return schema.is_new(self.file, stmt, table, origins=(schema.FILE,))
        if self._own is None:
            from . import effects

            self._own = schema.replay([(effects.effects_of(self.statements, ""), schema.FILE, "")])
        state = self._own.at(schema.unqualified(table), (0, *schema._pos(stmt)))  # type: ignore[attr-defined]
        return state is not None and state.kind in schema.TABLE_KINDS and state.origin == schema.FILE

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
    settings: dict[str, str] = {}  # shared by the statements it applies to; copied when a SET changes it
    blocks = txn.analyse(statements)
    ctx.inside = blocks.inside
    for st in statements:
        ctx.settings_before.append(settings)
        if st.kind == "VariableSetStmt" and st.node.get("name"):
            settings = dict(settings)
            if st.node.get("kind") == "VAR_RESET":
                settings.pop(st.node["name"], None)
            elif st.node.get("kind") == "VAR_RESET_ALL":
                settings.clear()
            else:
                settings[st.node["name"]] = _set_value(st.node)
    return ctx


def context(f) -> FileContext:
    """The (cached) safety context of a MigrationFile."""
    cached = getattr(f, "_safety_ctx", None)
    if cached is None:
        cached = build(f.statements)
        cached.file = f
        f._safety_ctx = cached
    return cached
