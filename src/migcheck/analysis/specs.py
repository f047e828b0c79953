"""What the schema model (``migcheck.analysis.schema``) needs of a statement beyond its effects'
identities: column types and NOT NULL, what a constraint or index enforces, which rows and
columns a data change reads. ``effects`` puts one of these on an ``Effect`` as its ``spec``,
during its one walk of the statement; each is a small tuple of strings, numbers, booleans and
tuples, so that it goes into the per-file summary's JSON as it is.

Shapes (the first item says which):

- ``("table", has_rows, (column, ...))``: a relation created with these columns (``column`` as
  below); ``has_rows``: ``CREATE TABLE ... AS`` / ``SELECT INTO`` with data.
- ``("column", name, type, not_null, has_default, sequence, generated)``: a column added or
  created. ``type``: ``TypeKey`` (or None when not plain); ``sequence``: how it fills itself from a
  sequence (``SEQUENCE_*``, "" when it does not); ``generated``: ``GENERATED ALWAYS AS (...)``
  (its values are computed from the row's other columns: it holds no data of its own).
- ``("constraint", contype, validated, keys, not_null, only_not_null, ref, using_index)``:
  ``contype`` one of ``CONTYPES``; ``keys`` its columns in order; ``not_null`` the columns a
  CHECK proves NOT NULL (``col IS NOT NULL``, alone or AND-ed) and ``only_not_null`` whether
  that is all it checks; ``ref`` the table a FOREIGN KEY references (``schema.name``);
  ``using_index`` the index ``ADD CONSTRAINT ... USING INDEX`` adopts.
- ``("index", unique, partial, keys, primary, plain)``: ``keys`` in order: a column's name,
  ``lower(col)`` / ``upper(col)`` for those expressions of one column, ``"expr"`` for any other
  expression; ``plain``: a btree with default operator classes, collations and ordering, and no
  INCLUDE columns (what a UNIQUE or PRIMARY KEY constraint builds).
- ``("type", type)``: ``ALTER COLUMN ... TYPE``.
- ``("default", sequence)``: ``ALTER COLUMN ... SET/DROP DEFAULT`` (``sequence``:
  ``SEQUENCE_NEXTVAL`` when the new default calls nextval()).
- ``("data", all_rows, copied, writes)``: a row change; ``all_rows``: every row goes (TRUNCATE,
  DELETE without WHERE); ``copied``: ``table.column`` (or ``table.*``) of the values it writes
  elsewhere (``UPDATE t SET b = a``, ``INSERT INTO u SELECT a FROM t``, ``CREATE TABLE u AS``);
  ``writes``: the columns of its target it writes, each as ``(column, table.column it reads,
  ...)`` (``UPDATE t SET b = f(a)``: ``("b", "t.a")``), ``("*",)`` for rows it adds (INSERT,
  COPY, MERGE, ``CREATE TABLE AS``): any column.
"""

from __future__ import annotations

from typing import Any

from ..model import walk
from . import pg
from .relations import rangevars

# (base type name, integer type modifiers, is an array); None: not plain (%TYPE, a modifier that
# is not a constant)
TypeKey = tuple[str, tuple[int, ...], bool]
Spec = tuple[Any, ...]
Node = dict[str, Any]  # a parse tree node's fields, as pglast's JSON gives them

CONTYPES = {
    "CONSTR_PRIMARY": "primary key",
    "CONSTR_UNIQUE": "unique",
    "CONSTR_FOREIGN": "foreign key",
    "CONSTR_CHECK": "check",
    "CONSTR_EXCLUSION": "exclude",
}
SERIALS = frozenset({"serial", "serial4", "smallserial", "serial2"})  # prefer-bigint's "small" serials
SEQUENCE_SERIAL, SEQUENCE_IDENTITY, SEQUENCE_NEXTVAL = "filled from a sequence", "identity", "DEFAULT nextval()"


def type_key(type_name: Node | None) -> TypeKey | None:
    """``(base name, type modifiers, is array)`` of a TypeName, or None when it is not plain
    (``%TYPE``, a modifier that is not a constant)."""
    if not type_name:
        return None
    parts = [p.lower() for p in pg.strings(type_name.get("names"))]
    if not parts:
        return None
    mods = []
    for m in type_name.get("typmods", ()) or ():
        c = m.get("A_Const")
        if c is None:
            return None
        if "ival" in c:
            mods.append(c["ival"].get("ival", 0))
        else:
            return None
    return parts[-1], tuple(mods), bool(type_name.get("arrayBounds"))


