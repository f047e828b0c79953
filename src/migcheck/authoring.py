"""Authoring: ``migcheck new`` (scaffold the next migration and its rollback) and ``migcheck init``
(the guidelines' ``_migrations`` tracking-schema migration).

The logic lives here: names (the next free version, per the configured naming and sequence),
rendering (the guidelines' template, a team's own template), and the writes (atomic, never over an
existing file). ``authoring_cli`` is the thin click layer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import engine, layout
from .analysis import header as hdr
from .analysis import naming as nm
from .config import Config, inside
from .fsutil import atomic_write

TRACKING_DESCRIPTION = "migration_tracking_schema"
TRACKING_TITLE = "Migration tracking schema"
_SECTION = hdr.RULE_LINE


class AuthoringError(Exception):
    """A usage problem (exit 2): the message says what and how to fix it."""


@dataclass
class Target:
    """The migration to write: where, its version, title and description."""

    mdir: Path
    date: str
    seq: int
    description: str  # the file name's description (lowercase a-z0-9_)
    title: str  # the header's MIGRATION title
    name: str  # the migration's file name
    version: str  # YYYYMMDD_NNN (what the configured naming makes of date and seq)
    migration: Path
    rollback: Path


# --- names --------------------------------------------------------------------------------


def migrations_dir(config: Config) -> Path:
    """The first configured migrations directory, absolute."""
    d = Path(config.migrations[0])
    return d if d.is_absolute() else config.root / d


def slug(text: str) -> str:
    """``text`` as a file-name description (lowercase a-z0-9 and ``_``), or AuthoringError."""
    raw = " ".join(text.split())
    if not raw:
        raise AuthoringError(
            "the description is empty: say what the migration changes, "
            'e.g. `migcheck new "add email validation trigger"`'
        )
    desc = nm.normalise_description(raw)
    if not desc:
        raise AuthoringError(
            f"the description {text!r} has no letters or digits to name the file with: "
            'say what the migration changes, e.g. `migcheck new "add email validation trigger"`'
        )
    if desc in nm.VAGUE:
        raise AuthoringError(
            f"the description {text!r} is ambiguous (the guidelines: `fix_bug.sql` says nothing): "
            "say what the migration changes, e.g. `add_email_validation_trigger`"
        )
    return desc


def title_of(text: str) -> str:
    """The header title for a description: words as written, ``_``/``-`` read as spaces when the
    description is one word, the first letter capitalised."""
    raw = " ".join(text.split())
    if " " not in raw:
        raw = " ".join(re.split(r"[_-]+", raw)).strip()
    return raw[:1].upper() + raw[1:]


def check_date(value: str) -> str:
    """A ``--date`` value: 8 ASCII digits forming a real date."""
    if not re.fullmatch(r"[0-9]{8}", value):
        raise AuthoringError(f"--date {value!r} is not a YYYYMMDD date (8 digits, e.g. {nm.today()})")
    why = nm.date_problem(value)
    if why:
        raise AuthoringError(f"--date {value} is not a real date ({why})")
    return value


def _group(config: Config, mdir: Path) -> engine.Group:
    if not mdir.is_dir():
        return engine.Group(mdir)
    project = engine.collect([str(mdir)], config, mdir)
    return project.groups.get(Path(os.path.abspath(mdir)), engine.Group(mdir))


def plan(
    config: Config, description: str, date: str | None = None, *, title: str | None = None, first_seq: int | None = None
) -> Target:
    """The next free migration of the first migrations directory for ``description``.

    ``date`` (YYYYMMDD) defaults to today. With a global sequence the number follows the highest
    one in the directory and the date may not be older than the newest migration's (that would
    break the sequence order); per day, the number is the next one of that date. ``first_seq``
    is the number of the directory's first migration (``init`` starts at 000)."""
    desc = slug(description)
    if date is not None:
        date = check_date(date)
    mdir = migrations_dir(config)
    if mdir.exists() and not mdir.is_dir():
        raise AuthoringError(
            f"{_show(mdir)} is not a directory (the first `migrations` directory of the configuration)"
        )
    group = _group(config, mdir)
    numbering = nm.Numbering(group, config)
    if not numbering.items and first_seq is not None:
        day, seq = date or nm.today(), first_seq
    else:
        day, seq = numbering.next(date)
        if date is not None and day != date:
            raise AuthoringError(
                f"--date {date} is older than the newest migration ({day}); with a global sequence "
                f'a back-dated migration would break the sequence order (set `sequence = "per-day"` '
                f"to number each day on its own, or use --date {day} or later)"
            )
    if seq > 999:
        raise AuthoringError(f"the sequence number {seq} does not fit in 3 digits")
    name = nm.render(config, day, seq, desc)
    m = config.naming.match(name) if name else None
    if m is None:
        raise AuthoringError(
            f"cannot make a file name for {day}, {seq:03d} and `{desc}` that matches the "
            f"configured naming `{config.naming.pattern}`"
        )
    version = f"{m.group('date')}_{m.group('seq')}"
    longest = _name_max(mdir)
    if len(name.encode("utf-8")) > longest:
        raise AuthoringError(
            f"the description makes a file name of {len(name.encode('utf-8'))} bytes, longer than "
            f"the file system allows ({longest}): say it in fewer words (the header's title can be longer)"
        )
    return Target(
        mdir=mdir,
        date=day,
        seq=seq,
        description=desc,
        title=title if title is not None else title_of(description),
        name=name,
        version=version,
        migration=mdir / name,
        rollback=mdir / config.rollback.format(version=version),
    )


