from ..registry import declare

# Emitted by the engine when a file is larger than `max-file-size` (see MigrationFile.data):
# the file is not read, so a huge file costs neither the memory nor the time to parse it.
declare(
    "file-too-large",
    severity="error",
    group="syntax",
    kinds=("migration", "rollback", "other"),
    summary="The file is larger than `max-file-size` (default 10MB), so migcheck did not check it.",
)