def binary_coercible(old: TypeKey | None, new: TypeKey | None) -> bool:
    """Is changing a column from type ``old`` to ``new`` a catalog-only change in PostgreSQL
    (no rewrite, no index rebuild)? Only the well-known cases: varchar(n) to text, to varchar(m)
    with m >= n or to unbounded varchar; text to unbounded varchar; numeric(p,s) to numeric(q,s)
    with q >= p or unconstrained numeric; varbit(n) to a larger varbit; cidr to inet."""
    if old is None or new is None or old[2] != new[2]:
        return False
    (o, om, _), (n, nm, _) = old, new
    if old == new:
        return True
    if o == "varchar" and n == "text":
        return True
    if o in ("varchar", "text") and n == "varchar" and not nm:
        return True
    if o == n and o in ("varchar", "varbit") and om and nm and nm[0] >= om[0]:
        return True
    if o == n == "numeric":
        if not nm:
            return True
        if om and len(om) == len(nm) and nm[0] >= om[0] and om[1:] == nm[1:]:
            return True
    return o == "cidr" and n == "inet"


def _constraints(cd: Node) -> list[Node]:
    return [c["Constraint"] for c in cd.get("constraints", ()) or () if "Constraint" in c]


def calls_nextval(expr: Any) -> bool:
    return any(
        kind == "FuncCall" and (pg.strings(fields.get("funcname"))[-1:] or [""])[0].lower() == "nextval"
        for kind, fields in walk({"e": expr})
    )


def sequence_fill(cd: Node, cons: list[Node] | None = None) -> str:
    """How a column definition fills itself from a sequence ("" when it does not)."""
    names = [p.lower() for p in pg.strings((cd.get("typeName") or {}).get("names"))]
    if names and names[-1] in SERIALS:
        return SEQUENCE_SERIAL
    for con in _constraints(cd) if cons is None else cons:
        if con.get("contype") == "CONSTR_IDENTITY":
            return SEQUENCE_IDENTITY
        if con.get("contype") == "CONSTR_DEFAULT" and calls_nextval(con.get("raw_expr")):
            return SEQUENCE_NEXTVAL
    return ""


_FILLS = frozenset({"CONSTR_IDENTITY", "CONSTR_GENERATED"})
_SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def column(cd: Node) -> Spec:
    """The ``("column", ...)`` spec of a ``ColumnDef``."""
    cons = _constraints(cd)
    types = {c.get("contype") for c in cons}
    not_null = bool(types & {"CONSTR_NOTNULL", "CONSTR_PRIMARY"})
    key = type_key(cd.get("typeName"))
    default = (
        bool(types & _FILLS)
        or (key is not None and key[0] in _SERIAL_TYPES)
        or any(
            c.get("contype") == "CONSTR_DEFAULT" and not (c.get("raw_expr") or {}).get("A_Const", {}).get("isnull")
            for c in cons
        )
    )
    return (
        "column",
        cd.get("colname", ""),
        key,
        not_null,
        default,
        sequence_fill(cd, cons),
        "CONSTR_GENERATED" in types,
    )


def table(elts: list[Any] | None, has_rows: bool = False) -> Spec:
    cols = tuple(column(e["ColumnDef"]) for e in elts or () if "ColumnDef" in e)
    return ("table", has_rows, cols)


def not_null_columns(expr: Node | None) -> tuple[set[str], bool]:
    """Columns a CHECK expression proves NOT NULL (``col IS NOT NULL``, alone or AND-ed), and
    whether the expression checks nothing else."""
    out: set[str] = set()
    if not expr:
        return out, False
    test = expr.get("NullTest")
    if test is not None:
        if test.get("nulltesttype") == "IS_NOT_NULL":
            ref = test.get("arg", {}).get("ColumnRef")
            cols = pg.strings(ref.get("fields")) if ref else []
            if cols:
                out.add(cols[-1])
                return out, True
        return out, False
    b = expr.get("BoolExpr")
    if b is not None and b.get("boolop") == "AND_EXPR":
        only = True
        for arg in b.get("args", ()):
            inner, alone = not_null_columns(arg)
            out |= inner
            only = only and alone
        return out, only
    return out, False


