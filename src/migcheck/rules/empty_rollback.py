from .. import layout, summaries
from ..analysis import pg
from ..analysis import rollback as ri
from ..registry import rule
from ..analysis import relations as rel


def _tracking_only(st) -> bool:
    """A statement that only records the revert in the migration tracking table
    (`UPDATE _migrations.schema_migrations SET reverted_at = ...`, `CALL _migrations.log_...`)."""
    n = st.node
    if st.kind in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"):
        rv = n.get("relation") or {}
        return rv.get("schemaname") in rel.TRACKING_SCHEMAS or rv.get("relname") in rel.TRACKING_TABLES
    if st.kind == "CallStmt":
        names = pg.strings(n.get("funccall", {}).get("funcname"))
        return len(names) > 1 and names[0] in rel.TRACKING_SCHEMAS
    return False


def _tracking_writes(statements) -> set[str]:
    """The tracking tables (``relname``) the INSERT/UPDATE/DELETE/MERGE statements write."""
    return {(st.node.get("relation") or {}).get("relname", "") for st in statements
            if st.kind in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt") and _tracking_only(st)}


def _what_it_changes(m) -> tuple[bool, frozenset[str]]:
    """(does migration ``m`` change anything beyond the tracking bookkeeping, the tracking tables
    it writes); memoised on its bytes (``migcheck.summaries``: a pool frees the trees it parsed)."""
    if m.read_problem or m.problems:
        return True, frozenset()  # what did not parse may be the change
    stmts = m.all_statements
    return (any(pg.is_change(st) and not _tracking_only(st) for st in stmts),
            frozenset(_tracking_writes(stmts)))


def _nothing_to_undo(migration, rollback) -> bool:
    """The migration changed nothing (comments, queries, settings, tracking bookkeeping only), or
    the rollback's DML on the tracking table undoes the migration's own writes to that table."""
    changes, writes = summaries.summary(migration, "changes", _what_it_changes)
    if not changes:
        return True
    undone = _tracking_writes(rollback.statements)
    return bool(undone) and undone <= writes


def _undoes(f) -> bool:
    return any(pg.is_change(st) and not _tracking_only(st) for st in f.statements)


@rule("empty-rollback", severity="error", group="rollback", kinds=("rollback",),
      summary="The rollback file has no statement that undoes anything.")
def check(f, ctx):
    if f.problems:
        return  # parse-error reports it; what did not parse may be the undo
    stmts = f.statements
    if _undoes(f):
        return
    if layout.is_preset(ctx.config) and ctx.project is not None and layout.runner_layout(ctx.config).placeholder(f):
        return  # pop/popx: the no-op that keeps a version to other databases (docs/presets.md)
    u = ri.unit(ctx.project, f) if f.version is not None else None
    if u is not None:  # one part of a migration made of several files: the parts' rollbacks together
        if any(_undoes(r) for r in u[1] if not r.problems):
            return
        if f is not next((r for r in sorted(u[1], key=lambda r: r.name) if ctx.project.is_reported(r)), f):
            return  # said once, on the unit's first rollback file
    if not stmts:
        what = "is empty" if not f.text.strip() else "holds only comments"
    elif any(_tracking_only(st) for st in stmts):
        what = "only records the revert in the migration tracking table"
    else:
        kinds = []
        if any(st.kind == "TransactionStmt" for st in stmts):
            kinds.append("BEGIN/COMMIT")
        if any(pg.is_session_setting(st) for st in stmts):
            kinds.append("SET")
        if any(pg.is_query_only(st) for st in stmts):
            kinds.append("queries")
        listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
        what = f"holds only {listed}"
    migration = None
    if f.version is not None and f.mdir in ctx.project.groups:
        migration = rel.pairing(ctx.project, f.mdir).versions.get(f.version)
    if migration is not None and _nothing_to_undo(migration, f):
        return
    undo = f"`{migration.name}`" if migration is not None else "its migration"
    yield f.hit(f"the rollback file {what}: running it undoes nothing",
                f"Write the statements that undo {undo} (DROP ... IF EXISTS what it created, in BEGIN/COMMIT). "
                "If there is truly nothing to undo, record why: "
                "`-- migcheck: ignore-file empty-rollback -- <why nothing needs undoing>`.",
                line=1, column=1)
