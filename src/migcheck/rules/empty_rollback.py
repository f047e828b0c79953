import posixpath
import weakref

from .. import layout, summaries
from ..analysis import pg
from ..analysis import relations as rel
from ..analysis import rollback as ri
from ..registry import rule


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
    return {
        (st.node.get("relation") or {}).get("relname", "")
        for st in statements
        if st.kind in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt") and _tracking_only(st)
    }


# Statements that leave no schema or data change behind for a rollback to undo: planner
# statistics and maintenance (ANALYZE, VACUUM, CHECKPOINT, REINDEX rebuilds an index as it was),
# locks, and what lasts only for the session (LOAD, DISCARD, LISTEN/NOTIFY, PREPARE).
_MAINTENANCE = frozenset(
    {
        "VacuumStmt",
        "CheckPointStmt",
        "ReindexStmt",
        "LockStmt",
        "LoadStmt",
        "DiscardStmt",
        "ListenStmt",
        "UnlistenStmt",
        "NotifyStmt",
        "PrepareStmt",
        "DeallocateStmt",
    }
)


def _what_it_changes(m) -> tuple[bool, frozenset[str]]:
    """(does migration ``m`` change anything beyond the tracking bookkeeping and maintenance, the
    tracking tables it writes); memoised on its bytes (``migcheck.summaries``: a pool frees the
    trees it parsed)."""
    if m.read_problem or m.problems:
        return True, frozenset()  # what did not parse may be the change
    stmts = m.all_statements
    return (
        any(pg.is_change(st) and not _tracking_only(st) and st.kind not in _MAINTENANCE for st in stmts),
        frozenset(_tracking_writes(stmts)),
    )


def _nothing_to_undo(migration, rollback) -> bool:
    """The migration changed nothing (comments, queries, settings, maintenance such as ANALYZE,
    tracking bookkeeping only), or
    the rollback's DML on the tracking table undoes the migration's own writes to that table."""
    changes, writes = summaries.summary(migration, "changes", _what_it_changes)
    if not changes:
        return True
    undone = _tracking_writes(rollback.statements)
    return bool(undone) and undone <= writes


def _undoes(f) -> bool:
    return any(pg.is_change(st) and not _tracking_only(st) for st in f.statements)


def _may_undo(r) -> bool:
    """Does rollback ``r`` undo something (or not parse: what did not parse may be the undo)?
    Memoised on its bytes (``migcheck.summaries``)."""
    return bool(r.read_problem or r.problems) or _undoes(r)


def _without_downs(ctx, f):
    """The rollbacks of ``f``'s directory, in name order, when the runner does not require them
    (``Preset.downs == "optional"`` and no ``require-rollback = true``) and none of them undoes
    anything: such a directory is a project that writes no downs (dbmate's `-- migrate:down` left
    empty in every file), said once like missing down files (missing-rollback-file). None otherwise."""
    from .. import presets

    config, project = ctx.config, ctx.project
    if project is None or not layout.is_preset(config) or config.rollback_required():
        return None
    if presets.get(config.preset).downs != "optional" or f.mdir not in project.groups:
        return None
    per_project = _WITHOUT_DOWNS.setdefault(project, {})  # one answer per directory and run, not per file
    if f.mdir not in per_project:
        rollbacks = project.groups[f.mdir].rollbacks
        empty = len(rollbacks) >= 2 and not any(summaries.summary(r, "may-undo", _may_undo) for r in rollbacks)
        per_project[f.mdir] = rollbacks if empty else None
    return per_project[f.mdir]


_WITHOUT_DOWNS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@rule(
    "empty-rollback",
    severity="error",
    group="rollback",
    kinds=("rollback",),
    summary="The rollback file has no statement that undoes anything.",
)
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
    section = (
        layout.runner_layout(ctx.config)
        if getattr(f, "section_of", None) is not None and layout.is_preset(ctx.config)
        else None
    )  # goose's and dbmate's down section of a file
    if not stmts:
        body = section.down_re.sub("", f.text, count=1) if section is not None else f.text  # (not its marker)
        what = "is empty" if not body.strip() else "holds only comments"
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
    together = _without_downs(ctx, f)
    if together is not None:
        yield from _once(ctx, f, together)
        return
    undo = f"`{migration.name}`" if migration is not None else "its migration"
    thing = f"the `{section.down_marker}` section" if section is not None else "the rollback file"
    yield f.hit(
        f"{thing} {what}: running it undoes nothing",
        f"Write the statements that undo {undo} (DROP ... IF EXISTS what it created, in BEGIN/COMMIT). "
        "If there is truly nothing to undo, record why: "
        "`-- migcheck: ignore-file empty-rollback -- <why nothing needs undoing>`.",
        line=1,
        column=1,
    )


def _once(ctx, f, rollbacks):
    """One finding for a directory whose rollbacks are all empty, on its first reported one whose
    migration changes something (``f`` or nothing: each file's check asks the same)."""
    from .. import presets

    project = ctx.project
    pairs = rel.pairing(project, f.mdir).versions
    first = None
    for r in rollbacks:
        if not project.is_reported(r):
            continue
        m = pairs.get(r.version) if r.version is not None else None
        if m is None or not _nothing_to_undo(m, r):
            first = r
            break
    if first is not f:
        return
    preset = presets.get(ctx.config.preset)
    where = posixpath.dirname(f.display) or "."
    others = len(rollbacks) - 1
    yield f.hit(
        f"this {preset.down_name} is empty, and so {'is' if others == 1 else 'are'} the {others} other "
        f"{preset.down_name}{'s' if others != 1 else ''} of `{where}/` (all {len(rollbacks)}): {preset.title} "
        "runs migrations without a rollback, so migcheck says it once for the directory",
        "Write the rollbacks that can undo their migration; to have every empty one reported on its own, set "
        "`require-rollback = true` in the configuration (migcheck.toml or [tool.migcheck]); to accept "
        "migrations without rollbacks, add `empty-rollback` to `ignore`.",
        line=1,
        column=1,
    )
