"""Shared by the lock and rewrite safety rules (require-concurrent-index, volatile-default,
set-not-null, ...): names for messages, the wording of a lock, explicit transaction blocks, and
what earlier migrations of the same directory say about a table (column types, NOT NULL checks).

Every lock and rewrite claim comes from ``migcheck.analysis.locks``; this module only words it.
"""

from __future__ import annotations

import weakref

from . import locks, pg, safety
from .. import summaries
from ..model import Statement, walk
from .destructive import ident, names, relation  # noqa: F401  (re-exported for the rules)


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


def _new_in_do_blocks(f) -> dict[int, frozenset[str]]:
    """Per statement (by id): tables created earlier in the file by statements run in DO blocks,
    which the shared safety context (top-level statements only) does not see."""
    cached = getattr(f, "_locking_new_inner", None)
    if cached is not None:
        return cached
    out: dict[int, frozenset[str]] = {}
    created: set[str] = set()
    for s in f.all_statements:
        out[id(s)] = frozenset(created)
        if not s.inner:
            if s.kind == "DropStmt" and s.node.get("removeType") == "OBJECT_TABLE":
                created -= {name for _, name, _ in pg.drop_keys(s)}
            continue
        key = pg.create_key(s)
        if key and key[0] in ("table", "materialized view", "foreign table"):
            created.add(key[1])
        elif s.kind == "CreateTableAsStmt":
            rel = s.node.get("into", {}).get("rel", {}).get("relname")
            if rel:
                created.add(rel)
    f._locking_new_inner = out
    return out


def is_existing(f, st: Statement, table: str) -> bool:
    """False for a table created earlier in the same file (new and empty: nothing to lock out),
    at the top level or in a DO block."""
    if not table:
        return False
    if safety.context(f).is_new_table(st, table):
        return False
    return unqualified(table) not in _new_in_do_blocks(f).get(id(st), frozenset())


def alter_table_cmds(st: Statement):
    """``(subtype, AlterTableCmd fields)`` of an ALTER TABLE on a table (not an index, view, ...)."""
    if st.kind != "AlterTableStmt" or st.node.get("objtype", "OBJECT_TABLE") not in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE"):
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

def type_key(type_name: dict | None) -> tuple[str, tuple, bool] | None:
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


_DISPLAY = {"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
            "float8": "double precision", "bpchar": "char", "bool": "boolean", "timestamptz": "timestamptz"}


def type_sql(key: tuple[str, tuple, bool] | None) -> str:
    if key is None:
        return "?"
    name, mods, array = key
    text = _DISPLAY.get(name, name)
    if mods:
        text += "(" + ",".join(str(m) for m in mods) + ")"
    return text + ("[]" if array else "")


def binary_coercible(old, new) -> bool:
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


# --- what earlier migrations of the directory said -----------------------------------------

def earlier_migrations(f, ctx) -> list:
    """Migrations of ``f``'s directory that run before it. Only for files named with a version
    (the naming pattern orders them); otherwise the order is unknown and nothing is returned."""
    if f.kind != "migration" or not f.version:
        return []
    project = getattr(ctx, "project", None)
    group = project.groups.get(f.mdir) if project is not None else None
    if group is None:
        return []
    return [m for m in group.migrations if m.version and m.version < f.version and m is not f]


# The only statement kinds the readers of ``history`` look at (index_table, column_type,
# validated_not_null_check, prefer_bigint, _types.primary_key): a reader that needs another kind
# from the earlier migrations adds it here.
HISTORY_KINDS = frozenset({"CreateStmt", "AlterTableStmt", "RenameStmt", "DropStmt", "IndexStmt"})


def _history_statements(m) -> tuple[Statement, ...]:
    """A migration's statements of ``HISTORY_KINDS`` (DO block bodies included), memoised on its
    bytes (``migcheck.summaries``): a long-running process parses an unchanged sibling once."""
    if m.read_problem:
        return ()
    return tuple(s for s in m.all_statements if s.kind in HISTORY_KINDS)


def history(f, ctx, st: Statement, *, table: str | None = None, index: str | None = None) -> list[Statement]:
    """Statements that ran before ``st``: earlier migrations of the directory (only their
    statements of ``HISTORY_KINDS``), then ``f`` up to ``st`` (DO block bodies included).

    A reader that follows one ``table`` (or one ``index``) says so: then only the earlier
    migrations whose text names it, or a name it had before a rename, are parsed (``_naming``):
    the others cannot change what the reader computes, and a directory of thousands of
    migrations is not parsed for one ALTER COLUMN ... TYPE."""
    out: list[Statement] = []
    earlier = earlier_migrations(f, ctx)
    if index is not None:
        earlier = _naming_index(earlier, unqualified(index))
    elif table is not None:
        earlier, _ = _naming(earlier, {unqualified(table).lower()}, "OBJECT_TABLE")
    for m in earlier:
        out.extend(_statements_of(m))
    for s in f.all_statements:
        if s is st:
            break
        out.append(s)
    return out


