from ..analysis import reach, routines
from ..registry import rule


@rule(
    "host-access",
    severity="error",
    group="safety",
    kinds=("migration", "rollback"),
    reads=(
        "CopyStmt",
        "CreateFunctionStmt",
        "DoStmt",
        "CreatePLangStmt",
        "CreateExtensionStmt",
        "LoadStmt",
        "CreateForeignTableStmt",
        "CreateSubscriptionStmt",
        "AlterSubscriptionStmt",
        "GrantRoleStmt",
        "AlterSystemStmt",
        "AlterDatabaseSetStmt",
        "AlterRoleSetStmt",
        "FuncCall",
    ),
    summary="A statement that reaches the database server's host: programs, its files, the network.",
)
def check(f, ctx):
    for st in routines.executed(f):
        what = reach.host(st.kind, st.node)
        if what is None:
            continue
        where = f" (run by {st.via})" if st.via else " (inside a DO block)" if st.inner else ""
        yield f.hit(
            f"{what}{where}: a migration must not reach outside its database (it runs with the server's "
            "operating-system user, on every environment the migration is deployed to)",
            "Do file, program and network work outside the migration (a deploy step, psql's client-side "
            "`\\copy`, an application job); for a language or a library, install it with the server's "
            "provisioning, not in a migration. `migcheck verify` refuses to run this statement.",
            st,
        )
