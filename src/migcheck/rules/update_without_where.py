from ..registry import rule
from ..analysis import destructive as d
from ..analysis import routines


@rule("update-without-where", severity="error", group="safety", kinds=("migration",),
      reads=("UpdateStmt",),
      summary="UPDATE with no WHERE clause rewrites every row of the table.")
def check(f, ctx):
    for st in routines.executed(f):
        found = [(n, w) for n, w in d.updates(st) if d.without_where(n)]
        if not found:
            continue
        nodes = [n for n, _ in found]
        tables = d.listing(list(dict.fromkeys(d.relation(n.get("relation")) for n in nodes)))
        how = "has no WHERE clause" if all(not n.get("whereClause") for n in nodes) else \
            "has a WHERE clause that is always true"
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
            st)
