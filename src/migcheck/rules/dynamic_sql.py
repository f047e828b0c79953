from ..analysis import routines
from ..registry import rule


@rule(
    "dynamic-sql",
    severity="info",
    group="safety",
    kinds=("migration", "rollback"),
    reads=("DoStmt", "CreateFunctionStmt"),
    summary="EXECUTE of SQL built at run time: migcheck cannot read it, so no rule checked it.",
)
def check(f, ctx):
    for st, via, expr in routines.dynamic(f):
        shown = " ".join(expr.split())
        if len(shown) > 60:
            shown = shown[:57] + "..."
        where = f"{via}," if via else "this DO block"
        yield f.hit(
            f"{where} runs SQL built at run time (`EXECUTE {shown}`): migcheck cannot read it before it runs, "
            "so no rule checked what it does",
            "Review the statements it can build by hand (a DROP or a DELETE in them would not be reported); "
            "where the SQL is fixed, write it as a plain statement or a constant string (`EXECUTE 'DROP TABLE "
            "IF EXISTS x'` is read and checked). Once reviewed: "
            "`-- migcheck: ignore dynamic-sql -- <what it runs, who reviewed>`.",
            st,
        )
