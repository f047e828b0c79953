import posixpath

from ..registry import rule
from . import _relations as rel


@rule("missing-rollback-file", severity="error", group="rollback", scope="project", kinds=("migration",),
      summary="The migration has no rollback file at the configured pattern (rollback/{version}_rollback.sql).")
def check(project, ctx):
    config = ctx.config
    for mdir, group in project.groups.items():
        if not any(project.is_reported(m) for m in group.migrations):
            continue
        p = rel.pairing(project, mdir)
        paired = {m.path for m, v in p.entries if v in p.by_version}
        for m, version in p.entries:
            if not project.is_reported(m) or version in p.by_version:
                continue
            rb = rel.rollback_rel(config, version)
            if (mdir / rb).is_file():  # there, but not collected (a symlink, another extension case)
                continue
            shown = rel.display_beside(m, rb)
            help = (f"Create `{shown}` with the statements that undo this migration, in BEGIN/COMMIT and with "
                    "IF EXISTS (`migcheck new` writes both files).")
            hint = _candidate(p, m, version, paired, config)
            if hint:
                help = hint
            yield m.hit(f"migration {version} has no rollback file: `{shown}` does not exist",
                        help, line=1, column=1)


def _candidate(p, m, version, paired, config):
    """A rollback file that looks like this migration's under a wrong name: an orphan whose
    version is a typo of this one, or a misnamed file that carries this version or description."""
    rb = rel.rollback_rel(config, version)
    target = posixpath.basename(rb)
    missing = [(mm, v) for mm, v in p.entries if mm.path not in paired]
    for r in p.rollbacks:
        if r.version is not None:
            if r.version in p.versions:
                continue
            best = rel.nearest(r.version, missing)
            if best is not None and best[0].path == m.path:
                return (f"`{r.display}` has no migration and its version {r.version} looks like a typo of {version}: "
                        f"if it is this migration's rollback, rename it to `{target}`.")
        else:
            stem = r.name.rsplit(".", 1)[0].lower()
            if stem.startswith(version) or (m.description and len(m.description) > 3 and m.description in stem):
                return (f"`{r.display}` looks like this migration's rollback but does not follow the pattern "
                        f"`{config.rollback}`: rename it to `{target}`.")
    return None
