"""Shared by the lock and rewrite safety rules (require-concurrent-index, volatile-default,
set-not-null, ...): names for messages, the wording of a lock, explicit transaction blocks, and
what the schema model (``migcheck.analysis.schema``) says about a table before a statement: is it
new (created earlier in the file or the change set), its column types, its NOT NULL checks.

Every lock and rewrite claim comes from ``migcheck.analysis.locks``; this module only words it.
The functions that ask the model keep the names and signatures the rules have always called.
"""

from __future__ import annotations

from ..model import Statement, walk
from . import locks, pg, safety, schema
from .destructive import ident, names, relation
from .specs import TypeKey, binary_coercible, type_key  # noqa: F401  (re-exported for the rules)


def version(ctx) -> int:
    return ctx.config.postgres_version or 15


def unqualified(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def where(st: Statement) -> str:
    if st.via:
        return f" (run by {st.via})"
    return " (inside a DO block)" if st.inner else ""


def article(mode: str) -> str:
    return "an" if mode[:1] in "AEIOU" else "a"


def lock_words(lock: locks.Lock, relation_name: str | None = None) -> str:
    """``takes an ACCESS EXCLUSIVE lock on t, which blocks everything: ...``"""
    rel = relation_name or names(lock.relation.split("."))
    return f"takes {article(lock.mode)} {lock.mode} lock on {rel}, which blocks {lock.blocks}"


def lock_on(st: Statement, table: str, version: int) -> locks.Lock | None:
    """The lock ``st`` takes on ``table`` (compared unqualified), per the lock model."""
    want = unqualified(table)
    for lk in locks.statement_locks(st, version):
        if unqualified(lk.relation) == want:
            return lk
    return None


def is_existing(f, st: Statement, table: str) -> bool:
    """False for a table created earlier in the same file or in an earlier migration of the
    change set (new: nothing to lock out), at the top level or in a DO block (the schema model)."""
    if not table:
        return False
    return not schema.is_new(f, st, table)


def is_empty(f, st: Statement, table: str) -> str | None:
    """Why ``table`` is provably empty just before ``st`` (the schema model), or None."""
    return schema.empty(f, st, table)


def alter_table_cmds(st: Statement):
    """``(subtype, AlterTableCmd fields)`` of an ALTER TABLE on a table (not an index, view, ...)."""
    if st.kind != "AlterTableStmt" or st.node.get("objtype", "OBJECT_TABLE") not in (
        "OBJECT_TABLE",
        "OBJECT_FOREIGN_TABLE",
    ):
        return
    for cmd in st.node.get("cmds", ()):
        c = cmd.get("AlterTableCmd")
        if c:
            yield c.get("subtype", ""), c


def table_of(st: Statement) -> str:
    return pg.rangevar(st.node.get("relation"))


def table_sql(st: Statement) -> str:
    """The statement's table as SQL would spell it (quoted where needed)."""
    return relation(st.node.get("relation"))


# --- explicit transaction blocks -----------------------------------------------------------


def blocks(f) -> list[int | None]:
    """Per top-level statement: the number of the explicit BEGIN ... COMMIT block it runs in
    (the BEGIN and the COMMIT included), or None outside any block. A statement in a file without
    BEGIN runs in autocommit mode as far as migcheck can tell (runners that wrap a whole file in
    one transaction are not visible in the SQL)."""
    cached = getattr(f, "_locking_blocks", None)
    if cached is not None:
        return cached
    out: list[int | None] = []
    current: int | None = None
    count = 0
    for st in f.statements:
        if pg.is_begin(st):
            if current is None:
                count += 1
                current = count
            out.append(current)
        elif pg.is_commit(st) or pg.is_rollback(st):
            out.append(current)
            current = None
        else:
            out.append(current)
    f._locking_blocks = out
    return out


def block_of(f, st: Statement) -> int | None:
    i = safety.context(f).index(st)
    b = blocks(f)
    return b[i] if i < len(b) else None


def same_transaction(f, a: Statement, b: Statement) -> bool:
    """Do ``a`` and ``b`` run in one transaction: the same explicit block, or the same DO block
    (a DO statement is atomic even in autocommit mode)?"""
    if a.parent is not None and a.parent is b.parent:
        return True
    ba = block_of(f, a)
    return ba is not None and ba == block_of(f, b)


# --- types ---------------------------------------------------------------------------------

_DISPLAY = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bpchar": "char",
    "bool": "boolean",
    "timestamptz": "timestamptz",
}


def type_sql(key: TypeKey | None) -> str:
    if key is None:
        return "?"
    name, mods, array = key
    text = _DISPLAY.get(name, name)
    if mods:
        text += "(" + ",".join(str(m) for m in mods) + ")"
    return text + ("[]" if array else "")


# --- what earlier migrations of the directory said -----------------------------------------


def before(f, ctx, st: Statement, *names: str) -> schema.Catalog:
    """The catalog just before ``st`` for the tables and indexes ``names``: the schema model over
    the earlier migrations that name them, then the file (reads the project: the result depends
    on the other files)."""
    return schema.before(ctx.project, f, st, names)