def _name_max(d: Path) -> int:
    """The longest file name the file system of ``d`` (or its nearest existing parent) takes."""
    for p in (d, *d.parents):
        try:
            return os.pathconf(p, "PC_NAME_MAX")
        except (OSError, ValueError, AttributeError):
            continue
    return 255


# --- rendering ----------------------------------------------------------------------------


def substitute(template: str, values: dict[str, str]) -> str:
    """Replace the ``{name}`` placeholders of ``values`` and nothing else: other braces (JSON,
    array literals) stay as they are."""
    return re.sub(r"\{(" + "|".join(map(re.escape, values)) + r")\}", lambda m: values[m.group(1)], template)


def header_block(config: Config, title: str) -> str:
    """The configured header fields as the template writes them, with the MIGRATION title filled in."""
    block = hdr.skeleton(config.header)
    lines = block.split("\n")
    for i, line in enumerate(lines):
        name, sep, _ = line[3:].partition(":")
        if sep and hdr.normalize(name) == "migration":
            lines[i] = f"-- {name}: {title}"
            break
    return "\n".join(lines)


def default_migration(config: Config, t: Target) -> str:
    """The guidelines' template: filled-in title, the other header fields still ``[...]``."""
    return f"""\
{header_block(config, t.title)}

BEGIN;

{_SECTION}
-- CHANGES
{_SECTION}

-- Step 1: Describe what you're doing
-- (IF NOT EXISTS / IF EXISTS keep it re-runnable, e.g.
--  ALTER TABLE leads ADD COLUMN IF NOT EXISTS new_column text;)


{_SECTION}
-- VERIFICATION
{_SECTION}

-- Verify changes (a query that shows the change took effect)


COMMIT;

{_SECTION}
-- QUERIES TO VERIFY AFTER EXECUTION
{_SECTION}
--
-- SELECT * FROM _migrations.v_applied_migrations ORDER BY installed_on DESC LIMIT 5;
-- SELECT * FROM _migrations.get_migration_stats();
--
{_SECTION}
"""


def default_rollback(config: Config, t: Target) -> str:
    """The rollback scaffold: a short header and BEGIN/COMMIT around commented-out examples, so
    that ``empty-rollback`` reminds the author to write the undo."""
    return f"""\
{_SECTION}
-- ROLLBACK: {t.version} {t.title}
{_SECTION}
-- Undoes: {t.name}
{_SECTION}

BEGIN;

-- Undo each change of the migration, last change first, with IF EXISTS, e.g.
-- ALTER TABLE leads DROP COLUMN IF EXISTS new_column;

-- Then record the revert in the tracking table:
-- UPDATE _migrations.schema_migrations
--    SET reverted_at = NOW(), reverted_by = CURRENT_USER
--  WHERE version = '{t.version}';

COMMIT;
"""


def _package_template(name: str) -> str:
    return resources.files("migcheck").joinpath("templates", name).read_text(encoding="utf-8")


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def tracking_migration(config: Config, t: Target) -> str:
    return substitute(
        _package_template("tracking_schema.sql"), {"version": t.version, "rollback": _rel(t.rollback, t.mdir)}
    )


def tracking_rollback(config: Config, t: Target) -> str:
    return substitute(_package_template("tracking_schema_rollback.sql"), {"version": t.version, "migration": t.name})


