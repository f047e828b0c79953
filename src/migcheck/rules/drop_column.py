from ..registry import rule
from ..analysis import destructive as d
from ..analysis import routines


@rule("drop-column", severity="error", group="safety", kinds=("migration",),
      reads=("AlterTableStmt",),
      summary="ALTER TABLE ... DROP COLUMN in a migration deletes the column's data in every row.")
def check(f, ctx):
    for st in routines.executed(f):
        if st.kind != "AlterTableStmt" or st.node.get("objtype") != "OBJECT_TABLE":
            continue  # ALTER TYPE ... DROP ATTRIBUTE, ALTER FOREIGN TABLE: drop-object
        cmds = [c.get("AlterTableCmd", {}) for c in st.node.get("cmds") or ()]
        dropped = [c for c in cmds if c.get("subtype") == "AT_DropColumn"]
        if not dropped:
            continue
        table = d.relation(st.node.get("relation"))
        cols = d.listing([d.ident(c.get("name", "")) for c in dropped])
        noun = "column" if len(dropped) == 1 else "columns"
        extra = ""
        if any(c.get("behavior") == "DROP_CASCADE" for c in dropped):
            extra = (", and CASCADE also drops the views, indexes and constraints that use "
                     + ("it" if len(dropped) == 1 else "them"))
        yield f.hit(
            f"ALTER TABLE {table} drops {noun} {cols}{d.where(st)}: the data in every row is lost{extra}; "
            f"{d.REVIEW_REQUIRED}",
            "First deploy code that no longer reads or writes the column, and keep its data if it may be needed "
            f"(`CREATE TABLE {d.backup_table(st.node.get('relation'))} AS SELECT <primary key>, {cols} "
            f"FROM {table};`); "
            f"{d.review('drop-column', st)}.",
            st)
