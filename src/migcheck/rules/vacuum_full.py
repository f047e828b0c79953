from ..analysis import locking as lk
from ..analysis import locks
from ..registry import rule


@rule(
    "vacuum-full",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("VacuumStmt",),
    summary="VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock (on PostgreSQL 19: use REPACK (CONCURRENTLY)).",
)
def check(f, ctx):
    version = lk.version(ctx)
    for st in f.all_statements:
        if st.kind != "VacuumStmt" or not any(
            o.get("DefElem", {}).get("defname") == "full" for o in st.node.get("options", ())
        ):
            continue
        held = [l for l in locks.statement_locks(st, version) if l.relation and lk.is_existing(f, st, l.relation)]
        if st.node.get("rels") and not held:
            continue  # only tables created in this file
        if held:
            rel = ", ".join(lk.names(l.relation.split(".")) for l in held)
            what = f"VACUUM FULL {rel}{lk.where(st)} rewrites {rel} and {lk.lock_words(held[0], rel)}, for the whole rewrite"
        else:
            what = (
                f"VACUUM FULL{lk.where(st)} with no table rewrites every table of the database, one after the other, "
                f"each under an ACCESS EXCLUSIVE lock, which blocks {locks.BLOCKS[locks.ACCESS_EXCLUSIVE]}"
            )
        if version >= 19:  # squawk's prefer-repack: the same statement, so this rule's advice
            tables = ", ".join(
                lk.relation(r.get("VacuumRelation", {}).get("relation")) for r in st.node.get("rels", ())
            )
            instead = (
                f"On PostgreSQL 19 `REPACK (CONCURRENTLY) {tables or '<table>'}` ({'' if tables else 'table by table, '}"
                "REPACK replaces VACUUM FULL) does the same rewrite "
                "and holds ACCESS EXCLUSIVE only for the final swap (it needs a primary key or replica identity "
                "index and a free replication slot); run it outside the migrations, as plain VACUUM is enough "
                "to make space reusable."
            )
        else:
            instead = (
                "Plain VACUUM (no lock on reads and writes) is enough to make space reusable; to give space back "
                "to the operating system without the lock, use pg_repack or pg_squeeze, outside the migrations."
            )
        yield f.hit(what, instead, st)
