from ..analysis import destructive as d
from ..analysis import routines
from ..registry import rule


@rule(
    "truncate",
    severity="error",
    group="safety",
    kinds=("migration",),
    reads=("TruncateStmt",),
    summary="TRUNCATE in a migration deletes every row of the tables.",
)
def check(f, ctx):
    for st in routines.executed(f):
        if st.kind != "TruncateStmt":
            continue
        rels = st.node.get("relations") or []
        tables = d.listing([d.relation(r) for r in rels])
        cascade = d.cascade(st.node)
        them, the = ("it", "the table") if len(rels) == 1 else ("them", "the tables")
        if cascade:
            what = (
                f"TRUNCATE {tables} CASCADE{d.where(st)} deletes every row of {tables} and, through CASCADE, "
                f"of every table with a foreign key to {them}"
            )
        else:
            what = f"TRUNCATE {tables}{d.where(st)} deletes every row of {the}"
        first = rels[0] if rels else None
        yield f.hit(
            f"{what}; {d.REVIEW_REQUIRED}",
            f"Keep a copy if the rows may be needed (`CREATE TABLE {d.backup_table(first)} AS TABLE "
            f"{d.relation(first)};`)"
            + (", list the referencing tables explicitly instead of CASCADE" if cascade else "")
            + f", or DELETE with a WHERE if only some rows must go; {d.review('truncate', st)}.",
            st,
        )
