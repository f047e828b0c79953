import posixpath

from .. import layout
from ..analysis import relations as rel
from ..registry import rule


@rule(
    "orphan-rollback",
    severity="warning",
    group="rollback",
    scope="project",
    kinds=("rollback",),
    summary="A rollback file whose version matches no migration.",
)
def check(project, ctx):
    config = ctx.config
    for mdir, group in project.groups.items():
        if not any(project.is_reported(r) for r in group.rollbacks):
            continue
        p = rel.pairing(project, mdir)
        missing = [(m, v) for m, v in p.entries if v not in p.by_version]
        for r in p.rollbacks:
            if r.version is None or r.version in p.versions or not project.is_reported(r):
                continue
            runner = layout.runner_layout(config) if layout.is_preset(config) else None
            # a near miss where a version is a name (the guidelines' date and number, maragudk's whole
            # name); a runner's numbers and timestamps are all one digit apart from another
            best = rel.nearest(r.version, missing) if runner is None or runner.named else None
            if best is not None:
                m, v = best
                want = runner.rollback_name(m) if runner is not None else rel.rollback_rel(config, v)
                target = posixpath.join(posixpath.dirname(r.display), posixpath.basename(want))
                yield r.hit(
                    f"no migration has the version {r.version}; did you mean {v} "
                    f"(`{m.name}`, which has no rollback file)?",
                    f"If this file undoes `{m.name}`, rename it to `{target}`.",
                    line=1,
                    column=1,
                )
                continue
            yield r.hit(
                f"no migration has the version {r.version}: this rollback file undoes nothing",
                "If its migration was renamed, rename this file to the migration's version; if the "
                "migration was removed, delete this file too.",
                line=1,
                column=1,
            )
