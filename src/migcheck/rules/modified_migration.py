from ..model import Hit
from ..registry import rule


@rule("modified-migration", severity="error", group="project", scope="project", kinds=("migration",),
      summary="With --diff REF: a migration that already existed at REF was edited or deleted since.")
def check(project, ctx):
    changes = project.changes
    if changes is None:  # only `check --diff REF` knows what the migrations looked like before
        return
    where = f"{changes.ref} (merge base {changes.base[:7]})"
    for f in project.files:
        if f.kind != "migration" or not project.is_reported(f) or not changes.is_modified(f.path):
            continue
        span = changes.locate(f.path) if changes.locate else (1, 1)
        if span is None:  # only the file mode changed: the SQL is the same
            continue
        line, end_line = span
        yield Hit(
            f, line, 1,
            f"migration {f.name} already existed at {where} and was edited since (first change at "
            f"line {line}): databases that applied it will not run it again, so they drift from the "
            "ones that run the new text",
            f"Restore it (`git restore --source {changes.base[:7]} -- {f.display}`) and make the change in a "
            "new migration (`migcheck new <description>`). If this migration has not been applied "
            "anywhere yet, record that: `-- migcheck: ignore-file modified-migration -- <why, who checked>`.",
            end_line=end_line)
    for f in project.deleted:
        if f.kind != "migration":
            continue
        yield f.hit(
            f"migration {f.name} already existed at {where} and was deleted since: databases that "
            "applied it keep its changes, and new databases will not get them",
            f"Restore it (`git restore --source {changes.base[:7]} -- {f.display}`). To undo what it did, "
            "write a new migration that reverses it; to rename it, keep the old file: deploy tools "
            "track migrations by name.",
            line=1, column=1)

