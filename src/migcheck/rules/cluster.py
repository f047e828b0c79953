from ..analysis import locks
from ..registry import rule
from ..analysis import locking as lk


@rule("cluster", severity="warning", group="safety", kinds=("migration",),
      reads=("ClusterStmt",),
      summary="CLUSTER rewrites the table in index order under an ACCESS EXCLUSIVE lock.")
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
            what = (f"CLUSTER{lk.where(st)} with no table rewrites every table clustered before, each under an "
                    f"ACCESS EXCLUSIVE lock, which blocks {locks.BLOCKS[locks.ACCESS_EXCLUSIVE]}")
        yield f.hit(
            what,
            "Reorder the table outside the migrations with pg_repack (`pg_repack --order-by`), which holds the "
            "exclusive lock only briefly; the physical order CLUSTER gives is not kept by later writes anyway.",
            st)