def history(f, ctx, st: Statement, *, table: str | None = None, index: str | None = None) -> list[Statement]:
    """Statements that ran before ``st``: the earlier migrations that name ``table`` or ``index``
    (or every earlier one), then ``f`` up to ``st`` (DO block bodies included). Kept for rules
    that walk statements themselves; the schema model (``before``) answers what they computed."""
    wanted = {unqualified(n).lower() for n in (table, index) if n}
    project = getattr(ctx, "project", None)
    earlier = schema.relevant_earlier(project, f, wanted) if wanted else schema.earlier(project, f)
    out: list[Statement] = [s for m in earlier if not m.read_problem for s in m.all_statements]
    for s in f.all_statements:
        if s is st:
            break
        out.append(s)
    return out


def column_type(f, ctx, st: Statement, table: str, column: str) -> TypeKey | None:
    """The type the column has just before ``st``, as far as the migrations show (None when
    unknown: created outside the migrations, or changed in a way migcheck does not follow)."""
    t = before(f, ctx, st, table).table(table)
    col = t.columns.get(column) if t is not None else None
    return col.type if col is not None else None


def rewriting_type_changes(f, ctx, st: Statement) -> list[tuple[str, TypeKey | None, TypeKey | None, bool]]:
    """``(column, old type, new type, has USING)`` of each ALTER COLUMN ... TYPE of ``st`` that
    rewrites the table (``schema.rewriting_type_changes``; reads the project for the old types)."""
    return schema.rewriting_type_changes(ctx.project, f, st, version(ctx))


def validated_not_null_check(f, ctx, st: Statement, table: str, column: str) -> str | None:
    """The name of a validated ``CHECK (column IS NOT NULL)`` on ``table`` in force just before
    ``st`` (from earlier migrations of the directory or earlier in the file), else None."""
    t = before(f, ctx, st, table).table(table)
    c = t.validated_not_null_check(column) if t is not None else None
    return c.name if c is not None else None


def string_constants(node) -> set[str]:
    """Every string constant in a parse tree (not identifiers, not function bodies)."""
    out = set()
    for kind, fields in walk(node):
        if kind == "A_Const" and "sval" in fields:
            out.add(fields["sval"].get("sval", ""))
    return out


# --- ADD COLUMN ----------------------------------------------------------------------------


def add_columns(st: Statement):
    """``ColumnDef`` fields of every ``ADD COLUMN`` of an ALTER TABLE."""
    for sub, c in alter_table_cmds(st):
        cd = (c.get("def") or {}).get("ColumnDef")
        if sub == "AT_AddColumn" and cd:
            yield cd


def constraints(cd: dict) -> list[dict]:
    return [c["Constraint"] for c in cd.get("constraints", ()) or () if "Constraint" in c]


def contypes(cd: dict) -> set[str]:
    return {c.get("contype", "") for c in constraints(cd)}


def default_expr(cd: dict):
    """The DEFAULT expression of a column definition; None without one (or with DEFAULT NULL)."""
    for c in constraints(cd):
        if c.get("contype") == "CONSTR_DEFAULT":
            expr = c.get("raw_expr")
            if isinstance(expr, dict) and expr.get("A_Const", {}).get("isnull"):
                return None
            return expr
    return None


def serial_type(cd: dict) -> str | None:
    names_ = [t.lower() for t in pg.strings(cd.get("typeName", {}).get("names"))]
    return names_[-1] if names_ and names_[-1] in locks.SERIAL_TYPES else None


def stored_generated(cd: dict) -> bool:
    return any(c.get("contype") == "CONSTR_GENERATED" and c.get("generated_kind", "s") != "v" for c in constraints(cd))


def fills_every_row(cd: dict) -> str | None:
    """serial / identity: the column gets a sequence value in every existing row."""
    s = serial_type(cd)
    if s:
        return s
    if "CONSTR_IDENTITY" in contypes(cd):
        return "GENERATED AS IDENTITY"
    return None


def column_sql(cd: dict) -> str:
    """``name type`` of a column definition, for messages."""
    return f"{ident(cd.get('colname', '?'))} {type_sql(type_key(cd.get('typeName')))}"


def volatile_function(expr) -> str | None:
    """The first known volatile function ``expr`` calls."""
    for kind, fields in walk({"e": expr}):
        if kind == "FuncCall":
            name = (pg.strings(fields.get("funcname"))[-1:] or [""])[0].lower()
            if name in locks.VOLATILE_FUNCTIONS:
                return name
    return None


def created_in_file(f, st: Statement, name: str) -> bool:
    """Was the table, view or materialized view ``name`` created earlier in the file (or in an
    earlier migration of the change set: not deployed yet either)?"""
    return schema.is_new(f, st, name, schema.RELATION_KINDS)


class _OnNewTables:
    """``name in ...``: was index ``name`` built on a table this file or change set created (the
    schema model, ``schema.index_on_new_table``)?"""

    __slots__ = ("f", "st")

    def __init__(self, f, st: Statement):
        self.f, self.st = f, st

    def __contains__(self, name: object) -> bool:
        return schema.index_on_new_table(self.f, self.st, str(name))


def indexes_of_new_tables(f, st: Statement) -> _OnNewTables:
    """The indexes built earlier (before ``st``) on tables created earlier in the file or the
    change set: new and small, nothing waits for them (``in`` asks the schema model)."""
    return _OnNewTables(f, st)


def index_table(f, ctx, st: Statement, index: str) -> str | None:
    """The table of index ``index`` as the migrations before ``st`` show it (None when unknown)."""
    idx = before(f, ctx, st, index).index(index)
    # (a CREATE INDEX's: the index behind a constraint cannot be dropped with DROP INDEX)
    return idx.shown if idx is not None and idx.table and not idx.constraint else None
