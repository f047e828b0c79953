from ..analysis import locking as lk
from ..analysis import pg
from ..registry import rule


def _tables(st) -> tuple[str, list[list[str]]]:
    """The statement's verb and the tables it names, each as its name parts."""
    k, n = st.kind, st.node

    def parts(rv: dict | None) -> list[list[str]]:
        if not rv or rv.get("relpersistence") == "t":  # a temporary table lives in pg_temp
            return []
        return [[p for p in (rv.get("schemaname"), rv.get("relname")) if p]]

    if k == "CreateStmt":
        return "CREATE TABLE", parts(n.get("relation"))
    if k == "CreateTableAsStmt" and n.get("objtype") == "OBJECT_TABLE":
        return "CREATE TABLE ... AS", parts((n.get("into") or {}).get("rel"))
    if k == "AlterTableStmt" and n.get("objtype") == "OBJECT_TABLE":
        return "ALTER TABLE", parts(n.get("relation"))
    if k == "RenameStmt" and (n.get("renameType") == "OBJECT_TABLE" or n.get("relationType") == "OBJECT_TABLE"):
        return "ALTER TABLE ... RENAME", parts(n.get("relation"))
    if k == "DropStmt" and n.get("removeType") == "OBJECT_TABLE":
        return "DROP TABLE", [pg.strings(o.get("List", {}).get("items")) for o in n.get("objects", ()) if "List" in o]
    return "", []


@rule(
    "require-table-schema",
    severity="warning",
    group="convention",
    kinds=("migration", "rollback"),
    enabled=False,
    summary="CREATE / ALTER / DROP TABLE names a table without its schema, so search_path decides which table it is.",
)
def check(f, ctx):
    for st in f.all_statements:
        verb, tables = _tables(st)
        bare = [t for t in tables if len(t) == 1]
        if not bare:
            continue
        names = ", ".join(lk.names(t) for t in bare)
        qualified = ", ".join(f"public.{lk.names(t)}" for t in bare)
        yield f.hit(
            f"{verb} {names}{lk.where(st)} does not name the schema, so the search_path of the session that runs the "
            f"migration decides which table it is",
            f"Qualify it: `{qualified}` (or the schema the table belongs in).",
            st,
        )
