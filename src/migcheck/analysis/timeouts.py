"""Session timeouts a migration sets (``lock_timeout``, ``statement_timeout``): the value of a
``SET`` (also inside a ``DO`` block) or of ``SELECT set_config(...)``, and whether a value leaves
the timeout off. The top-level ``SET``s in force before each statement are in ``safety.context``."""

from __future__ import annotations

from ..model import Statement, walk
from . import locking as lk
from . import locks, pg, safety


def disabled(value: str | None) -> bool:
    """No value, DEFAULT or 0 (0 means: wait forever)."""
    if value is None:
        return True
    v = value.strip().strip("'").lower()
    return v in ("", "0", "0s", "0ms", "default", "?")


def set_value(node: dict) -> str:
    """The value of ``SET name = value`` ("" for DEFAULT / RESET)."""
    if node.get("kind") != "VAR_SET_VALUE":
        return ""
    for a in node.get("args", ()):
        c = a.get("A_Const", {})
        if "sval" in c:
            return c["sval"].get("sval", "")
        if "ival" in c:
            return str(c["ival"].get("ival", 0))
    return "?"


def set_config(st: Statement, name: str) -> str | None:
    """``SELECT set_config('<name>', '2s', ...)``: its value (None when ``st`` sets no ``name``)."""
    if st.kind != "SelectStmt":
        return None
    for kind, fields in walk(st.node):
        if kind == "FuncCall" and (pg.strings(fields.get("funcname"))[-1:] or [""])[0].lower() == "set_config":
            vals = [a.get("A_Const", {}).get("sval", {}).get("sval") for a in fields.get("args", ())[:2]]
            if len(vals) == 2 and vals[0] == name:
                return vals[1] or ""
    return None


def setting(st: Statement, name: str) -> str | None:
    """The value ``st`` gives ``name`` when it is a ``set_config`` call or a ``SET`` inside a DO
    block (the top-level ``SET``s are in ``safety.context``); None when it sets nothing."""
    value = set_config(st, name)
    if st.inner and st.kind == "VariableSetStmt" and st.node.get("name") == name:
        value = set_value(st.node)
    return value


def locked_tables(f, ctx, st: Statement, version: int, modes=None):
    """``(lock, table name as a message shows it)`` of each lock (of ``modes``, or any) ``st`` takes
    on an existing table. A DROP INDEX lock is on the index's table: the one the history shows
    (None when it does not show it: taken as existing); an index built earlier in the file on a
    table created in the file locks nothing anyone else holds."""
    drop_index = st.kind == "DropStmt" and st.node.get("removeType") == "OBJECT_INDEX"
    for lock in locks.statement_locks(st, version):
        if (modes is not None and lock.mode not in modes) or not lock.relation:
            continue
        table = lk.index_table(f, ctx, st, lock.relation.split(".")[-1]) if drop_index else lock.relation
        if table is None:
            yield lock, None
        elif lk.is_existing(f, st, table):
            yield lock, lk.names(table.split("."))


def first_unbounded(f, ctx, version: int, name: str, modes=None) -> tuple[Statement, locks.Lock, str | None] | None:
    """The first statement of file ``f`` that takes a lock (of ``modes``, or any) on an existing
    table while no ``name`` timeout is in force, with its strongest such lock and that lock's table
    as a message names it (``locked_tables``); None when there is none. A timeout set to
    0 / DEFAULT / RESET is not in force."""
    sctx = safety.context(f)
    by_function: str | None = None  # set with set_config() in a SELECT, or SET in a DO block
    for st in f.all_statements:
        value = setting(st, name)
        if value is not None:
            by_function = value
            continue
        held = list(locked_tables(f, ctx, st, version, modes))
        if not held:
            continue
        if not disabled(sctx.setting(st, name)) or not disabled(by_function):
            continue
        lock, shown = max(held, key=lambda x: locks.STRENGTH[x[0].mode])
        return st, lock, shown
    return None
