import os
import posixpath

from .. import layout
from ..analysis import relations as rel
from ..registry import rule


@rule(
    "missing-rollback-file",
    severity="error",
    group="rollback",
    scope="project",
    kinds=("migration",),
    summary="The migration has no rollback file at the configured pattern (rollback/{version}_rollback.sql).",
)
def check(project, ctx):
    config = ctx.config
    required = config.rollback_required()
    for mdir, group in project.groups.items():
        if not any(project.is_reported(m) for m in group.migrations):
            continue
        p = rel.pairing(project, mdir)
        paired = {m.path for m, v in p.entries if v in p.by_version}
        if not required:
            yield from _once(project, config, p, mdir)
            continue
        looks = None  # computed on the first missing rollback: once per directory, not per migration
        for m, version in p.entries:
            if not project.is_reported(m) or version in p.by_version:
                continue
            if layout.is_preset(config):  # the runner's own rollback layout (docs/presets.md)
                found = layout.runner_layout(config).missing_rollback(m)
                if found:
                    yield m.hit(*found, line=1, column=1)
                continue
            rb = rel.rollback_rel(config, version)
            if os.path.isfile(
                mdir / rb
            ):  # there, but not collected (a symlink, another extension case); False on EACCES
                continue
            shown = rel.display_beside(m, rb)
            help = (
                f"Create `{shown}` with the statements that undo this migration, in BEGIN/COMMIT and with "
                "IF EXISTS (`migcheck new` writes both files)."
            )
            if looks is None:
                looks = _lookalikes(p, paired)
            hint = _candidate(looks, m, version, config)
            if hint:
                help = hint
            yield m.hit(f"migration {version} has no rollback file: `{shown}` does not exist", help, line=1, column=1)


def _lookalikes(p, paired):
    """The rollback files that may be a migration's under a wrong name, in file order:
    (index, rollback, path of the migration its version is a typo of) for an orphan with a
    version, (index, rollback, None) for a file without one."""
    missing = [(mm, v) for mm, v in p.entries if mm.path not in paired]
    typos: dict = {}  # migration path -> first orphan (index, rollback) whose version is a typo of it
    unversioned = []
    for i, r in enumerate(p.rollbacks):
        if r.version is not None:
            if r.version in p.versions:
                continue
            best = rel.nearest(r.version, missing)
            if best is not None:
                typos.setdefault(best[0].path, (i, r))
        else:
            unversioned.append((i, r, r.name.rsplit(".", 1)[0].lower()))
    return typos, unversioned


def _candidate(looks, m, version, config):
    """A rollback file that looks like this migration's under a wrong name: an orphan whose
    version is a typo of this one, or a misnamed file that carries this version or description."""
    typos, unversioned = looks
    target = posixpath.basename(rel.rollback_rel(config, version))
    typo = typos.get(m.path)
    for i, r, stem in unversioned:
        if typo is not None and typo[0] < i:
            break
        if stem.startswith(version) or (m.description and len(m.description) > 3 and m.description in stem):
            return (
                f"`{r.display}` looks like this migration's rollback but does not follow the pattern "
                f"`{config.rollback}`: rename it to `{target}`."
            )
    if typo is not None:
        r = typo[1]
        return (
            f"`{r.display}` has no migration and its version {r.version} looks like a typo of {version}: "
            f"if it is this migration's rollback, rename it to `{target}`."
        )
    return None


def _once(project, config, p, mdir):
    """Rollbacks the runner does not require: one finding per directory, on its first reported
    migration without one, with the count and the key that reports each of them."""
    missing = [m for m, v in p.entries if v not in p.by_version and _expects(config, m)]
    shown = [m for m in missing if project.is_reported(m)]
    if not shown:
        return
    first = shown[0]
    if layout.is_preset(config):
        from .. import presets

        preset = presets.get(config.preset)
        who, what = preset.title, preset.down_name
        why = f"{who} runs migrations without one"
    else:
        who, what = "the guidelines", "rollback file"
        why = "`require-rollback = false` in the configuration"
    where = posixpath.dirname(first.display) or "."
    others = len(missing) - 1
    message = (
        f"migration {first.version} has no {what}"
        + (
            f", nor {'does' if others == 1 else 'do'} {others} other migration{'s' if others != 1 else ''} "
            f"of `{where}/`"
            if others
            else ""
        )
        + f" ({len(missing)} of {len(p.entries)}): {why}, so migcheck says it once for the directory"
    )
    return_to = (
        "Write the rollbacks that can undo their migration; to have every migration without one "
        "reported on its own, set `require-rollback = true` in the configuration (migcheck.toml or "
        "[tool.migcheck]); to accept migrations without rollbacks, add `missing-rollback-file` to `ignore`."
    )
    yield first.hit(message, return_to, line=1, column=1)


def _expects(config, m) -> bool:
    """Would the runner have a rollback for this migration at all (not a sqlx simple migration)?"""
    if layout.is_preset(config):
        return layout.runner_layout(config).missing_rollback(m) is not None
    return True
