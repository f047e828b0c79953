"""Where migrations live and what their names mean: which ``.sql`` files are migrations and which
are rollbacks, the migration directory a file belongs to, and a file's version, date, sequence
number and description. The engine asks this module; it does not parse file names itself.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from pathlib import Path
from typing import NamedTuple

from . import fsutil
from ._lazyre import lazy
from .config import Config


class Identity(NamedTuple):
    """What a file name says about a migration (all ``None`` when the name does not match).
    (A tuple: one is made for every file of every run.)"""

    version: str | None = None
    date: str | None = None
    seq: int | None = None
    description: str | None = None


def identify(path: Path, kind: str, config: Config) -> Identity:
    """The version, date, sequence number and description a migration's or rollback's name holds."""
    if is_preset(config):
        return runner_layout(config).identify(path, kind)
    name = path.name
    if kind == "migration":
        m = config.naming.match(name)
        seq = m.group("seq") if m else None
        if seq and seq.isascii() and seq.isdigit():  # (a `seq` group that matched nothing, or letters: no match)
            return Identity(f"{m.group('date')}_{seq}", m.group("date"), int(seq), m.group("description"))
    elif kind == "rollback":
        m = rollback_name_regex(config).match(name)
        if m:
            return Identity(m.group("version"))
    return Identity()


def rollback_name_regex(config: Config) -> re.Pattern:
    """The rollback file-name template as a regex. With the default naming a version is
    ``YYYYMMDD_NNN``; with a custom ``naming`` it is whatever stands where ``{version}`` is."""
    from .config import DEFAULT_NAMING

    _, template = config.rollback_parts()
    return _rollback_regex(template, config.naming.pattern == DEFAULT_NAMING)


@functools.lru_cache(maxsize=64)
def _rollback_regex(template: str, default_naming: bool) -> re.Pattern:
    version = r"\d{8}_\d{3}" if default_naming else r"[^/]+?"
    return re.compile("^" + re.escape(template).replace(re.escape("{version}"), f"(?P<version>{version})") + "$")


def display(path: Path, cwd: Path) -> str:
    """A path as findings show it: relative to the working directory when that is shorter."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        rel = os.path.relpath(path, cwd)
        return (rel if not rel.startswith("..") or len(rel) < len(str(path)) else str(path)).replace(os.sep, "/")


def sql_files_in(directory: Path) -> list[Path]:
    """Every ``*.sql`` file under ``directory``, skipping hidden directories and node_modules."""
    found: list[Path] = []
    for root, names in _sql_walk(directory, lambda err: found.append(Path(err))):
        here = Path(root)
        found.extend(here / name for name in names)
    return found


def sql_paths_in(directory: Path | str) -> list[str]:
    """``sql_files_in`` as strings (a Path each costs more than the walk itself)."""
    found: list[str] = []
    for root, names in _sql_walk(directory, lambda err: found.append(os.fspath(err))):
        found.extend(os.path.join(root, name) for name in names)
    return found


def _sql_walk(directory, on_unlistable):
    """(directory, its ``*.sql`` names) under ``directory``; ``on_unlistable(path)`` for a
    directory that cannot be listed: reported (unreadable-file), never skipped."""

    def unlistable(err: OSError) -> None:
        if err.filename:
            on_unlistable(err.filename)

    for root, dirs, files in os.walk(directory, onerror=unlistable):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        names = [name for name in files if name.endswith(".sql")]
        if names:
            yield root, names


def name_shape(name: str) -> str:
    """A file name's shape, for saying which names a directory holds: numbers become ``<number>``,
    words ``<name>`` (``0001-create-buckets.sql`` -> ``<number>-<name>.sql``, ``V1__init.sql`` ->
    ``V<number>__<name>.sql``)."""
    stem, dot, ext = name.partition(".")
    s = re.sub(r"\d+", "#", stem)
    # a word (letters, digits, single separators inside); a lone capital before a number (Flyway's
    # `V1__`) stays as it is
    s = re.sub(
        r"[A-Za-z][A-Za-z#]*(?:[_\- ][A-Za-z#]+)*",
        lambda m: (
            m.group(0)
            if re.fullmatch(r"[A-Z]#", m.group(0)[:2]) and len(m.group(0)) == 2
            else ("\0" if not re.fullmatch(r"[A-Z]", m.group(0)) else m.group(0))
        ),
        s,
    )
    return s.replace("#", "<number>").replace("\0", "<name>") + dot + ext