def constraint(con: Node, column: str | None = None) -> Spec:
    """The ``("constraint", ...)`` spec of a ``Constraint`` (``column``: the column it is
    declared on, for a column constraint)."""
    contype = CONTYPES.get(con.get("contype", ""), con.get("contype", ""))
    keys = tuple(pg.strings(con.get("keys")) or pg.strings(con.get("fk_attrs")))
    if not keys and column and con.get("contype") != "CONSTR_CHECK":
        keys = (column,)
    nn: tuple[str, ...] = ()
    only = False
    if con.get("contype") == "CONSTR_CHECK":
        cols, only = not_null_columns(con.get("raw_expr"))
        nn = tuple(sorted(cols))
    ref = ""
    if con.get("contype") == "CONSTR_FOREIGN" and con.get("pktable"):
        ref = pg.rangevar(con.get("pktable"))
    return ("constraint", contype, not con.get("skip_validation"), keys, nn, only, ref, con.get("indexname") or "")


_CASE_FOLDS = frozenset({"lower", "upper"})  # of one column: NULL only for NULL


def _index_key(e: Node) -> str:
    """An index element as ``index`` keys name it."""
    if e.get("name"):
        return e["name"]
    call = (e.get("expr") or {}).get("FuncCall")
    if call is not None:
        fname = [p.lower() for p in pg.strings(call.get("funcname"))]
        args = call.get("args") or []
        if (
            fname
            and fname[-1] in _CASE_FOLDS
            and fname[:-1] in ([], ["pg_catalog"])
            and len(args) == 1
            and not call.get("agg_filter")
            and not call.get("over")
        ):
            ref = args[0].get("ColumnRef") if isinstance(args[0], dict) else None
            names = pg.strings(ref.get("fields")) if ref else []
            if len(names) == 1:
                return f"{fname[-1]}({names[0]})"
    return "expr"


def key_column(key: str) -> str:
    """The column an index key is (or folds the case of); "" for another expression."""
    if key == "expr":
        return ""
    for fold in _CASE_FOLDS:
        if key.startswith(fold + "(") and key.endswith(")"):
            return key[len(fold) + 1 : -1]
    return key


def rename_key(key: str, old: str, new: str) -> str:
    col = key_column(key)
    if col != old:
        return key
    return new if key == old else key.replace(f"({old})", f"({new})", 1)


def index(n: Node) -> Spec:
    keys = []
    plain = (n.get("accessMethod") or "btree") == "btree" and not n.get("indexIncludingParams")
    for p in n.get("indexParams") or ():
        e = p.get("IndexElem", {})
        keys.append(_index_key(e))
        if (
            e.get("opclass")
            or e.get("collation")
            or e.get("ordering", "SORTBY_DEFAULT") != "SORTBY_DEFAULT"
            or e.get("nulls_ordering", "SORTBY_NULLS_DEFAULT") != "SORTBY_NULLS_DEFAULT"
        ):
            plain = False
    return (
        "index",
        bool(n.get("unique") or n.get("primary")),
        bool(n.get("whereClause")),
        tuple(keys),
        bool(n.get("primary")),
        plain,
    )


# --- data changes ----------------------------------------------------------------------------


def _scope(node: Any) -> dict[str, str]:
    """Alias (or name) -> table name of every relation a statement reads (``RangeVar``s)."""
    out: dict[str, str] = {}
    for rv in rangevars(node):
        name = rv["relname"]
        out[name] = name
        alias = (rv.get("alias") or {}).get("aliasname")
        if alias:
            out[alias] = name
    return out


def _refs(expr: Any, scope: dict[str, str], tables: list[str]) -> set[str]:
    """``table.column`` of the column references in ``expr``: a qualified one by its alias, an
    unqualified one once per table in ``tables`` (any of them may hold it)."""
    out: set[str] = set()
    for kind, ref in walk({"e": expr}):
        if kind != "ColumnRef":
            continue
        fields = ref.get("fields") or []
        star = bool(fields) and isinstance(fields[-1], dict) and "A_Star" in fields[-1]
        names = pg.strings(fields)
        if star:
            col, qual = "*", (names[-1] if names else None)
        else:
            col, qual = (names[-1] if names else ""), (names[-2] if len(names) >= 2 else None)
        if qual is not None:
            if qual in scope:
                out.add(f"{scope[qual]}.{col}")
        elif col:
            out.update(f"{t}.{col}" for t in tables)
    return out


