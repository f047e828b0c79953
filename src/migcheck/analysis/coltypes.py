"""Shared by the column-type rules (prefer-bigint, prefer-identity, prefer-text,
prefer-timestamptz, ban-char-field): the columns a statement defines or retypes, their types,
what earlier migrations say about keys, and where a column sits inside its statement.

One finding per statement and rule, placed on the first offending column: a CREATE TABLE of
twenty lines points at the line to change, and a suppression comment above the statement still
covers it (suppressions match any line of the statement).
"""

from __future__ import annotations

import json

from .._pglast import parser as pgparser
from ..model import FrozenRecord, Statement
from . import locking as lk
from . import pg


class Column(FrozenRecord):
    """A column as a statement defines or re-types it, with its resolved type."""

    __slots__ = ("name", "cd", "how", "type", "mods", "array")
    name: str
    cd: dict  # the ColumnDef fields
    how: str  # "create" (CREATE TABLE), "add" (ADD COLUMN), "type" (ALTER COLUMN ... TYPE)
    type: str  # base type name as PostgreSQL resolves it: int4, int2, serial, varchar, bpchar, timestamp, ...
    mods: tuple  # type modifiers (constants only; a non-constant one is None)
    array: bool

    def __init__(self, name: str, cd: dict, how: str, type: str, mods: tuple, array: bool):
        set_ = object.__setattr__  # (as a frozen dataclass sets its fields: the hot path makes many)
        set_(self, "name", name)
        set_(self, "cd", cd)
        set_(self, "how", how)
        set_(self, "type", type)
        set_(self, "mods", mods)
        set_(self, "array", array)

    @property
    def location(self) -> int:
        loc = self.cd.get("location", -1)
        if loc is None or loc < 0:
            loc = (self.cd.get("typeName") or {}).get("location", -1)
        return loc if loc is not None else -1

    @property
    def constraints(self) -> list[dict]:
        return lk.constraints(self.cd)

    @property
    def contypes(self) -> set[str]:
        return lk.contypes(self.cd)

    def type_sql(self) -> str:
        return type_sql(self.type, self.mods, self.array)


def base_type(type_name: dict | None) -> tuple[str, tuple, bool] | None:
    """``(name, modifiers, is array)`` of a built-in type: the name as the parser resolved it
    (``int`` and ``integer`` are ``int4``, ``character(n)`` is ``bpchar``, ``timestamp without
    time zone`` is ``timestamp``), None for a type in another schema or a ``%TYPE``."""
    if not type_name or type_name.get("pct_type"):
        return None
    parts = pg.strings(type_name.get("names"))
    if not parts or len(parts) > 2 or (len(parts) == 2 and parts[0] != "pg_catalog"):
        return None
    mods = []
    for m in type_name.get("typmods") or ():
        c = m.get("A_Const") if isinstance(m, dict) else None
        mods.append(c["ival"].get("ival", 0) if c and "ival" in c else None)
    return parts[-1], tuple(mods), bool(type_name.get("arrayBounds"))


_DISPLAY = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "bpchar": "char",
    "varchar": "varchar",
    "timestamp": "timestamp",
    "timestamptz": "timestamptz",
}


def type_sql(name: str, mods: tuple = (), array: bool = False) -> str:
    text = _DISPLAY.get(name, name)
    if name == "bpchar" and not mods:
        text = "bpchar"
    elif mods and not (name == "bpchar" and mods == (1,)):
        text += "(" + ",".join("?" if m is None else str(m) for m in mods) + ")"
    return text + ("[]" if array else "")


def is_temporary(st: Statement) -> bool:
    return (st.node.get("relation") or {}).get("relpersistence") == "t"


