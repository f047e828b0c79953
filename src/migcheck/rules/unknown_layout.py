import posixpath

from .. import layout
from ..registry import rule


@rule(
    "unknown-layout",
    severity="warning",
    group="project",
    scope="project",
    kinds=("migration",),
    summary="No migration layout recognised: the directory's names fit neither the guidelines nor a runner preset.",
)
def check(project, ctx):
    config = ctx.config
    if config.preset != layout.UNRECOGNISED:
        return
    from .. import presets

    held = sorted(presets.UNRECOGNISED_OFF - {"not-idempotent"})
    main = ["file-naming", "missing-header", "missing-if-not-exists", "missing-transaction"]
    held_text = ", ".join(main) + f" and {len(held) - len(main)} more (rules/unknown-layout.md)"
    for group in project.groups.values():
        files = group.migrations + group.rollbacks
        first = next((m for m in group.migrations if project.is_reported(m)), None)
        if first is None:
            continue
        shapes = layout.name_shapes(f.path.name for f in files)
        listed = ", ".join(f"`{shape}` ({n})" for shape, n in shapes[:3])
        if len(shapes) > 3:
            listed += f" and {len(shapes) - 3} other shape{'s' if len(shapes) > 4 else ''}"
        where = posixpath.dirname(first.display) or "."
        runners = ", ".join(f"`{n}`" for n in presets.NAMES if n != "guidelines")
        yield first.hit(
            f"no migration layout recognised in `{where}/`: its {len(files)} .sql files are named {listed}, "
            f"neither the guidelines' `YYYYMMDD_NNN_description.sql` nor a runner layout migcheck knows; the "
            "rules that read a file's name, header or re-runnability, and missing-transaction (it depends on how "
            f"the runner runs a file), are held back here: {held_text}",
            "Say how these migrations are named and run, in migcheck.toml or [tool.migcheck] of pyproject.toml: "
            f'`preset = "<runner>"` (one of {runners}; docs/presets.md), or `naming = "<regex with the groups '
            "date, seq and description>\"` for the guidelines' rules with your own names. The safety, destructive "
            "and syntax rules run either way.",
            line=1,
            column=1,
        )
