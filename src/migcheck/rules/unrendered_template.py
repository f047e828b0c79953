from ..registry import declare

# Emitted by the engine when a runner's template (pop, popx: layout.PopLayout, gotemplate) cannot be
# rendered the way the runner renders it: the file is reported once, never checked as raw text.
declare(
    "unrendered-template",
    severity="error",
    group="syntax",
    kinds=("migration", "rollback"),
    summary="The migration is a Go template (pop, popx) with a construct migcheck cannot render, so it was not checked.",
)
