from ..analysis import locking as lk
from ..analysis import locks, pg, schema, txn
from ..registry import rule


@rule(
    "require-concurrent-index-deletion",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("DropStmt",),
    summary="DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table.",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "DropStmt" or st.node.get("removeType") != "OBJECT_INDEX" or st.node.get("concurrent"):
            continue
        names = [pg.strings(o.get("List", {}).get("items")) for o in st.node.get("objects", ())]
        # an index built on a table this file or change set created: no one else uses that table yet
        old = [n for n in names if n and not schema.index_on_new_table(f, st, n[-1])]
        if not old:
            continue
        predicted = locks.statement_locks(st, version)
        mode = predicted[0].mode if predicted else locks.ACCESS_EXCLUSIVE
        shown = ", ".join(lk.names(n) for n in old)
        limits = ""
        if len(names) > 1 or st.node.get("behavior") == "DROP_CASCADE":
            limits = "; it drops one index per statement and takes no CASCADE"
        table = lk.index_table(f, ctx, st, old[0][-1]) if len(old) == 1 else None
        on = lk.names(table.split(".")) if table else "the index's table"
        yield f.hit(
            f"DROP INDEX {shown}{lk.where(st)} without CONCURRENTLY takes {lk.article(mode)} {mode} lock on "
            f"{on}, which blocks {locks.BLOCKS[mode]}, from the moment it starts waiting for running "
            "queries until the end of its transaction",
            f"Drop it with `DROP INDEX CONCURRENTLY IF EXISTS {lk.names(old[0])};`: CONCURRENTLY cannot run inside a "
            f"transaction block{limits}, so {txn.outside_transaction(f, ctx.config)}.",
            st,
        )