def read_template(path: str | Path) -> str:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuthoringError(f"template not found: {path}") from None
    except UnicodeDecodeError:
        raise AuthoringError(f"template {path} is not UTF-8 text") from None
    except OSError as exc:
        raise AuthoringError(f"cannot read the template {path}: {exc.strerror or exc}") from None
    if not text.strip():
        raise AuthoringError(f"template {path} is empty")
    return text


def render_template(text: str, t: Target) -> str:
    """A team's template: ``{title}``, ``{version}`` and ``{description}`` replaced."""
    out = substitute(text, {"title": t.title, "version": t.version, "description": t.description})
    return out if out.endswith("\n") else out + "\n"


# --- writing ------------------------------------------------------------------------------


def _show(path: Path) -> str:
    rel = os.path.relpath(path, Path.cwd())
    return Path(rel if not rel.startswith("..") else path).as_posix()


def _inside_project(config: Config, path: Path, what: str, mdir: Path | None = None) -> None:
    """Nothing is written outside the project root (the configuration's directory), whatever the
    paths are made of (``config`` validates the keys; this is the last word). A migrations
    directory configured outside the project may be written below itself."""
    if inside(path, config.root) or (mdir is not None and not inside(mdir, config.root) and inside(path, mdir)):
        return
    raise AuthoringError(
        f"{what} {_show(path)} is outside the project ({_show(Path(config.root))}): migcheck writes "
        "only inside it; check `migrations`, `rollback` and `changelog` in the configuration"
    )


def write_pair(t: Target, migration_text: str, rollback_text: str, config: Config | None = None) -> list[Path]:
    """Write the migration and its rollback, creating the directories; never over an existing
    file, never outside the project (with ``config``). When the rollback cannot be written, the
    migration just written is removed again."""
    return write_files([(t.migration, migration_text), (t.rollback, rollback_text)], config, t.mdir)


def write_files(files: list[tuple[Path, str]], config: Config | None = None, mdir: Path | None = None) -> list[Path]:
    """Write ``(path, text)`` in order, creating the directories; never over an existing file,
    never outside the project (with ``config``; ``mdir``: the migrations directory, which may be
    configured outside it). When one cannot be written, the ones written before it are removed
    again."""
    for p, _ in files:
        if config is not None:
            _inside_project(config, p, "the file", mdir)
        try:
            exists = p.exists() or p.is_symlink()
        except OSError as exc:  # (a name too long for the file system, ...)
            raise AuthoringError(f"cannot write {_show(p)}: {exc.strerror or exc}") from None
        if exists:
            raise AuthoringError(f"{_show(p)} already exists; migcheck never overwrites a file")
    for p, _ in files:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AuthoringError(f"cannot create the directory for {_show(p)}: {exc.strerror or exc}") from None
    written: list[Path] = []
    for p, text in files:
        try:
            atomic_write(p, text)
        except (FileExistsError, OSError) as exc:
            for done in written:
                done.unlink(missing_ok=True)
            if isinstance(exc, FileExistsError):
                raise AuthoringError(f"{_show(p)} already exists; migcheck never overwrites a file") from None
            raise AuthoringError(f"cannot write {_show(p)}: {exc.strerror or exc}") from None
        written.append(p)
    return written


def changelog_path(config: Config, mdir: Path) -> Path:
    """The CHANGELOG.md the ``changelog-missing`` rule reads for ``mdir``; when there is none, the
    one to create beside the migrations directory."""
    from .analysis import changelog as cl

    setting = config.changelog
    if setting is False:
        raise AuthoringError("--changelog: the changelog is turned off in the configuration (`changelog = false`)")
    if setting is not True:
        p = Path(setting)
        if not p.is_absolute():
            p = config.root / p
        if p.is_dir():
            p = cl.changelog_in(p) or p / cl.NAME
        _inside_project(config, p, "the changelog")
        return p
    found, _, _ = cl.walk_up(Path(os.path.abspath(mdir)), {})
    return found if found is not None else Path(os.path.abspath(mdir)).parent / cl.NAME