def columns(st: Statement) -> list[Column]:
    """The columns ``st`` gives a type: the columns of a CREATE TABLE (not a temporary one),
    ``ADD COLUMN`` and ``ALTER COLUMN ... TYPE`` of an ALTER TABLE."""
    out: list[Column] = []

    def add(cd: dict, how: str, name: str | None = None) -> None:
        t = base_type(cd.get("typeName"))
        if t is not None:
            out.append(Column(name or cd.get("colname", "?"), cd, how, *t))

    if st.kind == "CreateStmt" and not is_temporary(st):
        for el in st.node.get("tableElts") or ():
            if "ColumnDef" in el:
                add(el["ColumnDef"], "create")
    elif st.kind == "AlterTableStmt":
        for sub, c in lk.alter_table_cmds(st):
            cd = (c.get("def") or {}).get("ColumnDef")
            if not cd:
                continue
            if sub == "AT_AddColumn":
                add(cd, "add")
            elif sub == "AT_AlterColumnType":
                add(cd, "type", c.get("name", "?"))
    return out


def what(st: Statement) -> str:
    """``CREATE TABLE t`` / ``ALTER TABLE t``, for messages."""
    return ("CREATE TABLE " if st.kind == "CreateStmt" else "ALTER TABLE ") + lk.table_sql(st)


def column_words(cols: list[Column], describe=None) -> str:
    """``column a integer`` / ``columns a integer, b integer``."""
    describe = describe or (lambda c: f"{lk.ident(c.name)} {c.type_sql()}")
    items = [describe(c) for c in cols]
    return ("column " if len(items) == 1 else "columns ") + ", ".join(items)


# --- keys, from the statement and the migrations before it -----------------------------------


def table_primary_key(st: Statement) -> list[str]:
    """The PRIMARY KEY columns a CREATE TABLE declares (column or table constraint)."""
    keys: list[str] = []
    for el in st.node.get("tableElts") or ():
        if "ColumnDef" in el:
            if "CONSTR_PRIMARY" in lk.contypes(el["ColumnDef"]):
                keys.append(el["ColumnDef"].get("colname", ""))
        elif el.get("Constraint", {}).get("contype") == "CONSTR_PRIMARY":
            keys.extend(pg.strings(el["Constraint"].get("keys")))
    return keys


def primary_key(f, ctx, st: Statement, table: str) -> list[str]:
    """The primary key columns of ``table`` just before ``st``, as far as the migrations show
    (empty when unknown): the schema model."""
    t = lk.before(f, ctx, st, table).table(table)
    return list(t.primary_key()) if t is not None else []


# --- positions inside a statement ------------------------------------------------------------


def _locations(node, out: list[int]) -> list[int]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "location" and isinstance(v, int):
                out.append(v)
            elif isinstance(v, (dict, list)):
                _locations(v, out)
    elif isinstance(node, list):
        for v in node:
            _locations(v, out)
    return out


def _delta(st: Statement) -> int | None:
    """How far the parser's locations in ``st.node`` are from byte offsets into ``st.text``
    (they count from the file, a recovered piece or a DO body, depending on how the statement
    was parsed): parse the statement's text alone and compare."""
    try:
        tree = json.loads(pgparser.parse_sql_json(st.text))
    except Exception:
        return None
    stmts = tree.get("stmts") or []
    if len(stmts) != 1 or st.kind not in stmts[0].get("stmt", {}):
        return None
    a = _locations(st.node, [])
    b = _locations(stmts[0]["stmt"][st.kind], [])
    if len(a) != len(b):
        return None
    diffs = {x - y for x, y in zip(a, b) if x >= 0 and y >= 0}
    return diffs.pop() if len(diffs) == 1 else None


def position(f, st: Statement, location: int) -> tuple[int, int]:
    """Line and column in the file of the parser location ``location`` of a node of ``st``
    (the statement's own position when it cannot be worked out)."""
    if location is None or location < 0:
        return st.line, st.column
    cache = f.__dict__.setdefault("_types_deltas", {})
    if id(st) not in cache:
        cache[id(st)] = (st, _delta(st))  # keep st alive so its id is not reused
    delta = cache[id(st)][1]
    if delta is None:
        return st.line, st.column
    rel = location - delta
    data = st.text.encode("utf-8")
    if not 0 <= rel <= len(data):
        return st.line, st.column
    chars = len(data[:rel].decode("utf-8", errors="ignore"))
    return f.positions.line_col(st.start + chars)


def hit_at(f, st: Statement, location: int, message: str, help: str):
    line, column = position(f, st, location)
    return f.hit(message, help, line=line, column=column)
