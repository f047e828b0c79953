from ..analysis import pg, routines
from ..registry import rule


@rule(
    "drop-table",
    severity="error",
    group="safety",
    kinds=("migration",),
    reads=("DropStmt",),
    summary="DROP TABLE in a migration deletes the table and all its rows.",
)
def check(f, ctx):
    for st in routines.executed(f):
        if st.kind == "DropStmt" and st.node.get("removeType") == "OBJECT_TABLE":
            names = ", ".join(pg.qualified(o.get("List", {}).get("items")) for o in st.node.get("objects", ()))
            where = f" (run by {st.via})" if st.via else " (inside a DO block)" if st.inner else ""
            yield f.hit(
                f"DROP TABLE {names}{where} deletes the table and every row in it; the guidelines require review of destructive statements",
                "Make sure no code still uses the table and a backup exists; once reviewed, record the approval "
                "on the line above: `-- migcheck: ignore drop-table -- <who approved, why>`.",
                st,
            )