def append_changelog(path: Path, version: str, title: str) -> Path:
    entry = f"- {version}: {title}\n"
    if path.exists():
        try:
            text = path.read_bytes().decode("utf-8")  # not read_text: its newline translation made CRLF files LF
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthoringError(f"cannot read {_show(path)}: {exc}") from None
        nl = "\r\n" if "\r\n" in text else "\n"  # the file's own line endings
        if text and not text.endswith("\n"):
            text += nl
        new = text + entry.replace("\n", nl)
    else:
        new = "# Changelog\n\n" + entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, new, overwrite=True)
    except OSError as exc:
        raise AuthoringError(f"cannot write {_show(path)}: {exc.strerror or exc}") from None
    return path


def new(
    config: Config,
    description: str,
    *,
    date: str | None = None,
    template: str | Path | None = None,
    changelog: bool = False,
) -> list[Path]:
    """``migcheck new``: the paths written (migration, rollback, and the changelog when asked).
    Under a runner preset: the next migration in the runner's own layout (``runner_files``)."""
    if layout.is_preset(config):
        files, version, title = runner_files(config, description, date)
        if template is not None:
            values = {"title": title, "version": version, "description": slug(description)}
            text = substitute(read_template(template), values)
            files[0] = (files[0][0], text if text.endswith("\n") else text + "\n")
        log = changelog_path(config, migrations_dir(config)) if changelog else None
        paths = write_files(files, config, migrations_dir(config))
        if log is not None:
            paths.append(append_changelog(log, version, title))
        return paths
    t = plan(config, description, date)
    text = render_template(read_template(template), t) if template is not None else default_migration(config, t)
    log = changelog_path(config, t.mdir) if changelog else None
    paths = write_pair(t, text, default_rollback(config, t), config)
    if log is not None:
        paths.append(append_changelog(log, t.version, t.title))
    return paths


def init(config: Config, *, date: str | None = None, changelog: bool = False) -> list[Path]:
    """``migcheck init``: the tracking-schema migration and its rollback (000 in an empty
    directory, else the next number)."""
    if layout.is_preset(config):
        from . import presets

        raise AuthoringError(
            f"`migcheck init` writes the guidelines' `_migrations` tracking schema; this project uses "
            f"{presets.get(config.preset).title}, which keeps its own record of the migrations it ran"
        )
    mdir = migrations_dir(config)
    for m in _group(config, mdir).migrations:
        if m.description == TRACKING_DESCRIPTION or m.name.endswith(f"_{TRACKING_DESCRIPTION}.sql"):
            raise AuthoringError(f"{_show(m.path)} already creates the tracking schema")
    t = plan(config, TRACKING_DESCRIPTION, date, title=TRACKING_TITLE, first_seq=0)
    log = changelog_path(config, t.mdir) if changelog else None
    paths = write_pair(t, tracking_migration(config, t), tracking_rollback(config, t), config)
    if log is not None:
        paths.append(append_changelog(log, t.version, t.title))
    return paths


def show(path: Path) -> str:
    """A written path as the commands print it: relative to the working directory when below it."""
    return _show(path)


# --- a runner's layout -----------------------------------------------------------------------


def _now():
    """The time a new migration is stamped with (UTC, as the Prisma and Supabase CLIs stamp them)."""
    import datetime

    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _numbers(names: list[str], pattern: str) -> list[str]:
    """The version digits ``pattern`` (a regex with one group) finds at the start of ``names``."""
    return [m.group(1) for n in names for m in [re.match(pattern, n)] if m]


def _sequence(taken: list[str], default_width: int) -> str | None:
    """The next number of a numbered directory (``000012`` after ``000011``, the same width), or
    None when its versions are timestamps (or it has none): then a timestamp is used."""
    small = [t for t in taken if len(t) < 12]
    if not small or len(small) < len(taken):
        return None
    width = max(len(t) for t in small) if any(t.startswith("0") for t in small) else default_width
    return f"{max(int(t) for t in small) + 1:0{width}d}"


def _stamp(now, fmt: str, taken: set[str]) -> str:
    """A timestamp version no migration has yet (a second later when two are made at once)."""
    import datetime

    while True:
        v = now.strftime(fmt)
        if v not in taken:
            return v
        now += datetime.timedelta(seconds=1)


