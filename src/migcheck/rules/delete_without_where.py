from ..analysis import destructive as d
from ..analysis import routines
from ..registry import rule


@rule(
    "delete-without-where",
    severity="error",
    group="safety",
    kinds=("migration",),
    reads=("DeleteStmt",),
    summary="DELETE with no WHERE clause deletes every row of the table.",
)
def check(f, ctx):
    for st in routines.executed(f):
        found = d.unbounded_deletes(st)
        if not found:
            continue
        nodes = [n for n, _ in found]
        tables = d.listing(list(dict.fromkeys(d.relation(n.get("relation")) for n in nodes)))
        how = (
            "has no WHERE clause"
            if all(not n.get("whereClause") for n in nodes)
            else "has a WHERE clause that is always true"
        )
        in_with = " (in a WITH query)" if all(w for _, w in found) else ""
        yield f.hit(
            f"DELETE FROM {tables}{in_with}{d.where(st)} {how}: it deletes every row of the table; {d.REVIEW_REQUIRED}",
            "Add a WHERE clause that selects only the rows to remove (run it as a SELECT first to count them); "
            f"if emptying the table is the point, {d.review('delete-without-where', st)}.",
            st,
        )