def name_shapes(names) -> list[tuple[str, int]]:
    """The shapes of ``names`` (``name_shape``), the most frequent first."""
    counts: dict[str, int] = {}
    for n in names:
        shape = name_shape(n)
        counts[shape] = counts.get(shape, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


class Layout:
    """Which files are migrations and which are rollbacks, per the configured rollback pattern
    (or, with a runner preset, per the runner's layout: ``RunnerLayout`` below)."""

    def __new__(cls, config: Config):
        if cls is Layout and is_preset(config):
            return runner_layout(config)
        return super().__new__(cls)

    def __init__(self, config: Config):
        self.config = config
        self.rb_dirs, _ = config.rollback_parts()
        self._dirs: dict[str, Path] = {}  # one Path per directory, shared by its files (classify)

    def files_in(self, directory: Path) -> list[Path]:
        """The files of a directory given on the command line (recursively)."""
        return sql_files_in(directory)

    def expand(self, files) -> list:
        """The files to check, from the collected ones: the same files here; a runner with up and
        down sections in one file makes two of each (``SectionsLayout``)."""
        return list(files)

    def classify(self, path: Path | str) -> tuple[str, Path]:
        """(kind, migration directory) of a file. (On the path's text: pathlib's ``parent`` and
        ``parts`` for every file were a tenth of a warm run over thousands of files.)"""
        parent = os.path.dirname(os.fspath(path))
        n = len(self.rb_dirs)
        if n:
            head, tail = parent, []
            for _ in range(n):
                head, part = os.path.split(head)
                tail.append(part)
            if tuple(reversed(tail)) == self.rb_dirs:
                return "rollback", self._dir(head)
        elif rollback_name_regex(self.config).match(os.path.basename(os.fspath(path))):
            return "rollback", self._dir(parent)
        return "migration", self._dir(parent)

    def _dir(self, text: str) -> Path:
        d = self._dirs.get(text)
        if d is None:
            d = self._dirs[text] = Path(text)
        return d

    def skip_reason(self, path: Path | str) -> str | None:
        """Why the runner never runs this ``.sql`` file on PostgreSQL, for a file the layout knows
        is not PostgreSQL's (another database's version of a migration): such a file is not
        checked, and the run says how many it left out. None for every file to check."""
        return None

    def render(self, text: str):
        """The text the runner runs, from the file's text: the same text here; a runner that
        renders its files as templates first (``PopLayout``) renders it, keeping every position.
        Returns ``(text, None)`` or ``(text, (message, offset))`` when it cannot be rendered."""
        return text, None

    def unit_of(self, m) -> str | None:
        """The migration a file is part of, when the runner's files are parts of one (popx's fizz
        conversions: one statement per file, the versions sharing a prefix); None otherwise."""
        return None

    def placeholder(self, f) -> bool:
        """Is ``f`` a file the runner's layout keeps empty on purpose (pop: the dialect-neutral file
        of a version whose real statements are in other databases' files)?"""
        return False

    def within_walk(self) -> bool:
        """Does a recursive ``files_in`` of a directory already list every sibling of the
        migration directories under it? (So ``engine.collect`` need not list them again.)"""
        return type(self) is Layout and not any(p.startswith(".") or p == "node_modules" for p in self.rb_dirs)

    def siblings(self, mdir: Path) -> list[str]:
        """The other files of a migration directory, which the project rules look at (paths as
        strings; ``is_file`` from the directory entry: no stat per file)."""
        out = []
        for d in (mdir, mdir.joinpath(*self.rb_dirs)) if self.rb_dirs else (mdir,):
            try:
                with os.scandir(d) as entries:
                    out.extend(e.path for e in entries if e.name.endswith(".sql") and e.is_file())
            except OSError:
                pass
        return out


# --- runner presets ----------------------------------------------------------------------


def is_preset(config: Config) -> bool:
    """Is a runner preset (not the guidelines' layout) in force? (``unrecognised``, the state of a
    directory whose layout detection could not name, reads files the guidelines' way.)"""
    return getattr(config, "preset", None) not in (None, "guidelines", UNRECOGNISED)


UNRECOGNISED = "unrecognised"  # presets.UNRECOGNISED


def run_order(f) -> tuple:
    """The sort key of migration ``f`` in its directory: the order its runner applies them (the
    guidelines' names sort by date and sequence number as they are)."""
    if is_preset(f.config):
        return runner_layout(f.config).order_key(f)
    return (0, (), f.name)


def runner_layout(config: Config):
    """The layout object of the configured runner preset (cached on the config object)."""
    cached = getattr(config, "_runner_layout", None)
    if cached is not None and cached.config is config:
        return cached
    lay = _RUNNER_LAYOUTS[config.preset](config)
    try:
        object.__setattr__(config, "_runner_layout", lay)
    except (AttributeError, TypeError):
        pass
    return lay


def render(config: Config, text: str):
    """``(text, None)``, or the text the configured runner runs after rendering it (``Layout.render``)."""
    if is_preset(config):
        return runner_layout(config).render(text)
    return text, None


def _blank(text: str, keep: list[tuple[int, int]]) -> str:
    """``text`` with every character outside the ``keep`` ranges turned into a space, line breaks
    kept: a section of a file that keeps every line and column where the real file has it."""
    out = []
    pos = 0
    for start, end in sorted(keep):
        if start > pos:
            out.append(re.sub(r"[^\r\n]", " ", text[pos:start]))
        out.append(text[max(start, pos) : end])
        pos = max(pos, end)
    out.append(re.sub(r"[^\r\n]", " ", text[pos:]))
    return "".join(out)


def _one_level_down(mdir: Path, pick) -> list[Path]:
    """The ``.sql`` files of a directory of migration directories (diesel, Prisma): ``pick(d)`` of
    each subdirectory, and the ``.sql`` files beside them (reported by file-naming, never skipped)."""
    out: list[Path] = []
    try:
        entries = sorted(mdir.iterdir())
    except OSError:
        return out
    for d in entries:
        try:
            if d.is_dir() and not d.name.startswith("."):
                out.extend(pick(d))
            elif d.name.endswith(".sql") and d.is_file():
                out.append(d)
        except OSError:
            continue
    return out


class RunnerLayout(Layout):
    """A runner's layout: one ``.sql`` file per migration, named ``<version>_<name>...``,
    rollbacks (when the runner has them) beside it. Subclasses set the name patterns."""

    # the migration and rollback file-name patterns: groups ``version`` and ``description``
    migration_re: re.Pattern = lazy(r"^(?P<version>\d+)_(?P<description>.*)\.sql$")
    rollback_re: re.Pattern | None = None
    shape = "<version>_<name>.sql"  # for file-naming's message
    numeric = True  # the runner parses the version as a number (`001` is `1`); else it is a string
    named = False  # the version is the migration's name (a typo in it is a near miss, not another version)

    def __init__(self, config: Config):
        from . import presets

        self.config = config
        self.preset = presets.get(config.preset)
        self.rb_dirs = ()

    # --- names -----------------------------------------------------------------------
    def match(self, path: Path, kind: str):
        if kind == "rollback":
            return self.rollback_re.match(path.name) if self.rollback_re else None
        return self.migration_re.match(path.name)

    def identify(self, path: Path, kind: str) -> Identity:
        m = self.match(path, kind)
        if not m or m.group("version") is None:
            return Identity()
        return self.identity(m.group("version"), m.group("description"))

    def identity(self, raw: str, description: str | None) -> Identity:
        """The version as the runner reads it: a number (golang-migrate, sqlx, goose: ``001`` is
        ``1``), or the digits as a string (dbmate, diesel, Supabase: ``001`` is not ``1``)."""
        digits = raw.replace("-", "")
        if not (digits.isdigit() and digits.isascii()):
            return Identity(raw, None, None, description)
        if not self.numeric:
            return Identity(digits, None, None, description)
        return Identity(str(int(digits)), None, int(digits), description)

    def order_key(self, f) -> tuple:
        """Sorts a directory's migrations in the order the runner applies them: by the version as
        a number where the runner reads a number (``9_x`` before ``10_x``), else by name; files
        without a version last."""
        if self.numeric and f.seq is not None:
            return (0, (f.seq,), f.name)
        return (0 if f.version is not None or not self.numeric else 1, (), f.name)

    def naming_problem(self, f) -> tuple[str, str] | None:
        """(message, help) when a migration's or rollback's name is not one the runner reads."""
        if f.version is not None:
            return None
        return (
            f"the file name `{f.name}` is not one {self.preset.title} reads as a migration ({self.shape}): "
            "it will not run",
            f'Rename it to the {self.shape} form (`migcheck` uses preset "{self.preset.name}").',
        )

    def missing_rollback(self, m) -> tuple[str, str] | None:
        """(message, help) of missing-rollback-file for migration ``m``, or None to say nothing."""
        want = self.rollback_name(m)
        if want is None:
            return None
        return (
            f"migration {m.version} has no {self.preset.down_name}: `{want}` does not exist",
            f"Create `{want}` with the statements that undo this migration (DROP ... IF EXISTS what it creates).",
        )

    def rollback_name(self, m) -> str | None:
        return None

    # --- files -----------------------------------------------------------------------
    def classify(self, path: Path) -> tuple[str, Path]:
        if self.rollback_re is not None and self.rollback_re.match(path.name):
            return "rollback", path.parent
        return "migration", path.parent

    def siblings(self, mdir: Path) -> list[Path]:
        try:
            return [p for p in mdir.iterdir() if p.name.endswith(".sql") and p.is_file()]
        except OSError:
            return []

    def rollback_of(self, project, migration):
        """The rollback of ``migration``: the rollback of its directory with the same version."""
        if migration.version is None or migration.mdir not in project.groups:
            return None
        for r in project.groups[migration.mdir].rollbacks:
            if r.version == migration.version:
                return r
        return None


class SupabaseLayout(RunnerLayout):
    # the CLI's own pattern: `^([0-9]+)_(.*)\.sql$` (timestamps from `supabase migration new`)
    shape = "<timestamp>_<name>.sql"
    numeric = False


class PostgresMigrationsLayout(RunnerLayout):
    # the npm package's names: `<id>_<name>.sql` or `<id>-<name>.sql`, consecutive ids, no down files
    migration_re = lazy(r"^(?P<version>\d+)[-_](?P<description>.*)\.sql$")
    shape = "<id>-<name>.sql"


class UpDownLayout(RunnerLayout):
    """golang-migrate and sqlx: ``<version>_<name>.up.sql`` and ``<version>_<name>.down.sql``."""

    migration_re = lazy(r"^(?P<version>\d+)_(?P<description>.*)\.up\.sql$")
    rollback_re = lazy(r"^(?P<version>\d+)_(?P<description>.*)\.down\.sql$")
    shape = "<version>_<name>.up.sql / .down.sql"

    def rollback_name(self, m) -> str | None:
        if not m.name.endswith(".up.sql"):
            return None  # a sqlx simple migration: irreversible by design
        return posixpath.join(posixpath.dirname(m.display), m.name[: -len(".up.sql")] + ".down.sql")


class SqlxLayout(UpDownLayout):
    # sqlx also runs simple (irreversible) migrations: `<version>_<name>.sql`
    migration_re = lazy(r"^(?P<version>\d+)_(?P<description>.*?)(?:\.up)?\.sql$")
    shape = "<version>_<name>.sql (or .up.sql / .down.sql)"

    def match(self, path: Path, kind: str):
        if kind != "rollback" and path.name.endswith(".down.sql"):
            return None
        return super().match(path, kind)


class FlywayLayout(RunnerLayout):
    """``V<version>__<desc>.sql`` versioned, ``U<version>__<desc>.sql`` undo, ``R__<desc>.sql``
    repeatable (no version, no undo), ``B<version>__`` baseline."""

    migration_re = lazy(r"^(?:[VB](?P<version>\d+(?:[._]\d+)*)|R(?P<rep>))__(?P<description>.+)\.sql$")
    rollback_re = lazy(r"^U(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.sql$")
    shape = "V<version>__<description>.sql (U... undo, R__... repeatable)"

    def identify(self, path: Path, kind: str) -> Identity:
        m = self.match(path, kind)
        if not m or m.group("version") is None:
            return Identity()
        # Flyway compares versions part by part as numbers: 1.01 is 1.1, and 1.0 is 1
        parts = [int(x) for x in re.split(r"[._]", m.group("version"))]
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        return Identity(".".join(map(str, parts)), None, parts[0] if len(parts) == 1 else None, m.group("description"))

    def order_key(self, f) -> tuple:
        # versions part by part as numbers (1.2 before 1.10); repeatable R__ migrations after them all
        if f.version is None:
            return (1, (), f.name)
        return (0, tuple(int(x) for x in f.version.split(".")), f.name)

    def naming_problem(self, f) -> tuple[str, str] | None:
        if f.version is not None or (f.kind == "migration" and self.migration_re.match(f.name)):
            return None  # a repeatable R__ migration has no version by design
        return super().naming_problem(f)

    def rollback_name(self, m) -> str | None:
        base = m.name[1:] if m.name.startswith("V") else None
        return posixpath.join(posixpath.dirname(m.display), "U" + base) if base else None


class RefineryLayout(RunnerLayout):
    r"""``V<version>__<name>.sql`` (versioned) and ``U<version>__<name>.sql`` (unversioned: may be
    applied out of order); no down files. refinery_core's pattern: ``^[UV](\d+(?:\.\d+)?)__(\w+)``,
    the version parsed as an ``i32`` (so ``V1.1__`` is an invalid version) and unique across V and U."""

    migration_re = lazy(r"^[UV](?P<version>\d+)__(?P<description>\w+)\.sql$")
    shape = "V<version>__<name>.sql (or U<version>__<name>.sql, unversioned)"


class DieselLayout(RunnerLayout):
    """``migrations/<version>_<name>/up.sql`` and ``down.sql`` (``metadata.toml`` beside them)."""

    # diesel's `version_from_string`: the name up to the first `_`, dashes removed, a string
    dir_re = lazy(r"^(?P<version>\d[\d-]*)_(?P<description>.+)$")
    shape = "<version>_<name>/up.sql and down.sql"
    numeric = False

    def match(self, path: Path, kind: str):
        if path.name != ("down.sql" if kind == "rollback" else "up.sql"):
            return None
        return self.dir_re.match(path.parent.name)

    def classify(self, path: Path) -> tuple[str, Path]:
        if path.name in ("up.sql", "down.sql"):
            return ("migration" if path.name == "up.sql" else "rollback"), path.parent.parent
        return "migration", path.parent  # not a diesel migration: file-naming says so, the rest still checks it

    def siblings(self, mdir: Path) -> list[Path]:
        return _one_level_down(mdir, lambda d: [d / n for n in ("up.sql", "down.sql") if (d / n).is_file()])

    def expand(self, files) -> list:
        for f in files:  # `2019-02-26-002946_create_user/up.sql`: up.sql alone says nothing
            if f.kind in ("migration", "rollback") and f.path.name in ("up.sql", "down.sql"):
                f.name = f"{f.path.parent.name}/{f.path.name}"
        return list(files)

    def naming_problem(self, f) -> tuple[str, str] | None:
        if f.version is not None:
            return None
        if f.path.name in ("up.sql", "down.sql"):
            return super().naming_problem(f)
        return (
            f"`{f.path.name}` is not a diesel migration (diesel runs `<version>_<name>/up.sql` and its "
            "`down.sql`): diesel never runs it",
            "Move it to `<version>_<name>/up.sql` (`diesel migration generate <name>` makes the directory), "
            "or set the `preset` that matches these files (docs/presets.md).",
        )

    def rollback_name(self, m) -> str | None:
        return posixpath.join(posixpath.dirname(m.display), "down.sql")


class SqitchLayout(RunnerLayout):
    """``sqitch.plan`` with ``deploy/<change>.sql``, ``revert/<change>.sql`` and
    ``verify/<change>.sql`` (verify scripts are tests, not migrations)."""

    shape = "deploy/<change>.sql"
    KINDS = {"deploy": "migration", "revert": "rollback", "verify": "other"}

    @staticmethod
    def _split(path: Path) -> tuple[Path, str, str] | None:
        """(project root, deploy/revert/verify, change name) of a script."""
        parts = path.parts
        for i in range(len(parts) - 2, -1, -1):
            if parts[i] in SqitchLayout.KINDS:
                change = "/".join(parts[i + 1 :])
                if change.endswith(".sql"):
                    change = change[:-4]
                return Path(*parts[:i]) if i else Path("."), parts[i], change
        return None

    def identify(self, path: Path, kind: str) -> Identity:
        found = self._split(path)
        return Identity(found[2], None, None, found[2]) if found else Identity()

    def classify(self, path: Path) -> tuple[str, Path]:
        found = self._split(path)
        if found is None:
            return "migration", path.parent
        return self.KINDS[found[1]], found[0]

    def files_in(self, directory: Path) -> list[Path]:
        return [p for p in sql_files_in(directory) if self.classify(p)[0] != "other"]

    def siblings(self, mdir: Path) -> list[Path]:
        out = []
        for sub in ("deploy", "revert"):
            if (mdir / sub).is_dir():
                out.extend(sql_files_in(mdir / sub))
        return out

    def skip_reason(self, path: Path | str) -> str | None:
        """A ``.sql`` file of a sqitch project (a ``sqitch.plan`` above it) outside its ``deploy/``,
        ``revert/`` and ``verify/`` directories (pgTAP tests, saved queries, benchmarks): sqitch
        never runs it, so it is not a migration. Outside a sqitch project the file is checked
        (file-naming says sqitch does not run it)."""
        path = Path(path)
        if self._split(path) is not None:
            return None
        if _sqitch_root(os.path.dirname(os.path.abspath(path))) is None:
            return None
        return "in a sqitch project but outside its deploy/, revert/ and verify/ directories: not sqitch scripts"

    def naming_problem(self, f) -> tuple[str, str] | None:
        if f.version is not None:
            if f.kind != "migration":
                return None
            found = self._split(f.path)
            planned = _sqitch_plan(os.path.abspath(found[0])) if found else None
            change = f.version.split("@", 1)[0]  # `deploy/<change>@<tag>.sql`: a reworked change's earlier script
            if planned is None or change in planned:
                return None
            return (
                f"`{f.display}`: sqitch.plan names no change `{change}`, so sqitch never deploys this script",
                f"Add the change to the plan with `sqitch add {change}` (or write its line in sqitch.plan), "
                "or delete the script.",
            )
        return (
            f"`{f.name}` is not under a sqitch `deploy/` or `revert/` directory: sqitch does not run it",
            "Move it to `deploy/<change>.sql` and add the change to `sqitch.plan` (`sqitch add <change>`).",
        )

    def rollback_name(self, m) -> str | None:
        return f"revert/{m.version}.sql"


def _sqitch_root(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` that holds a ``sqitch.plan``, or None.
    (Asked only for the files outside a project's script directories: not memoised, so a
    long-running ``migcheck lsp`` sees a plan added later.)"""
    d = directory
    while True:
        if os.path.isfile(os.path.join(d, "sqitch.plan")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _sqitch_plan(root: str) -> frozenset[str] | None:
    """The change names ``root/sqitch.plan`` lists (None when there is none or it cannot be read).
    A change line starts with the change's name; ``%`` pragmas, ``@`` tags and ``#`` comments are
    not changes (sqitch's plan format, sqitch-changes). Memoised on the plan's stat: an edited
    plan is read again."""
    try:
        st = os.stat(os.path.join(root, "sqitch.plan"))
    except OSError:
        return None
    return _read_plan(root, st.st_mtime_ns, st.st_size, st.st_ino)


@functools.lru_cache(maxsize=64)
def _read_plan(root: str, *stat) -> frozenset[str] | None:
    try:
        text = fsutil.read_regular(Path(root) / "sqitch.plan", 1 << 22)[0].decode("utf-8", "replace")
    except OSError:
        return None
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if line and line[0] not in "%@#":
            names.add(line.split()[0])
    return frozenset(names)


class SectionsLayout(RunnerLayout):
    """dbmate and goose: one file per migration, with an up and a down section. Each file becomes
    two: the migration (the up section) and its rollback (the down section), each with the other
    section blanked to spaces, so every line and column is the real file's."""

    up_re: re.Pattern
    down_re: re.Pattern
    up_marker = down_marker = ""

    def sections(self, text: str):
        """(up ranges, down ranges, up marker match, down marker match) of a file's text."""
        up = self.up_re.search(text)
        down = self.down_re.search(text, up.end() if up else 0)
        if down is None:
            return [(0, len(text))], None, up, None
        return [(0, down.start())], [(down.start(), len(text))], up, down

    def expand(self, files) -> list:
        from .files import MigrationFile

        out = []
        for f in files:
            if f.kind != "migration":
                out.append(f)
                continue
            try:
                data = (
                    f.content
                    if f.content is not None
                    else fsutil.read_regular(f.path, getattr(f.config, "max_file_size", None))[0]
                )
                text = data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                out.append(f)  # the engine reports what it cannot read or decode
                continue
            up, down, _, _ = self.sections(text)
            if down is None:
                f.content = data
                out.append(f)
                continue
            f.content = _blank(text, up).encode("utf-8")  # the migration: the up section
            f.section_source = text  # the whole file (goose's NO TRANSACTION covers both sections)
            out.append(f)
            # the rollback: the down section, a file of its own for the engine (its results are
            # keyed by path: this one is `<file>#down`), shown and reported as the real file
            part = MigrationFile(f.path, f.display, "rollback", f.mdir, f.config, _blank(text, down).encode("utf-8"))
            part.path = f.path.with_name(f.path.name + "#down")
            part.section_of = f.path
            part.section_source = text
            out.append(part)
        return out

    def classify(self, path: Path) -> tuple[str, Path]:
        return "migration", path.parent

    def match(self, path: Path, kind: str):
        return self.migration_re.match(path.name)  # both sections are named by the one file

    def missing_rollback(self, m) -> tuple[str, str] | None:
        return (
            f"migration {m.version} has no `{self.down_marker}` section: {self.preset.title} cannot roll it back",
            f"Add `{self.down_marker}` after the up statements, with the statements that undo them "
            "(DROP ... IF EXISTS what the migration creates).",
        )


class GooseLayout(SectionsLayout):
    # annotations are case-insensitive and start their line (pressly.github.io/goose/documentation/annotations)
    up_re = lazy(r"^--\s*\+goose\s+up\b.*$", re.I | re.M)
    down_re = lazy(r"^--\s*\+goose\s+down\b.*$", re.I | re.M)
    up_marker, down_marker = "-- +goose Up", "-- +goose Down"


class DbmateLayout(SectionsLayout):
    up_re = lazy(r"^--\s*migrate:up\b.*$", re.M)
    down_re = lazy(r"^--\s*migrate:down\b.*$", re.M)
    up_marker, down_marker = "-- migrate:up", "-- migrate:down"
    numeric = False


class PrismaLayout(RunnerLayout):
    """Prisma Migrate: ``prisma/migrations/<timestamp>_<name>/migration.sql`` (``migration_lock.toml``
    beside the directories). The migration is named by its directory: ``_prisma_migrations``
    records the directory name, and the directories run in name order."""

    shape = "<timestamp>_<name>/migration.sql"
    numeric = False
    NAME = "migration.sql"

    def match(self, path: Path, kind: str):
        if kind == "rollback" or path.name != self.NAME:
            return None
        return re.match(r"^(?P<version>(?:\d+_)?(?P<description>.+))$", path.parent.name)

    def identity(self, raw: str, description: str | None) -> Identity:
        return Identity(raw, None, None, description)

    def classify(self, path: Path) -> tuple[str, Path]:
        if path.name == self.NAME or (path.parent / self.NAME).is_file():
            return "migration", path.parent.parent
        return "migration", path.parent

    def siblings(self, mdir: Path) -> list[Path]:
        return _one_level_down(
            mdir, lambda d: [p for p in sorted(d.iterdir()) if p.name.endswith(".sql") and p.is_file()]
        )

    def expand(self, files) -> list:
        for f in files:
            if f.path.name == self.NAME:
                f.name = f"{f.path.parent.name}/{f.path.name}"
        return list(files)

    def naming_problem(self, f) -> tuple[str, str] | None:
        if f.version is not None:
            return None
        return (
            f"`{f.name}` is not a migration Prisma Migrate runs (it runs `migration.sql` in each "
            "`<timestamp>_<name>/` directory of prisma/migrations): it never runs",
            "Move the statements into a migration directory's `migration.sql` "
            "(`prisma migrate dev --create-only` makes one), or delete the file.",
        )


# pop's dialect names and synonyms (pop `CanonicalDialect`, dialect_*.go)
POP_DIALECTS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "pg": "postgres",
    "pgx": "postgres",
    "cockroach": "cockroach",
    "cockroachdb": "cockroach",
    "crdb": "cockroach",
    "mysql": "mysql",
    "mariadb": "mariadb",
    "sqlite": "sqlite3",
    "sqlite3": "sqlite3",
}
DATABASE_TITLES = {"cockroach": "CockroachDB", "mysql": "MySQL", "mariadb": "MariaDB", "sqlite3": "SQLite"}


class PopName(NamedTuple):
    version: str
    description: str
    dialect: str | None  # canonical dialect; "all" for a dialect-neutral file; None: one pop does not know
    raw_dialect: str
    autocommit: bool
    direction: str


class PopLayout(RunnerLayout):
    """gobuffalo pop and ory popx: ``<version>_<name>[.<dialect>][.autocommit].(up|down).sql``, each
    file a Go template (``gotemplate``). A ``.postgres.`` file replaces the dialect-neutral file of
    its version and direction on PostgreSQL; ``.mysql.``, ``.sqlite3.``, ``.cockroach.`` files are
    other databases' (not checked). Versions are strings (``strings.Compare``); popx reads a
    version longer than 14 digits as part of the migration its first 14 digits name (the fizz
    migrations it converted to one statement per file)."""

    # popx match.go `MigrationFileRegexp`; pop's is the same without `.autocommit` (and with .fizz)
    name_re = lazy(
        r"^(?P<version>\d+)_(?P<description>[^.]+)(?P<dialect>\.[a-z0-9]+)?"
        r"(?P<autocommit>\.autocommit)?\.(?P<direction>up|down)\.sql$"
    )
    shape = "<version>_<name>[.<dialect>].up.sql / .down.sql"
    numeric = False
    LEGACY_DIGITS = 14  # popx migrator.go: `legacyVersion = mi.Version[:14]`

    def __init__(self, config: Config):
        super().__init__(config)
        self.popx = self.preset.name == "popx"
        self._listings: dict[str, frozenset] = {}

    def parse(self, name: str) -> PopName | None:
        m = self.name_re.match(name)
        if m is None:
            return None
        raw = (m.group("dialect") or "")[1:]
        autocommit = bool(m.group("autocommit"))
        if not self.popx and autocommit:
            return None  # two infixes: not pop's pattern
        if self.popx and raw == "autocommit":
            raw, autocommit = "", True
        dialect = "all" if not raw else POP_DIALECTS.get(raw)
        return PopName(m.group("version"), m.group("description"), dialect, raw, autocommit, m.group("direction"))

    def _listing(self, directory: str) -> frozenset:
        got = self._listings.get(directory)
        if got is None:
            try:
                got = frozenset(e.name for e in os.scandir(directory) if e.name.endswith(".sql"))
            except OSError:
                got = frozenset()
            self._listings[directory] = got
        return got

    def specific(self, directory: str, version: str, direction: str) -> str | None:
        """The PostgreSQL-specific file of ``version`` and ``direction`` in the directory, if any."""
        for name in sorted(self._listing(directory)):
            if name.startswith(version + "_"):
                p = self.parse(name)
                if p is not None and p.version == version and p.direction == direction and p.dialect == "postgres":
                    return name
        return None

    def skip_reason(self, path: Path | str) -> str | None:
        path = os.fspath(path)
        p = self.parse(os.path.basename(path))
        if p is None or p.dialect is None:
            return None
        if p.dialect not in ("all", "postgres"):
            return f"for {DATABASE_TITLES[p.dialect]}"
        if p.dialect == "all" and self.specific(os.path.dirname(path), p.version, p.direction):
            return "dialect-neutral, replaced on PostgreSQL by a `.postgres.` file of the same version"
        return None

    def match(self, path: Path, kind: str):
        p = self.parse(path.name)
        if p is None or p.dialect not in ("all", "postgres") or (p.direction == "down") != (kind == "rollback"):
            return None
        return p

    def identify(self, path: Path, kind: str) -> Identity:
        p = self.match(path, kind)
        return Identity(p.version, None, None, p.description) if p else Identity()

    def classify(self, path: Path) -> tuple[str, Path]:
        p = self.parse(path.name)
        return ("rollback" if p is not None and p.direction == "down" else "migration"), path.parent

    def render(self, text: str):
        from . import gotemplate

        rendered, problem = gotemplate.render(text)
        return rendered, (None if problem is None else (problem.message, problem.offset))

    def placeholder(self, f) -> bool:
        """popx and pop run an empty file as nothing ("ignoring migration because content is empty"):
        an empty file (dialect-neutral or `.postgres.`) beside other files of its version and
        direction is the no-op that keeps that version's statements to the other databases."""
        p = self.parse(f.path.name)
        if p is None or p.dialect not in ("all", "postgres"):
            return False
        for name in self._listing(os.fspath(f.path.parent)):
            q = self.parse(name) if name.startswith(p.version + "_") else None
            if (
                q is not None
                and q.version == p.version
                and q.direction == p.direction
                and q.dialect not in (p.dialect, None)
            ):
                return True
        return False

    def unit_of(self, m) -> str | None:
        v = m.version
        return v[: self.LEGACY_DIGITS] if v is not None and len(v) > self.LEGACY_DIGITS and v.isdigit() else None

    def naming_problem(self, f) -> tuple[str, str] | None:
        if f.version is not None:
            return None
        p = self.parse(f.name)
        if not self.popx and ".autocommit." in f.name:
            return (
                f"`{f.name}`: gobuffalo pop has no `.autocommit.` migrations (ory popx has): pop reads "
                "`autocommit` as a database it does not know and ignores the file, so it never runs",
                "Remove `.autocommit` from the name (pop runs every migration in a transaction), or use ory popx.",
            )
        if p is not None and p.dialect is None:
            return (
                f"`{f.name}` names the database `{p.raw_dialect}`, which {self.preset.title} does not know: "
                'it ignores the file ("unsupported dialect"), so it never runs',
                "Use one of `postgres`, `cockroach`, `mysql`, `mariadb`, `sqlite3` (or no dialect for every "
                "database) between the name and `.up.sql`.",
            )
        return super().naming_problem(f)

    def rollback_name(self, m) -> str | None:
        if not m.name.endswith(".up.sql"):
            return None
        return posixpath.join(posixpath.dirname(m.display), m.name[: -len(".up.sql")] + ".down.sql")


class MaragudkLayout(RunnerLayout):
    r"""maragudk/migrate (``maragu.dev/migrate``): ``<version>.up.sql`` and ``<version>.down.sql``
    at the top of the directory, the version being the whole name before ``.up.sql``, compared
    as a string. migrate.go's patterns are ``^([\w-]+).up.sql$`` and ``^([\w-]+).down.sql``,
    whose unescaped dots match any character: ``0021_x_up.sql`` is the up migration ``0021_x``."""

    migration_re = lazy(r"^(?P<version>[0-9A-Za-z_-]+).up.sql$")
    rollback_re = lazy(r"^(?P<version>[0-9A-Za-z_-]+).down.sql")
    shape = "<version>.up.sql / <version>.down.sql"
    numeric = False
    named = True

    def identity(self, raw: str, description: str | None) -> Identity:
        lead = re.match(r"^\d+[-_.]?", raw)
        return Identity(raw, None, None, raw[lead.end() :] if lead else raw)

    def identify(self, path: Path, kind: str) -> Identity:
        m = self.match(path, kind)
        return self.identity(m.group("version"), None) if m else Identity()

    def rollback_name(self, m) -> str | None:
        if not m.name.endswith("up.sql"):
            return None
        return posixpath.join(posixpath.dirname(m.display), m.name[: -len("up.sql")] + "down.sql")


_RUNNER_LAYOUTS = {
    "supabase": SupabaseLayout,
    "postgres-migrations": PostgresMigrationsLayout,
    "golang-migrate": UpDownLayout,
    "sqlx": SqlxLayout,
    "diesel": DieselLayout,
    "dbmate": DbmateLayout,
    "goose": GooseLayout,
    "flyway": FlywayLayout,
    "sqitch": SqitchLayout,
    "refinery": RefineryLayout,
    "prisma": PrismaLayout,
    "pop": PopLayout,
    "popx": PopLayout,
    "maragudk": MaragudkLayout,
}


def rollback_of(project, migration):
    """The rollback file of ``migration`` under a runner preset."""
    return runner_layout(project.config).rollback_of(project, migration)
