from ..analysis import destructive as d
from ..analysis import history_facts, routines, schema
from ..registry import rule


@rule(
    "drop-column",
    severity="error",
    group="safety",
    kinds=("migration",),
    reads=("AlterTableStmt",),
    summary="ALTER TABLE ... DROP COLUMN in a migration deletes the column's data in every row.",
)
def check(f, ctx):
    for st in routines.executed(f):
        if st.kind != "AlterTableStmt" or st.node.get("objtype") != "OBJECT_TABLE":
            continue  # ALTER TYPE ... DROP ATTRIBUTE, ALTER FOREIGN TABLE: drop-object
        cmds = [c.get("AlterTableCmd", {}) for c in st.node.get("cmds") or ()]
        dropped = [c for c in cmds if c.get("subtype") == "AT_DropColumn"]
        if not dropped:
            continue
        table = d.relation(st.node.get("relation"))
        relname = (st.node.get("relation") or {}).get("relname", "")
        # the schema model: a column added in this file or change set, a generated column added
        # again, a column replaced by its converted copy: no data is lost; a DROP COLUMN IF EXISTS
        # of a column the fully known table does not have drops nothing
        dropped = [
            c
            for c in dropped
            if c.get("behavior") == "DROP_CASCADE"
            or (
                schema.dropped_column_kept(lambda: ctx.project, f, st, relname, c.get("name", "")) is None
                and not (
                    c.get("missing_ok")
                    and history_facts.column_not_there(lambda: ctx.project, f, st, relname, c.get("name", ""))
                )
            )
        ]
        if not dropped:
            continue
        cols = d.listing([d.ident(c.get("name", "")) for c in dropped])
        noun = "column" if len(dropped) == 1 else "columns"
        extra = ""
        if any(c.get("behavior") == "DROP_CASCADE" for c in dropped):
            extra = ", and CASCADE also drops the views, indexes and constraints that use " + (
                "it" if len(dropped) == 1 else "them"
            )
        # the schema model: a column whose values the file copied elsewhere first (UPDATE ... SET
        # new = old, INSERT ... SELECT old, CREATE TABLE ... AS SELECT old) keeps its data
        copied = {
            c.get("name", ""): line
            for c in dropped
            if (line := schema.copied_before(f, st, relname, c.get("name", ""))) is not None
        }
        backup = (
            f"keep its data if it may be needed (`CREATE TABLE {d.backup_table(st.node.get('relation'))} AS "
            f"SELECT <primary key>, {cols} FROM {table};`)"
        )
        if copied and len(copied) == len(dropped):
            lines = ", ".join(str(n) for n in sorted(set(copied.values())))
            its = "its values were" if len(dropped) == 1 else "their values were"
            message = (
                f"ALTER TABLE {table} drops {noun} {cols}{d.where(st)}: {its} copied elsewhere earlier in this "
                f"file (line {lines}), so the data is kept, but code that still reads or writes "
                f"{'it' if len(dropped) == 1 else 'them'} fails{extra}; {d.REVIEW_REQUIRED}"
            )
            backup = f"check that the copy on line {lines} is complete"
        elif copied:
            kept = d.listing([d.ident(c) for c in copied])
            lines = ", ".join(str(n) for n in sorted(set(copied.values())))
            lost = d.listing([d.ident(c.get("name", "")) for c in dropped if c.get("name", "") not in copied])
            message = (
                f"ALTER TABLE {table} drops {noun} {cols}{d.where(st)}: the data of {lost} in every row is lost "
                f"(the values of {kept} were copied elsewhere earlier in this file, line {lines}){extra}; "
                f"{d.REVIEW_REQUIRED}"
            )
        else:
            message = (
                f"ALTER TABLE {table} drops {noun} {cols}{d.where(st)}: the data in every row is lost{extra}; "
                f"{d.REVIEW_REQUIRED}"
            )
        yield f.hit(
            message,
            f"First deploy code that no longer reads or writes the column, and {backup}; "
            f"{d.review('drop-column', st)}.",
            st,
        )
