from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule


@rule(
    "refresh-materialized-view",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("RefreshMatViewStmt",),
    summary="REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view until the query finishes.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "RefreshMatViewStmt" or st.node.get("concurrent") or st.node.get("skipData"):
            continue
        view = lk.table_of(st)
        if not view or lk.created_in_file(f, st, view):
            continue
        lock = lk.lock_on(st, view, version) or locks.Lock(view, locks.ACCESS_EXCLUSIVE)
        v = lk.table_sql(st)
        yield f.hit(
            f"REFRESH MATERIALIZED VIEW {v}{lk.where(st)} without CONCURRENTLY {lk.lock_words(lock, v)}, while "
            "its whole query runs again",
            f"Use `REFRESH MATERIALIZED VIEW CONCURRENTLY {v};` (readers go on; it needs a unique index on the view "
            "covering all rows, and a view that was populated before), or refresh it outside the migration.",
            st,
        )
