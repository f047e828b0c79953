from ..analysis import naming as nm
from ..registry import rule


@rule(
    "duplicate-version",
    severity="error",
    group="project",
    scope="project",
    kinds=("migration",),
    summary="Two migrations share a version (YYYYMMDD_NNN) or, with a global sequence, a sequence number.",
)
def check(project, ctx):
    config = ctx.config
    for mdir, group in project.groups.items():
        dups = nm.duplicates(group, config)
        if not dups:
            continue
        plan = nm.plan(project, mdir)
        for first, what, m in dups.values():
            if what == "version":
                message = (
                    f"`{m.name}` has the version {m.version} of `{first.name}` (first in path order): "
                    "migrations are tracked by version, so one of the two would be skipped or recorded twice"
                )
            else:
                message = (
                    f"`{m.name}` reuses the sequence number {m.version.rsplit('_', 1)[-1]} of `{first.name}` "
                    f"(first in path order), dated {first.date}: with a global sequence each number is used once"
                )
            sug = plan.get(m.path)
            if sug is not None and sug.name:
                help = f"If it has not been applied anywhere yet, rename it to `{sug.name}`{sug.note}"
            else:
                help = "If it has not been applied anywhere yet, rename it with the next free sequence number"
            if what == "version":
                help += "; its rollback file needs the new version too."
            else:
                help += "."
            yield m.hit(message, help)
