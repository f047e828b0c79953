from ..analysis import locking as lk
from ..analysis import txn
from ..registry import rule


@rule(
    "require-concurrent-index",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("IndexStmt",),
    summary="CREATE INDEX without CONCURRENTLY blocks writes to an existing table for the whole build.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "IndexStmt" or st.node.get("concurrent"):
            continue
        rv = st.node.get("relation") or {}
        table = lk.table_of(st)
        if not lk.is_existing(f, st, table) or lk.is_empty(f, st, table):
            continue  # new, or provably empty: the index builds at once
        if not rv.get("inh"):
            # CREATE INDEX ... ON ONLY parent: the partitioned table's own (invalid) index, no build
            continue
        lock = lk.lock_on(st, table, version)
        if lock is None:
            continue
        name = st.node.get("idxname")
        what = (
            "CREATE " + ("UNIQUE " if st.node.get("unique") else "") + "INDEX" + (f" {lk.ident(name)}" if name else "")
        )
        unique = "UNIQUE " if st.node.get("unique") else ""
        concurrent = f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {lk.ident(name) if name else '<name>'} ON {lk.table_sql(st)} ..."
        yield f.hit(
            f"{what} on {lk.table_sql(st)}{lk.where(st)} without CONCURRENTLY {lk.lock_words(lock, lk.table_sql(st))}, "
            "for as long as the index takes to build",
            f"Build it with `{concurrent}`: writes go on during the build. CONCURRENTLY cannot "
            f"run inside a transaction block, so {txn.outside_transaction(f, ctx.config)} (and check "
            "afterwards that the index is valid: a failed concurrent build leaves an INVALID index to drop and retry).",
            st,
        )
