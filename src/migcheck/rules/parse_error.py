from ..registry import rule


@rule(
    "parse-error",
    severity="error",
    group="syntax",
    kinds=("migration", "rollback", "other"),
    summary="A statement does not parse; the rest of the file is still checked.",
)
def check(f, ctx):
    for p in f.problems:
        msg = (
            p.message
            if p.message.startswith(("syntax error", "psql", "template", "unterminated", "statement is"))
            else f"syntax error: {p.message}"
        )
        dialect = getattr(ctx.config, "dialect", "postgres")
        yield f.hit(
            msg,
            f"Fix the statement so {'PostgreSQL' if dialect == 'postgres' else dialect} can parse it; migcheck checked the statements "
            "around it, but this one is unchecked and would fail on deploy.",
            line=p.line,
            column=p.column,
        )
