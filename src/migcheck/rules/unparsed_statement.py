from ..registry import rule


@rule(
    "unparsed-statement",
    severity="info",
    group="syntax",
    kinds=("migration", "rollback", "other"),
    summary="Another dialect's parser (sqlglot) could not read a statement, so no rule checked it.",
)
def check(f, ctx):
    dialect = getattr(ctx.config, "dialect", "postgres")
    for st in f.statements:
        if st.kind != "UnparsedStmt":
            continue
        words = st.node.get("words") or "this statement"
        why = st.node.get("why") or "sqlglot could not read it"
        yield f.hit(
            f"{words} ... was not parsed ({why}), so no rule checked it",
            f"Review it by hand: migcheck's {dialect} support (sqlglot) reads it only as text. If it is "
            "reviewed, record that: `-- migcheck: ignore unparsed-statement -- <why it is safe>`.",
            st,
        )
