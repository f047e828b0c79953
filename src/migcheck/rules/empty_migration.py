from .. import layout
from ..analysis import pg
from ..registry import rule


@rule(
    "empty-migration",
    severity="error",
    group="convention",
    kinds=("migration",),
    summary="A migration file holds no statement that changes anything.",
)
def check(f, ctx):
    if f.problems:
        return  # parse-error already speaks for the file
    if any(pg.is_change(st) for st in f.statements):
        return
    if layout.is_preset(ctx.config) and ctx.project is not None and layout.runner_layout(ctx.config).placeholder(f):
        return  # pop/popx: the no-op that keeps a version to other databases (docs/presets.md)
    what = "no statements at all" if not f.statements else "only transaction control, settings or queries"
    yield f.hit(
        f"the migration holds {what}: deploying it changes nothing",
        "Write the change (or delete the file if it was created by mistake); a data-only "
        "check belongs in the VERIFICATION section of the migration it verifies.",
    )