def _statements_of(m) -> tuple[Statement, ...]:
    return summaries.summary(m, "history-statements", _history_statements)


_LOWER: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _lowered(m) -> str:
    text = _LOWER.get(m)
    if text is None:
        loaded = "_loaded" in m.__dict__
        text = _LOWER[m] = m.text.lower()
        if not loaded:  # read for this only (its own check is over): one copy of the text, not three
            for name in ("_loaded", "data"):
                m.__dict__.pop(name, None)
    return text


def _renames(m, kind: str):
    """``(old name, new name)`` of the renames of ``kind`` (OBJECT_TABLE/OBJECT_INDEX) in ``m``."""
    for s in _statements_of(m):
        n = s.node
        if s.kind == "RenameStmt" and n.get("renameType") == kind and n.get("relation"):
            yield n["relation"].get("relname", ""), n.get("newname", "")


def _naming(migrations: list, names: set[str], kind: str) -> tuple[list, set[str]]:
    """The migrations (in order) whose text names one of ``names`` (lower case) or a name the
    object had before a rename of ``kind`` into one of them, found walking back from the last;
    and those names. Identifiers are compared in lower case: a superset of the exact matches."""
    keep = []
    for m in reversed(migrations):
        text = _lowered(m)
        if not any(n in text for n in names):
            continue
        keep.append(m)
        for old, new in _renames(m, kind):
            if new.lower() in names and old:
                names.add(old.lower())
    keep.reverse()
    return keep, names


def _naming_index(migrations: list, index: str) -> list:
    """For an index: the migrations naming it (or its names before renames), and, walking
    forward, those naming the table it was created on or that table's later names."""
    lineage, idx_names = _naming(migrations, {index.lower()}, "OBJECT_INDEX")
    tables = {unqualified(pg.rangevar(s.node.get("relation"))).lower()
              for m in lineage for s in _statements_of(m)
              if s.kind == "IndexStmt" and (s.node.get("idxname") or "").lower() in idx_names}
    tables.discard("")
    keep = set(map(id, lineage))
    if tables:
        for m in migrations:
            text = _lowered(m)
            if not any(t in text for t in tables):
                continue
            keep.add(id(m))
            for old, new in _renames(m, "OBJECT_TABLE"):
                if old.lower() in tables and new:
                    tables.add(new.lower())
    return [m for m in migrations if id(m) in keep]


def _col_types_from_create(n: dict, types: dict) -> None:
    table = n.get("relation", {}).get("relname", "")
    cols = types[table] = {}  # a new table: its columns replace whatever was known under the name
    for el in n.get("tableElts", ()) or ():
        cd = el.get("ColumnDef")
        if cd and cd.get("colname"):
            cols[cd["colname"]] = type_key(cd.get("typeName"))


def column_type(f, ctx, st: Statement, table: str, column: str):
    """The type the column has just before ``st``, as far as the migrations show (None when
    unknown: created outside the migrations, or changed in a way migcheck does not follow)."""
    types: dict[str, dict[str, object]] = {}  # table -> column -> type: each step O(1), not a scan of all columns
    for s in history(f, ctx, st, table=table):
        k, n = s.kind, s.node
        if k == "CreateStmt":
            _col_types_from_create(n, types)
        elif k == "AlterTableStmt":
            t = unqualified(pg.rangevar(n.get("relation")))
            for sub, c in alter_table_cmds(s):
                d = c.get("def") or {}
                if sub == "AT_AddColumn" and "ColumnDef" in d:
                    cd = d["ColumnDef"]
                    types.setdefault(t, {})[cd.get("colname", "")] = type_key(cd.get("typeName"))
                elif sub == "AT_AlterColumnType" and "ColumnDef" in d:
                    types.setdefault(t, {})[c.get("name", "")] = type_key(d["ColumnDef"].get("typeName"))
                elif sub == "AT_DropColumn":
                    types.get(t, {}).pop(c.get("name", ""), None)
        elif k == "RenameStmt" and n.get("relation"):
            t = unqualified(pg.rangevar(n.get("relation")))
            if n.get("renameType") == "OBJECT_COLUMN":
                cols = types.get(t)
                if cols is not None and n.get("subname") in cols:
                    cols[n.get("newname", "")] = cols.pop(n.get("subname"))
            elif n.get("renameType") == "OBJECT_TABLE" and t in types:
                moved = types.pop(t)
                types.setdefault(n.get("newname", ""), {}).update(moved)
        elif k == "DropStmt" and n.get("removeType") == "OBJECT_TABLE":
            for _, name, _ in pg.drop_keys(s):
                types.pop(name, None)
    return types.get(unqualified(table), {}).get(column)


