"""prefer-bigint: a key column filled from a sequence (serial, identity, DEFAULT nextval()), or a
reference to a bigint key, declared as a 16- or 32-bit integer (rules/prefer-bigint.md)."""

from __future__ import annotations

from ..analysis import pg
from ..model import walk
from ..registry import rule
from ..analysis import locking as lk
from ..analysis import coltypes as ty

SMALL = {"int4": 32, "serial": 32, "serial4": 32, "int2": 16, "smallserial": 16, "serial2": 16}
BIG = {"int8", "bigserial", "serial8"}
LIMIT = {32: "2,147,483,647", 16: "32,767"}
SERIALS = {"serial", "serial4", "smallserial", "serial2"}


def _referenced_type(f, ctx, st, cols_here: dict[str, ty.Column], own_table: str, pktable: dict | None,
                     pk_attrs: list[str], index: int) -> tuple[str, str] | None:
    """``(display name, type)`` of the column a foreign key column points at, when known."""
    ref_table = pg.rangevar(pktable)
    if not ref_table:
        return None
    same = lk.unqualified(ref_table) == lk.unqualified(own_table)
    if pk_attrs:
        ref_col = pk_attrs[index] if index < len(pk_attrs) else None
    elif same and st.kind == "CreateStmt":
        keys = ty.table_primary_key(st)
        ref_col = keys[index] if index < len(keys) else None
    else:
        keys = ty.primary_key(f, ctx, st, ref_table)
        ref_col = keys[index] if index < len(keys) else None
    if not ref_col:
        return None
    if same and ref_col in cols_here:
        t = cols_here[ref_col].type
    else:
        key = lk.column_type(f, ctx, st, ref_table, ref_col)
        if key is None or key[2]:
            return None
        t = key[0]
    return f"{lk.names(ref_table.split('.'))}.{lk.ident(ref_col)}", t


def _references(st, col: ty.Column) -> list[tuple[dict, list[str], int]]:
    """``(referenced table, referenced columns, position of col in the key)`` of every foreign
    key that ``col`` is part of (column constraint, or a table constraint of the CREATE TABLE)."""
    out = []
    for con in col.constraints:
        if con.get("contype") == "CONSTR_FOREIGN":
            out.append((con.get("pktable"), pg.strings(con.get("pk_attrs")), 0))
    if col.how == "create":
        for el in st.node.get("tableElts") or ():
            con = el.get("Constraint") or {}
            if con.get("contype") == "CONSTR_FOREIGN":
                fk = pg.strings(con.get("fk_attrs"))
                if col.name in fk:
                    out.append((con.get("pktable"), pg.strings(con.get("pk_attrs")), fk.index(col.name)))
    return out


def _calls_nextval(expr) -> bool:
    return any(kind == "FuncCall" and (pg.strings(fields.get("funcname"))[-1:] or [""])[0].lower() == "nextval"
               for kind, fields in walk({"e": expr}))


def _generated(cd: dict) -> str | None:
    """How a column definition fills itself from a sequence, if it does."""
    names = [p.lower() for p in pg.strings((cd.get("typeName") or {}).get("names"))]
    if names and names[-1] in SERIALS:
        return "filled from a sequence"
    for con in lk.constraints(cd):
        if con.get("contype") == "CONSTR_IDENTITY":
            return "identity"
        if con.get("contype") == "CONSTR_DEFAULT" and _calls_nextval(con.get("raw_expr")):
            return "DEFAULT nextval()"
    return None


def _generated_before(f, ctx, st, table: str, column: str) -> str | None:
    """Is the column filled from a sequence just before ``st``, as far as the migrations show?"""
    want = lk.unqualified(table)
    state: dict[str, str | None] = {}
    for s in lk.history(f, ctx, st, table=table):
        if s.kind == "CreateStmt" and (s.node.get("relation") or {}).get("relname") == want:
            state = {el["ColumnDef"].get("colname", ""): _generated(el["ColumnDef"])
                     for el in s.node.get("tableElts") or () if "ColumnDef" in el}
        elif s.kind == "AlterTableStmt" and lk.unqualified(lk.table_of(s)) == want:
            for sub, c in lk.alter_table_cmds(s):
                d = c.get("def") or {}
                name = c.get("name", "")
                if sub == "AT_AddColumn" and "ColumnDef" in d:
                    state[d["ColumnDef"].get("colname", "")] = _generated(d["ColumnDef"])
                elif sub == "AT_ColumnDefault":
                    state[name] = "DEFAULT nextval()" if c.get("def") and _calls_nextval(c["def"]) else None
                elif sub == "AT_AddIdentity":
                    state[name] = "identity"
                elif sub in ("AT_DropIdentity", "AT_DropColumn"):
                    state.pop(name, None)
        elif s.kind == "DropStmt" and s.node.get("removeType") == "OBJECT_TABLE":
            if any(name == want for _, name, _ in pg.drop_keys(s)):
                state = {}
    return state.get(column)


def _role(f, ctx, st, col: ty.Column, cols_here: dict[str, ty.Column]) -> str | None:
    """Why ``col`` is a key column whose values can outgrow its type, or None: its values come
    from a sequence, or it references a bigint column."""
    table = lk.table_of(st)
    if col.how == "type":
        return _generated_before(f, ctx, st, table, col.name)
    how = _generated(col.cd)
    if how:
        return how
    for pktable, pk_attrs, i in _references(st, col):
        ref = _referenced_type(f, ctx, st, cols_here, table, pktable, pk_attrs, i)
        if ref and ref[1] in BIG:
            return f"references {ref[0]}, a bigint"
    return None


@rule("prefer-bigint", severity="info", group="safety", kinds=("migration",),
      reads=("CreateStmt", "AlterTableStmt"),
      summary="A sequence-filled key (serial, identity, DEFAULT nextval()) or a reference to a bigint key is a 16- or 32-bit integer.")
def check(f, ctx):
    for st in f.all_statements:
        cols = [c for c in ty.columns(st) if c.type in SMALL and not c.array]
        if not cols:
            continue
        here = {c.name: c for c in ty.columns(st)}
        found = [(c, r) for c in cols if (r := _role(f, ctx, st, c, here))]
        if not found:
            continue
        bits = sorted({SMALL[c.type] for c, _ in found}, reverse=True)
        limit = LIMIT[bits[0]] + (f" ({LIMIT[16]} for the smallint ones)" if len(bits) > 1 else "")
        listed = ("column " if len(found) == 1 else "columns ") + ", ".join(
            f"{lk.ident(c.name)} {c.type_sql()} ({role})" for c, role in found)
        size = "/".join(f"{b}-bit" for b in bits)
        first = found[0][0]
        col = lk.ident(first.name)
        if not found[0][1].startswith("references") and first.how != "type":
            fix = f"`{col} bigint GENERATED BY DEFAULT AS IDENTITY` (or bigserial), and bigint for every column that references it"
        elif found[0][1].startswith("references"):
            fix = f"`{col} bigint`, the type of the key it references"
        else:
            fix = f"`{col} bigint`, and bigint for every column that references it"
        many = len(found) > 1
        yield ty.hit_at(
            f, st, first.location,
            f"{ty.what(st)}{lk.where(st)} declares key {listed} as {'' if many else 'a '}{size} integer{'s' if many else ''}: "
            f"{'their' if many else 'its'} values stop at {limit}, and past that every INSERT that needs a larger one fails",
            f"Use {fix}. It costs 4 bytes per row now; changing the type later rewrites the table and each index on "
            "the column under an ACCESS EXCLUSIVE lock, and every referencing table with it.")
