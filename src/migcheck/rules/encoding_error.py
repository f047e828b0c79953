from ..registry import declare

# Emitted by the engine when a file cannot be decoded (see engine.run).
declare(
    "encoding-error",
    severity="error",
    group="syntax",
    kinds=("migration", "rollback", "other"),
    summary="The file is not valid UTF-8 (or is binary), so it cannot be checked.",
)