def runner_files(config: Config, description: str, date: str | None = None):
    """``([(path, text)], version, title)`` of the next migration in the configured runner's layout:
    diesel's directory with up.sql and down.sql, golang-migrate's and sqlx's up/down pair, goose's
    and dbmate's sections in one file, Flyway's V and U scripts, Prisma's directory, a Supabase
    timestamp, pop's up/down pair, ... (docs/presets.md, "migcheck new")."""
    from . import presets

    preset = presets.get(config.preset)
    desc = slug(description)
    title = title_of(description)
    mdir = migrations_dir(config)
    if mdir.exists() and not mdir.is_dir():
        raise AuthoringError(
            f"{_show(mdir)} is not a directory (the first `migrations` directory of the configuration)"
        )
    group = _group(config, mdir)
    names = [
        m.path.name if m.path.name not in ("up.sql", "down.sql", "migration.sql") else m.path.parent.name
        for m in group.migrations + group.rollbacks
    ]
    taken = {m.version for m in group.migrations + group.rollbacks if m.version}
    now = _now()
    if date is not None:
        now = now.replace(year=int(check_date(date)[:4]), month=int(date[4:6]), day=int(date[6:8]))
    ts = _stamp(now, "%Y%m%d%H%M%S", taken)
    up = f"-- {title}\n\n"
    down = f"-- Undo: {title}\n\n"
    name = preset.name
    if name == "diesel":
        suffix = "-0000" if any(re.match(r"^\d{4}-\d{2}-\d{2}-\d{6}-\d{4}_", n) for n in names) else ""
        version = _stamp(now, "%Y-%m-%d-%H%M%S", {n.split("_", 1)[0].removesuffix("-0000") for n in names}) + suffix
        d = mdir / f"{version}_{desc}"
        return [(d / "up.sql", up), (d / "down.sql", down)], version, title
    if name in ("golang-migrate", "sqlx", "pop", "popx"):
        found = _numbers(names, r"^(\d+)_")
        version = _sequence(found, 6) if name in ("golang-migrate", "sqlx") else None
        if version is None:
            version = ts + ("000000" if found and all(len(v) == 20 for v in found) else "")
        base = mdir / f"{version}_{desc}"
        if name == "sqlx" and group.migrations and not any(n.endswith(".up.sql") for n in names):
            return [(mdir / f"{version}_{desc}.sql", up)], version, title  # the project's simple migrations
        return (
            [(base.with_name(base.name + ".up.sql"), up), (base.with_name(base.name + ".down.sql"), down)],
            version,
            title,
        )
    if name in ("goose", "dbmate"):
        version = (_sequence(_numbers(names, r"^(\d+)_"), 5) if name == "goose" else None) or ts
        lay = layout.runner_layout(config)
        text = f"{lay.up_marker}\n{up}\n{lay.down_marker}\n{down}"
        return [(mdir / f"{version}_{desc}.sql", text)], version, title
    if name in ("flyway", "refinery"):
        majors = [int(v) for v in _numbers(names, r"^[VU](\d+)") if len(v) < 12]
        version = str(max(majors) + 1) if majors else "1" if not names else ts
        files = [(mdir / f"V{version}__{desc}.sql", up)]
        if name == "flyway":
            files.append((mdir / f"U{version}__{desc}.sql", down))
        return files, version, title
    if name == "postgres-migrations":
        found = _numbers(names, r"^(\d+)[-_]")
        sep = "-" if sum(1 for n in names if re.match(r"^\d+-", n)) * 2 > len(names) else "_"
        width = max((len(v) for v in found if v.startswith("0")), default=4 if not found else 1)
        version = f"{max((int(v) for v in found), default=0) + 1:0{width}d}"
        return [(mdir / f"{version}{sep}{desc.replace('_', sep)}.sql", up)], version, title
    if name in ("supabase", "prisma"):
        if name == "prisma":
            return [(mdir / f"{ts}_{desc}" / "migration.sql", up)], ts, title
        return [(mdir / f"{ts}_{desc}.sql", up)], ts, title
    if name == "maragudk":
        found = _numbers(names, r"^(\d+)_")
        if found and all(len(v) < 10 for v in found):
            width = max(len(v) for v in found)
            version = f"{max(int(v) for v in found) + 1:0{width}d}_{desc}"
        else:  # maragudk's `migrate create`: `<unix seconds>-<name>`
            version = f"{int(now.timestamp())}-{desc}"
        return [(mdir / f"{version}.up.sql", up), (mdir / f"{version}.down.sql", down)], version, title
    raise AuthoringError(
        f"`migcheck new` does not write {preset.title} migrations: "
        + (
            "use `sqitch add <change>`, which also records the change in sqitch.plan"
            if name == "sqitch"
            else "write it by hand in the runner's layout (docs/presets.md)"
        )
    )
