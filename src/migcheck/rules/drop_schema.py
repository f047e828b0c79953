from ..analysis import destructive as d
from ..analysis import routines
from ..registry import rule


@rule(
    "drop-schema",
    severity="error",
    group="safety",
    kinds=("migration",),
    reads=("DropStmt", "DropdbStmt"),
    summary="DROP SCHEMA / DROP DATABASE in a migration deletes everything in it.",
)
def check(f, ctx):
    for st in routines.executed(f):
        if st.kind == "DropStmt" and st.node.get("removeType") == "OBJECT_SCHEMA":
            dropped = d.dropped_names(st.node)
            schemas = d.listing(dropped)
            the, it = ("the schema", "it") if len(dropped) == 1 else ("the schemas", "them")
            if d.cascade(st.node):
                what = (
                    f"DROP SCHEMA {schemas} CASCADE{d.where(st)} deletes {the} and every table, "
                    f"view, function and row in {it}"
                )
            else:
                what = f"DROP SCHEMA {schemas}{d.where(st)} deletes {the} (it fails while a schema still holds objects)"
            yield f.hit(
                f"{what}; {d.REVIEW_REQUIRED}",
                "Make sure nothing in the schema is still used and a backup exists (`pg_dump --schema`); "
                f"never add CASCADE to make it pass; {d.review('drop-schema', st)}.",
                st,
            )
        elif st.kind == "DropdbStmt":
            yield f.hit(
                f"DROP DATABASE {d.ident(st.node.get('dbname', ''))}{d.where(st)} deletes the whole database; "
                f"{d.REVIEW_REQUIRED}",
                "Databases are created and dropped by operations, not by migrations (DROP DATABASE cannot run in "
                f"a transaction either); if it must stay, {d.review('drop-schema', st)}.",
                st,
            )