def not_null_columns(expr: dict | None) -> set[str]:
    """Columns a CHECK expression proves NOT NULL: ``col IS NOT NULL``, alone or AND-ed."""
    out: set[str] = set()
    if not expr:
        return out
    test = expr.get("NullTest")
    if test is not None:
        if test.get("nulltesttype") == "IS_NOT_NULL":
            ref = test.get("arg", {}).get("ColumnRef")
            if ref:
                cols = pg.strings(ref.get("fields"))
                if cols:
                    out.add(cols[-1])
        return out
    b = expr.get("BoolExpr")
    if b is not None and b.get("boolop") == "AND_EXPR":
        for arg in b.get("args", ()):
            out |= not_null_columns(arg)
    return out


def validated_not_null_check(f, ctx, st: Statement, table: str, column: str) -> str | None:
    """The name of a validated ``CHECK (column IS NOT NULL)`` on ``table`` in force just before
    ``st`` (from earlier migrations of the directory or earlier in the file), else None."""
    t = unqualified(table)
    checks: dict[str, tuple[set[str], bool]] = {}  # constraint name -> (columns, validated)
    for s in history(f, ctx, st, table=table):
        k, n = s.kind, s.node
        if k == "CreateStmt" and n.get("relation", {}).get("relname") == t:
            checks = {}
            for el in n.get("tableElts", ()) or ():
                cons = [el.get("Constraint")] if "Constraint" in el else [
                    c.get("Constraint") for c in el.get("ColumnDef", {}).get("constraints", ())]
                for con in cons:
                    if con and con.get("contype") == "CONSTR_CHECK":
                        cols = not_null_columns(con.get("raw_expr"))
                        if cols:
                            checks[con.get("conname") or f"{t}_{'_'.join(sorted(cols))}_check"] = (cols, True)
        elif k == "AlterTableStmt" and unqualified(pg.rangevar(n.get("relation"))) == t:
            for sub, c in alter_table_cmds(s):
                d = c.get("def") or {}
                con = d.get("Constraint")
                if sub == "AT_AddConstraint" and con and con.get("contype") == "CONSTR_CHECK":
                    cols = not_null_columns(con.get("raw_expr"))
                    if cols:
                        name = con.get("conname") or f"{t}_{'_'.join(sorted(cols))}_check"
                        checks[name] = (cols, not con.get("skip_validation"))
                elif sub == "AT_ValidateConstraint" and c.get("name") in checks:
                    checks[c["name"]] = (checks[c["name"]][0], True)
                elif sub == "AT_DropConstraint":
                    checks.pop(c.get("name"), None)
        elif k == "DropStmt" and n.get("removeType") == "OBJECT_TABLE":
            if any(name == t for _, name, _ in pg.drop_keys(s)):
                checks = {}
    for name, (cols, valid) in checks.items():
        if valid and column in cols:
            return name
    return None


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
    """Was the table, view or materialized view ``name`` created earlier in the file?"""
    want = unqualified(name)
    if not is_existing(f, st, name):
        return True
    top = st.parent or st
    for s in f.statements:
        if s is top:
            return False
        key = pg.create_key(s)
        if key and key[0] in ("view", "materialized view") and key[1] == want:
            return True
    return False


def indexes_of_new_tables(f, st: Statement) -> set[str]:
    """Indexes built earlier in the file (before ``st``) on tables created earlier in the file:
    new and small, nothing waits for them."""
    ctx = safety.context(f)
    out = set()
    for s in f.all_statements:
        if s is st:
            break
        if s.kind == "IndexStmt" and s.node.get("idxname") and ctx.is_new_table(st, table_of(s)):
            out.add(s.node["idxname"])
    return out


def index_table(f, ctx, st: Statement, index: str) -> str | None:
    """The table of index ``index`` as the migrations before ``st`` show it (None when unknown)."""
    tables: dict[str, str] = {}
    for s in history(f, ctx, st, index=index):
        k, n = s.kind, s.node
        if k == "IndexStmt" and n.get("idxname"):
            tables[n["idxname"]] = pg.rangevar(n.get("relation"))
        elif k == "RenameStmt" and n.get("relation"):
            old = n["relation"].get("relname", "")
            if n.get("renameType") == "OBJECT_INDEX" and old in tables:
                tables[n.get("newname", "")] = tables.pop(old)
            elif n.get("renameType") == "OBJECT_TABLE":
                for idx, t in list(tables.items()):
                    if unqualified(t) == old:
                        tables[idx] = n.get("newname", "")
        elif k == "DropStmt" and n.get("removeType") == "OBJECT_INDEX":
            for _, name, _ in pg.drop_keys(s):
                tables.pop(name, None)
    return tables.get(unqualified(index))
