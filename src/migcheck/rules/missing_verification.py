from ..analysis import pg
from ..analysis import relations as rel
from ..registry import rule

# Changes that are not schema changes: data, maintenance, session and bookkeeping statements.
_NOT_SCHEMA = frozenset(
    {
        "InsertStmt",
        "UpdateStmt",
        "DeleteStmt",
        "MergeStmt",
        "CallStmt",
        "CopyStmt",
        "LockStmt",
        "VacuumStmt",
        "RefreshMatViewStmt",
        "CheckPointStmt",
        "DoStmt",
        "NotifyStmt",
        "ListenStmt",
        "UnlistenStmt",
        "DiscardStmt",
        "CommentStmt",
        "ClusterStmt",
        "ReindexStmt",
        "PrepareStmt",
        "ExecuteStmt",
        "DeallocateStmt",
        "LoadStmt",
    }
)
# Functions that read the catalogs: `SELECT to_regclass('public.leads')` verifies as well.
_CATALOG_FUNCTIONS = frozenset(
    {
        "to_regclass",
        "to_regtype",
        "to_regproc",
        "to_regprocedure",
        "to_regnamespace",
        "to_regrole",
        "to_regoper",
        "to_regoperator",
        "to_regcollation",
        "to_regtypemod",
        "obj_description",
        "col_description",
        "format_type",
    }
)


def is_schema_change(st) -> bool:
    return pg.is_change(st) and st.kind not in _NOT_SCHEMA


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def suggestion(st) -> str | None:
    """A query that shows whether ``st`` took effect, for the help text."""
    k, n = st.kind, st.node
    if k == "AlterTableStmt":
        table = (n.get("relation") or {}).get("relname", "")
        for c in n.get("cmds", ()):
            cmd = c.get("AlterTableCmd", {})
            if cmd.get("subtype") == "AT_AddColumn":
                col = cmd.get("def", {}).get("ColumnDef", {}).get("colname", "")
                return (
                    f"SELECT column_name, data_type FROM information_schema.columns "
                    f"WHERE table_name = {_q(table)} AND column_name = {_q(col)};"
                )
            if cmd.get("subtype") == "AT_AddConstraint":
                name = cmd.get("def", {}).get("Constraint", {}).get("conname")
                if name:
                    return f"SELECT conname, convalidated FROM pg_constraint WHERE conname = {_q(name)};"
        return f"SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = {_q(table)};"
    if k in ("CreateStmt", "CreateTableAsStmt"):
        rv = n.get("relation") or (n.get("into") or {}).get("rel") or {}
        return f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = {_q(rv.get('relname', ''))};"
    if k == "ViewStmt":
        return f"SELECT table_name FROM information_schema.views WHERE table_name = {_q(n.get('view', {}).get('relname', ''))};"
    if k == "IndexStmt" and n.get("idxname"):
        return (
            f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = {_q(n.get('relation', {}).get('relname', ''))} "
            f"AND indexname = {_q(n['idxname'])};"
        )
    if k == "CreateFunctionStmt":
        return f"SELECT proname FROM pg_proc WHERE proname = {_q(rel.last(pg.strings(n.get('funcname'))))};"
    if k == "CreateTrigStmt":
        return f"SELECT tgname, tgenabled FROM pg_trigger WHERE tgname = {_q(n.get('trigname', ''))};"
    if k == "CreatePolicyStmt":
        return (
            f"SELECT policyname, cmd FROM pg_policies WHERE tablename = {_q(n.get('table', {}).get('relname', ''))} "
            f"AND policyname = {_q(n.get('policy_name', ''))};"
        )
    return None


# A DO block that verifies: it queries and raises (or asserts), and runs nothing else.
_DO_CHANGES = frozenset(
    {
        "PLpgSQL_stmt_dynexecute",
        "PLpgSQL_stmt_dynfors",
        "PLpgSQL_stmt_call",
        "PLpgSQL_stmt_commit",
        "PLpgSQL_stmt_rollback",
    }
)


def _checking_do(st, text) -> list:
    tree = rel.do_tree(st, text)
    if tree is None:
        return []
    kinds = rel.plpgsql_kinds(tree)
    if kinds & _DO_CHANGES or not kinds & {"PLpgSQL_stmt_raise", "PLpgSQL_stmt_assert"}:
        return []
    return rel.plpgsql_trees(tree)


def _verifies(trees, changed: set[str], functions: set[str]) -> bool:
    for tree in trees:
        for rv in rel.rangevars(tree):
            if rel.is_catalog(rv) or rv.get("relname") in changed:
                return True
        for fn in rel.func_calls(tree):
            if fn in _CATALOG_FUNCTIONS or fn in functions or fn.startswith(("pg_", "has_")):
                return True
    return False


@rule(
    "missing-verification",
    severity="info",
    group="convention",
    kinds=("migration",),
    enabled=False,
    summary="Schema changes with no verifying query before COMMIT (the template's VERIFICATION section).",
)
def check(f, ctx):
    tops = f.statements
    index = {id(st): i for i, st in enumerate(tops)}
    schema = [st for st in f.all_statements if is_schema_change(st)]
    if not schema:
        return
    fo = rel.file_objects([st for st in f.all_statements if st.kind != "DoStmt"])
    changed: set[str] = set()
    for st in schema:
        changed.update(rel.touch(st, fo).changed)
        key = pg.create_key(st)
        if key:
            changed.add(key[1])
    first = index[id(schema[0].parent or schema[0])]
    end = next((i for i in range(first + 1, len(tops)) if pg.is_commit(tops[i])), len(tops))
    for st in tops[first + 1 : end]:
        if pg.is_query_only(st) and st.kind == "SelectStmt":
            trees = [st.node]
        elif st.kind == "DoStmt" and not any(s.parent is st and pg.is_change(s) for s in f.all_statements):
            trees = _checking_do(st, f.text)
        else:
            continue
        if _verifies(trees, changed, fo.functions):
            return
    at = tops[end] if end < len(tops) else schema[-1]
    query = next((q for q in map(suggestion, schema) if q), None)
    where = "before COMMIT" if end < len(tops) else "after the changes"
    help = (
        f"Add a VERIFICATION section {where} with a query that reads what the migration changed, e.g. `{query}`"
        if query
        else f"Add a VERIFICATION section {where}: a SELECT on the changed objects or on "
        "information_schema / pg_catalog that shows the change took effect."
    )
    yield f.hit(
        "the migration changes the schema but runs no query to verify it before COMMIT "
        "(the template's VERIFICATION section)",
        help,
        at,
    )