def _select_copies(sel: Node) -> set[str]:
    """The columns a SELECT's target list reads, resolved against its FROM clause."""
    scope = _scope(sel.get("fromClause"))
    tables = sorted(set(scope.values()))
    out = _refs(sel.get("targetList"), scope, tables)
    for part in ("larg", "rarg"):  # UNION / INTERSECT / EXCEPT
        if sel.get(part):
            out |= _select_copies(sel[part])
    return out


def _update_targets(n: Node) -> list[tuple[str, set[str]]]:
    """Each column an UPDATE sets, with the ``table.column`` its value reads."""
    target = (n.get("relation") or {}).get("relname", "")
    scope = _scope(n.get("fromClause"))
    scope[target] = target
    alias = ((n.get("relation") or {}).get("alias") or {}).get("aliasname")
    if alias:
        scope[alias] = target
    tables = sorted(set(scope.values()))
    out = []
    for t in n.get("targetList") or ():
        rt = t.get("ResTarget", {})
        out.append((rt.get("name", ""), _refs(rt.get("val"), scope, tables)))
    return out


def copied(kind: str, n: Node) -> tuple[str, ...]:
    """``table.column`` (``table.*``) of the values a row change writes into another column or
    table (see the module's doc)."""
    out: set[str] = set()
    if kind == "UpdateStmt":
        target = (n.get("relation") or {}).get("relname", "")
        for dest, sources in _update_targets(n):
            for src in sources:
                if src != f"{target}.{dest}":  # SET a = lower(a): the same column, changed in place
                    out.add(src)
    elif kind == "InsertStmt":
        sel = (n.get("selectStmt") or {}).get("SelectStmt")
        if sel:
            out = _select_copies(sel)
    elif kind in ("CreateTableAsStmt", "SelectStmt"):
        sel = (n.get("query") or {}).get("SelectStmt") if kind == "CreateTableAsStmt" else n
        if sel:
            out = _select_copies(sel)
    return tuple(sorted(out))


ANY_COLUMN = ("*",)  # a ``writes`` entry: rows added, any column


def writes(kind: str, n: Node) -> tuple[tuple[str, ...], ...]:
    """The ``writes`` of a row change (see the module's doc)."""
    if kind in ("InsertStmt", "MergeStmt"):
        return (ANY_COLUMN,)
    if kind != "UpdateStmt":
        return ()
    return tuple((dest, *sorted(sources)) for dest, sources in _update_targets(n) if dest)


def data(kind: str, n: Node) -> Spec:
    all_rows = kind == "TruncateStmt" or (
        kind == "DeleteStmt" and not n.get("whereClause") and not n.get("usingClause")
    )
    return ("data", all_rows, copied(kind, n) if kind in ("UpdateStmt", "InsertStmt") else (), writes(kind, n))


# --- checking a decoded spec (a damaged cache entry must not reach the model) -------------------

_SHAPES: dict[str, tuple[type, ...]] = {
    "table": (bool, tuple),
    "column": (str, object, bool, bool, str, bool),
    "constraint": (str, bool, tuple, tuple, bool, str, str),
    "index": (bool, bool, tuple, bool, bool),
    "type": (object,),
    "default": (str,),
    "data": (bool, tuple, tuple),
}


def _type_ok(t: Any) -> bool:
    return t is None or (
        type(t) is tuple
        and len(t) == 3
        and type(t[0]) is str
        and type(t[1]) is tuple
        and all(type(m) is int for m in t[1])
        and type(t[2]) is bool
    )


def _strings(t: Any) -> bool:
    return type(t) is tuple and all(type(s) is str for s in t)


def valid(spec: Any) -> bool:
    """Is ``spec`` one of the shapes above (after a JSON round trip turned lists to tuples)?"""
    if type(spec) is not tuple or not spec or spec[0] not in _SHAPES:
        return False
    shape = _SHAPES[spec[0]]
    if len(spec) != len(shape) + 1:
        return False
    if not all(want is object or type(v) is want for v, want in zip(spec[1:], shape)):
        return False
    tag = spec[0]
    if tag == "column":
        return _type_ok(spec[2])
    if tag == "type":
        return _type_ok(spec[1])
    if tag == "table":
        return all(valid(c) and c[0] == "column" for c in spec[2])
    if tag == "constraint":
        return _strings(spec[3]) and _strings(spec[4])
    if tag in ("index",):
        return _strings(spec[3])
    if tag == "data":
        return _strings(spec[2]) and all(_strings(w) and w for w in spec[3])
    return True
