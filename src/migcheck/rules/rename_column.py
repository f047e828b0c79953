from ..analysis import locking as lk
from ..analysis import schema
from ..registry import rule

_RELATIONS = {
    "OBJECT_TABLE": "table",
    "OBJECT_VIEW": "view",
    "OBJECT_MATVIEW": "materialized view",
    "OBJECT_FOREIGN_TABLE": "foreign table",
}


def _added_in_file(f, st, table: str, column: str) -> bool:
    """Was the column added (ADD COLUMN) earlier in this file? Then no deployed code uses it yet."""
    for s in f.all_statements:
        if s is st:
            return False
        if lk.table_of(s) and lk.unqualified(lk.table_of(s)) == lk.unqualified(table):
            if any(cd.get("colname") == column for cd in lk.add_columns(s)):
                return True
    return False


@rule(
    "rename-column",
    severity="warning",
    group="safety",
    kinds=("migration",),
    reads=("RenameStmt",),
    summary="Renaming a column breaks the application code that still uses the old name.",
)
def check(f, ctx):
    for st in f.all_statements:
        n = st.node
        if st.kind != "RenameStmt" or n.get("renameType") != "OBJECT_COLUMN":
            continue
        table = lk.table_of(st)
        old, new = n.get("subname", "?"), n.get("newname", "?")
        if not table or lk.created_in_file(f, st, table) or _added_in_file(f, st, table, old):
            continue
        if schema.is_new_column(lambda: ctx.project, f, st, lk.unqualified(table), old):
            continue  # added earlier in the change set: no deployed code uses it yet
        kind = _RELATIONS.get(n.get("relationType", ""), "table")
        t = lk.table_sql(st)
        yield f.hit(
            f"RENAME COLUMN {lk.ident(old)} TO {lk.ident(new)} on {kind} {t}{lk.where(st)} breaks every query of the "
            "running application (and of views, functions and reports) that still uses the old name, from the moment it commits",
            f"Add the new column instead, write both (or a trigger), move the readers, backfill, and drop `{old}` in a "
            f"later release; or, for a short overlap, rename and keep the old name readable through a view. Once the "
            f"deploy order is handled, record it: `-- migcheck: ignore rename-column -- <why it is safe>`.",
            st,
        )
