from ..analysis import destructive as d
from ..analysis import routines, schema
from ..registry import rule


def _backfill(f, ctx, st, node) -> str | None:
    """Why this UPDATE overwrites nothing on its first run (the schema model): it only fills
    columns added earlier in the file or change set, which nothing wrote since. Not with a FROM
    list: each row would still get an arbitrary match."""
    if node.get("fromClause"):
        return None
    targets = [t.get("ResTarget", {}).get("name", "") for t in node.get("targetList") or ()]
    if not all(targets):
        return None
    table = (node.get("relation") or {}).get("relname", "")
    why = schema.unwritten_new_columns(lambda: ctx.project, f, st, table, targets)
    return None if why is None else f"{d.listing([d.ident(t) for t in dict.fromkeys(targets)])}: {why}"


def _reruns(ctx) -> bool:
    """Is a migration run again by hand (the guidelines make every one re-runnable)? A runner
    records what it applied and never runs a migration twice (``presets.GUIDELINE_ONLY``); with no
    layout recognised, re-runnability is not assumed either."""
    return getattr(ctx.config, "preset", None) in (None, "guidelines")


@rule(
    "update-without-where",
    severity="error",
    group="safety",
    kinds=("migration",),
    reads=("UpdateStmt",),
    summary="UPDATE with no WHERE clause rewrites every row of the table.",
)
def check(f, ctx):
    for st in routines.executed(f):
        found = [(n, w) for n, w in d.updates(st) if d.without_where(n)]
        if not found:
            continue
        backfills = {id(n): why for n, _ in found if (why := _backfill(f, ctx, st, n)) is not None}
        rest = [(n, w) for n, w in found if id(n) not in backfills]
        if not rest:
            if not _reruns(ctx):
                continue  # the runner never runs it twice: nothing is ever overwritten
            n = found[0][0]
            table = d.relation(n.get("relation"))
            targets = list(dict.fromkeys(t.get("ResTarget", {}).get("name", "") for t in n.get("targetList") or ()))
            cond = " AND ".join(f"{d.ident(c)} IS NULL" for c in targets)
            yield f.hit(
                f"UPDATE {table}{d.where(st)} has no WHERE clause: its first run overwrites nothing "
                f"({backfills[id(n)]}), but the guidelines make a migration re-runnable, and a second run "
                f"rewrites every value written since; {d.REVIEW_REQUIRED}",
                f"Limit the backfill to the rows it has not filled yet (`WHERE {cond}`), which also lets it run "
                f"in batches; if a second run must overwrite, {d.review('update-without-where', st)}.",
                st,
            )
            continue
        found = rest
        nodes = [n for n, _ in found]
        tables = d.listing(list(dict.fromkeys(d.relation(n.get("relation")) for n in nodes)))
        how = (
            "has no WHERE clause"
            if all(not n.get("whereClause") for n in nodes)
            else "has a WHERE clause that is always true"
        )
        join = ""
        if any(n.get("fromClause") for n in nodes):
            join = " (its FROM list is joined with no condition, so each row gets an arbitrary match)"
        in_with = " (in a WITH query)" if all(w for _, w in found) else ""
        yield f.hit(
            f"UPDATE {tables}{in_with}{d.where(st)} {how}: it rewrites every row of the table{join}; "
            f"{d.REVIEW_REQUIRED}",
            "Add a WHERE clause that limits it to the rows that need it (for a backfill, `WHERE <new column> IS NULL` "
            "also makes it re-runnable and lets it run in batches); if every row must change, "
            f"{d.review('update-without-where', st)}.",
            st,
        )
