from .. import layout
from ..analysis import naming as nm
from ..registry import rule


@rule(
    "file-naming",
    severity="error",
    group="convention",
    kinds=("migration", "rollback"),
    summary="The file name is not YYYYMMDD_NNN_description.sql (real date, 3-digit sequence, lowercase a-z0-9_ description).",
)
def check(f, ctx):
    if layout.is_preset(ctx.config):  # the runner's naming, not the guidelines' (docs/presets.md)
        found = layout.runner_layout(ctx.config).naming_problem(f)
    else:
        found = _rollback(f, ctx) if f.kind == "rollback" else _migration(f, ctx)
    if found:
        yield f.hit(*found)


def _migration(f, ctx):
    config = ctx.config
    if nm.is_default(config):
        if nm.well_named(f):
            return None
        stem, ext_problem = nm.split_extension(f.name)
        r = nm.read_stem(stem)
        problems = [p for p in [ext_problem, *r.problems, *r.desc_problems] if p]
        if not problems:  # the lenient reading found nothing the pattern refuses: say it plainly
            problems = ["it does not match the pattern"]
        message = f"the file name `{f.name}` does not follow {nm.SHAPE}: {'; '.join(problems)}"
        desc = r.desc
    else:
        pattern = config.naming.pattern
        if f.version is not None and not f.version.isascii():
            message = f"the file name `{f.name}` uses digits that are not ASCII 0-9"
        elif f.version is not None:
            d8 = nm.date_digits(f.date)
            why = nm.date_problem(d8) if d8 is not None else None
            if why is None:
                return None
            alt = nm.swapped(d8)
            message = f"the date `{f.date}` in the file name `{f.name}` is not a real date ({why}" + (
                f"; did you mean `{alt}`?)" if alt else ")"
            )
        elif config.naming.match(f.name):  # (the `seq` group matched no number: layout.identify)
            seq = config.naming.match(f.name).group("seq")
            message = (
                f"the file name `{f.name}` matches the configured naming pattern `{pattern}`, but its `seq` "
                f"part `{seq}` is not a sequence number (digits 0-9)"
            )
        else:
            message = f"the file name `{f.name}` does not match the configured naming pattern `{pattern}`"
        desc = f.description or nm.read_stem(nm.split_extension(f.name)[0]).desc
    base = f.name.rsplit(".", 1)[0].lower()
    if base in ("up", "down"):
        return message, _one_dir_per_migration(f, config, base)
    sug = nm.plan(ctx.project, f.mdir).get(f.path)
    if sug is not None and sug.name:
        help = f"Rename it to `{sug.name}`{sug.note}."
    elif nm.is_default(config):
        help = f"Rename it to the {nm.SHAPE} form."
    else:
        help = f"Rename it so that it matches `naming` (`{config.naming.pattern}`) in the configuration."
    if desc in nm.VAGUE:
        help += f" Choose a description that says what the migration changes: `{desc}` is ambiguous."
    return message, help


def _rollback(f, ctx):
    config = ctx.config
    _, template = config.rollback_parts()
    shape = template.replace("{version}", "YYYYMMDD_NNN")
    m = nm.rollback_regex(config).match(f.name)
    if m:
        version = m.group("version")
        if not version.isascii():
            return (
                f"the rollback file name `{f.name}` uses digits that are not ASCII 0-9",
                f"Rename it to `{shape}` with the version of the migration it undoes, in ASCII digits.",
            )
        why = nm.date_problem(version[:8])
        if why is None:
            return None
        group = ctx.project.groups.get(f.mdir)
        if group is not None and any(m.version == version for m in group.migrations):
            return None  # its migration has the bad version: reported once, there
        alt = nm.swapped(version[:8])
        message = f"the rollback file name `{f.name}` holds the version {version}, whose date is not real ({why})"
        if alt:
            return (
                message,
                f"Rename it to `{template.format(version=alt + version[8:])}`, the version of the migration it undoes.",
            )
        return message, f"Rename it to `{shape}` with the version of the migration it undoes."
    prefix, suffix = template.split("{version}", 1)
    body = f.name
    problems = []
    if prefix:
        if body.startswith(prefix):
            body = body[len(prefix) :]
        else:
            problems.append(f"it does not start with `{prefix}`")
    version = None
    word = suffix[1:-4] if suffix.startswith("_") and suffix.endswith(".sql") else None
    if word is not None and nm.normalise_description(word) == word:
        stem, ext_problem = nm.split_extension(body)
        r = nm.read_stem(stem)
        if ext_problem:
            problems.append(ext_problem)
        if r.date and r.seq is not None and r.seq < 1000:
            version = f"{r.date}_{r.seq:03d}"
        if r.date is None and not r.seq_raw:
            problems.append("there is no version (the YYYYMMDD_NNN of the migration it undoes)")
            if not r.desc.endswith(word):
                problems.append(f"it does not end in `{suffix}`")
        else:
            problems.extend(r.problems)
            if r.desc_raw != word:
                problems.append(
                    f"`{r.desc_raw}` stands where `{word}` belongs"
                    if r.desc_raw.strip(nm.SEPS)
                    else f"it does not end in `{suffix}`"
                )
        if version is None:
            version = _version_by_description(ctx, f, r.desc)
    else:
        problems.append("it does not match the pattern")
    problems = problems or ["it does not match the pattern"]
    message = f"the rollback file name `{f.name}` does not follow `{shape}`: {'; '.join(problems)}"
    if version:
        help = f"Rename it to `{template.format(version=version)}`, after the version of the migration it undoes."
    else:
        help = f"Rename it to `{shape}`, with the version (YYYYMMDD_NNN) of the migration it undoes."
    return message, help


def _version_by_description(ctx, f, desc):
    """The version of the one migration whose description the rollback's name repeats."""
    words = [w for w in desc.split("_") if w not in ("rollback", "down", "revert", "undo")]
    key = "_".join(words)
    if not key:
        return None
    group = ctx.project.groups.get(f.mdir)
    hits = [m for m in (group.migrations if group else ()) if m.version and m.description == key]
    return hits[0].version if len(hits) == 1 and hits[0].version.isascii() else None


def _one_dir_per_migration(f, config, base):
    """Help for diesel-style ``<version>/up.sql`` and ``down.sql``."""
    d = f.path.parent
    r = nm.read_stem(d.name)
    desc = r.desc or "description"
    date = r.date or "YYYYMMDD"
    rollback = config.rollback.replace("{version}", f"{date}_NNN")
    target = f"{date}_NNN_{desc}.sql" if base == "up" else rollback
    return (
        f"`{d.name}/{f.name}` is a one-directory-per-migration layout (diesel and others): migcheck reads "
        f"the version from the file name, one file per migration. In the guidelines' layout this file is "
        f"`{target}` in `{d.parent.name}/`"
        + (
            f", with the next free NNN of the directory and its rollback in `{rollback}`."
            if base == "up"
            else ", the rollback of the migration that up.sql holds."
        )
    )
