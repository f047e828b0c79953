from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule


@rule(
    "cluster",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("ClusterStmt",),
    summary="CLUSTER rewrites the table in index order under an ACCESS EXCLUSIVE lock (on PostgreSQL 19: use REPACK (CONCURRENTLY)).",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "ClusterStmt":
            continue
        held = locks.statement_locks(st, version)
        if held and not lk.is_existing(f, st, held[0].relation):
            continue
        if held:
            rel = lk.names(held[0].relation.split("."))
            what = f"CLUSTER {rel}{lk.where(st)} rewrites {rel} and all its indexes and {lk.lock_words(held[0], rel)}, for the whole rewrite"
        else:
            what = (
                f"CLUSTER{lk.where(st)} with no table rewrites every table clustered before, each under an "
                f"ACCESS EXCLUSIVE lock, which blocks {locks.BLOCKS[locks.ACCESS_EXCLUSIVE]}"
            )
        if version >= 19:  # squawk's prefer-repack: the same statement, so this rule's advice
            index = st.node.get("indexname")
            table = lk.relation(st.node.get("relation")) if st.node.get("relation") else ""
            repack = f"REPACK (CONCURRENTLY) {table or '<table>'} USING INDEX {lk.ident(index) if index else '<index>'}"
            instead = (
                f"On PostgreSQL 19 `{repack}` ({'' if table else 'table by table, '}REPACK replaces CLUSTER) "
                "does the same rewrite and holds ACCESS EXCLUSIVE only for the "
                "final swap (it needs a primary key or replica identity index and a free replication slot); run "
                "it outside the migrations: the order CLUSTER gives is not kept by later writes anyway."
            )
        else:
            instead = (
                "Reorder the table outside the migrations with pg_repack (`pg_repack --order-by`), which holds "
                "the exclusive lock only briefly; the physical order CLUSTER gives is not kept by later writes anyway."
            )
        yield f.hit(what, instead, st)
