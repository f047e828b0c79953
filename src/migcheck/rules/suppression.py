"""The rules about suppression comments themselves; the engine emits their findings."""

from ..registry import declare

declare(
    "suppression-missing-reason",
    severity="error",
    group="convention",
    kinds=("migration", "rollback", "other"),
    summary="A suppression comment has no reason, so it suppresses nothing.",
)
declare(
    "unknown-rule",
    severity="error",
    group="convention",
    kinds=("migration", "rollback", "other"),
    summary="A suppression comment names a rule that does not exist.",
)
declare(
    "unused-suppression",
    severity="warning",
    group="convention",
    kinds=("migration", "rollback", "other"),
    summary="A suppression comment suppresses nothing.",
)
