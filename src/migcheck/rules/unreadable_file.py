from ..registry import declare

# Emitted by the engine when a file cannot be read at all (see engine.run).
declare(
    "unreadable-file",
    severity="error",
    group="syntax",
    kinds=("migration", "rollback", "other"),
    summary="The file cannot be read (permission denied, vanished, not a regular file).",
)
