from ..analysis import locking as lk
from ..registry import rule

_RELATIONS = {
    "OBJECT_TABLE": "TABLE",
    "OBJECT_VIEW": "VIEW",
    "OBJECT_MATVIEW": "MATERIALIZED VIEW",
    "OBJECT_FOREIGN_TABLE": "FOREIGN TABLE",
}


@rule(
    "rename-table",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("RenameStmt",),
    summary="Renaming a table (or view) breaks the application code that still uses the old name.",
)
def check(f, ctx):
    for st in f.all_statements:
        n = st.node
        if st.kind != "RenameStmt" or n.get("renameType") not in _RELATIONS:
            continue
        table = lk.table_of(st)
        if not table or lk.created_in_file(f, st, table):
            continue
        kind = _RELATIONS[n["renameType"]]
        t = lk.table_sql(st)
        new = lk.ident(n.get("newname", "?"))
        yield f.hit(
            f"ALTER {kind} {t} RENAME TO {new}{lk.where(st)} breaks every query of the running application (and "
            "of functions and reports) that still uses the old name, from the moment it commits",
            f"Keep the old name working during the deploy: rename, then `CREATE VIEW {t} AS SELECT * FROM {new};` "
            "(a simple view is updatable) until no code uses the old name, and drop the view in a later migration; "
            "or record why it is safe: `-- migcheck: ignore rename-table -- <why>`.",
            st,
        )
