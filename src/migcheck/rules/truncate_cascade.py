from ..analysis import locking as lk
from ..analysis import routines
from ..registry import rule


@rule(
    "truncate-cascade",
    severity="error",
    group="safety",
    kinds=("migration", "rollback"),
    reads=("TruncateStmt",),
    summary="TRUNCATE ... CASCADE also empties every table with a foreign key to the truncated tables, recursively.",
)
def check(f, ctx):
    for st in routines.executed(f):
        if st.kind != "TruncateStmt" or st.node.get("behavior") != "DROP_CASCADE":
            continue
        rels = [lk.relation(r) for r in st.node.get("relations") or ()]
        shown = ", ".join(rels)
        yield f.hit(
            f"TRUNCATE {shown} CASCADE{lk.where(st)} also empties every table that has a foreign key to "
            f"{'it' if len(rels) == 1 else 'them'}, and every table referencing those, without naming them here",
            f"Name every table to empty (`TRUNCATE {shown}, <referencing tables>;`): without CASCADE, TRUNCATE fails "
            "if another table still references them, which is the check you want.",
            st,
        )
