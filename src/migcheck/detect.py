"""Recognise a migration runner's layout from the files, when the configuration names no preset
(docs/presets.md, "Auto-detection"). Only names and a few first lines are read: detection costs a
directory walk, not a parse. Nothing recognised: the guidelines, silently, as before presets.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from . import fsutil, presets
from ._lazyre import lazy
from .config import DEFAULT_NAMING, Config
from .layout import DieselLayout, sql_paths_in

_GUIDELINES = lazy(DEFAULT_NAMING)
_FLYWAY = lazy(r"^(?:[VUB]\d+(?:[._]\d+)*|R)__.+\.sql$")
_UPDOWN = lazy(r"^\d+_.+\.(?:up|down)\.sql$")
_NUMBERED = lazy(r"^\d+_.+\.sql$")
_REFINERY = lazy(r"^[UV]\d+__\w+\.sql$")
_DASHED = lazy(r"^\d+-.+\.sql$")  # postgres-migrations (`0001-create-buckets.sql`)
_UNDERSCORE_UPDOWN = lazy(r"^[\w-]+_(?:up|down)\.sql$", re.A)  # maragudk/migrate's `0021_x_up.sql`
# pop / popx: a database between the name and `.up.sql` (pop's dialect names), or popx's `.autocommit.`
_POP_INFIX = lazy(
    r"^\d+_[^.]+\.(?:postgres|postgresql|pg|pgx|cockroach|cockroachdb|crdb|mysql|mariadb|"
    r"sqlite|sqlite3|autocommit)(?:\.autocommit)?\.(?:up|down)\.sql$"
)
_GOOSE = lazy(r"^--\s*\+goose\s+up\b", re.I | re.M)
_DBMATE = lazy(r"^--\s*migrate:up\b", re.M)
_PEEK_FILES, _PEEK_BYTES = 20, 4096


def _has_ancestor_file(d: Path, name: str, levels: int = 4) -> bool:
    """``name`` in ``d`` or one of its parents, not above a repository root."""
    for p in (d, *d.parents[:levels]):
        if (p / name).is_file():
            return True
        if (p / ".git").exists():
            break
    return False


def _peek(paths: list[Path]) -> Counter:
    found: Counter = Counter()
    for p in paths[:_PEEK_FILES]:
        try:
            head = fsutil.read_regular(p, head=_PEEK_BYTES)[0].decode("utf-8", errors="replace")
        except OSError:
            continue
        if _GOOSE.search(head):
            found["goose"] += 1
        elif _DBMATE.search(head):
            found["dbmate"] += 1
    return found


# Go modules that say which migration runner a Go project uses (its go.mod)
_GO_RUNNERS = (
    ("github.com/gobuffalo/pop", "pop"),
    ("github.com/ory/x", "popx"),
    ("github.com/ory/pop", "popx"),
    ("github.com/maragudk/migrate", "maragudk"),
    ("maragu.dev/migrate", "maragudk"),
    ("github.com/golang-migrate/migrate", "golang-migrate"),
)


def _go_runners(d: Path) -> set[str]:
    """The runners the nearest go.mod above ``d`` (not above a repository root) requires."""
    for p in (d, *d.parents[:8]):
        mod = p / "go.mod"
        if mod.is_file():
            try:
                text = mod.read_text(encoding="utf-8", errors="replace")[:65536]
            except OSError:
                return set()
            return {name for module, name in _GO_RUNNERS if module in text}
        if (p / ".git").exists():
            break
    return set()


def _templates(paths: list[str]) -> bool:
    """Do the first files hold Go template actions (pop and popx render every migration)?"""
    for p in paths[:_PEEK_FILES]:
        try:
            with open(p, "rb") as fh:
                if b"{{" in fh.read(_PEEK_BYTES):
                    return True
        except OSError:
            continue
    return False


def _up_down_runner(d: Path, paths: list[str]) -> str:
    """Which runner reads these `<number>_<name>.up.sql` / `.down.sql` files: pop or popx (a
    database or `.autocommit` between the name and `.up.sql`, Go templates), maragudk/migrate
    (one number for several migrations, `_up.sql` names: golang-migrate refuses both), else the
    go.mod's runner, sqlx beside a Cargo.toml, golang-migrate."""
    base = os.path.basename
    names = [base(p) for p in paths]
    mods = _go_runners(d)
    if any(_POP_INFIX.match(n) for n in names) or _templates(sorted(paths)):
        if "popx" in mods or ("pop" not in mods and any(".autocommit." in n for n in names)):
            return "popx"
        return "pop"
    numbers: dict[str, set[str]] = {}
    for n in names:
        m = re.match(r"^(\d+)[_-](.*?)[._](?:up|down)\.sql$", n)
        if m:
            numbers.setdefault(m.group(1), set()).add(m.group(2))
    shared = sum(1 for v in numbers.values() if len(v) > 1)
    if (
        any(_UNDERSCORE_UPDOWN.match(n) and not _UPDOWN.match(n) for n in names)
        or shared >= 2
        or ("maragudk" in mods and "golang-migrate" not in mods)
    ):
        return "maragudk"
    for name in ("pop", "popx"):
        if name in mods and "golang-migrate" not in mods:
            return name
    if _has_ancestor_file(d, "Cargo.toml"):
        return "sqlx"
    return "golang-migrate"


# a directory of at least this many migrations whose names fit no layout is "unrecognised"
# (fewer: the guidelines, so that file-naming says what is wrong with each name)
UNRECOGNISED_MIN_FILES = 3


def detect_dir(d: Path) -> str | None:
    """The preset whose layout directory ``d`` has, or None."""
    d = d.resolve()
    if any((p / "sqitch.plan").is_file() for p in (d, *d.parents[:2])) and (
        (d / "deploy").is_dir() or d.name in ("deploy", "revert", "verify")
    ):
        return "sqitch"
    files = sql_paths_in(d)  # strings: a Path each would cost more than the walk
    if not files:
        return None
    half = len(files) / 2
    base = os.path.basename
    diesel = sum(
        1 for p in files if base(p) in ("up.sql", "down.sql") and DieselLayout.dir_re.match(base(os.path.dirname(p)))
    )
    if diesel and diesel >= half:
        return "diesel"
    prisma = sum(1 for p in files if base(p) == "migration.sql" and re.match(r"^\d+_", base(os.path.dirname(p))))
    if prisma and (prisma >= half or (d / "migration_lock.toml").is_file()):
        return "prisma"
    names = Counter()
    for p in files:
        n = base(p)
        if _GUIDELINES.match(n):
            names["guidelines"] += 1
        elif _FLYWAY.match(n):
            names["flyway"] += 1
        elif _UPDOWN.match(n) or _UNDERSCORE_UPDOWN.match(n):
            names["updown"] += 1
        elif _NUMBERED.match(n):
            names["numbered"] += 1
        elif _DASHED.match(n):
            names["dashed"] += 1
    if names["guidelines"] >= half:
        return None
    if names["dashed"] > half:
        return "postgres-migrations"
    rust = _has_ancestor_file(d, "Cargo.toml")
    if names["flyway"] > half:  # refinery reads Flyway's V<n>__ names, in a Rust project
        return "refinery" if rust and sum(1 for p in files if _REFINERY.match(base(p))) > half else "flyway"
    if names["updown"] > half:
        return _up_down_runner(d, files)
    if names["numbered"] + names["updown"] > half:
        numbered = sorted(Path(p) for p in files if _NUMBERED.match(base(p)))
        seen = _peek(numbered)
        if seen:
            return seen.most_common(1)[0][0]
        if all(p.parent.name == "migrations" and p.parent.parent.name == "supabase" for p in numbered):
            return "supabase"
        if rust:
            return "sqlx"
    if len(files) >= UNRECOGNISED_MIN_FILES:
        return presets.UNRECOGNISED  # neither the guidelines' names nor a runner's: said once (unknown-layout)
    return None


def _targets(cfg: Config, paths: Iterable[str], cwd: Path) -> tuple[list[Path], bool]:
    """(directories to look at, whether they are the configuration's defaults rather than paths given)."""
    given = [Path(p) if Path(p).is_absolute() else cwd / p for p in paths]
    if given:
        out = []
        for p in given:
            if os.path.isdir(p):  # not Path.is_dir: it raises PermissionError in a directory we may not search
                out.append(p)
            elif p.name in ("up.sql", "down.sql"):
                out.append(p.parent.parent)
            else:
                out.append(p.parent)
        return out, False
    return [cfg.root / m for m in cfg.migrations if (cfg.root / m).is_dir()], True


def apply(cfg: Config, paths: Iterable[str], cwd: Path, echo: Callable[[str], None]) -> Config:
    """``cfg`` with the detected preset (and, when no path was given and the configured directories do
    not exist, the preset's own directory); says which on ``echo``. Unchanged when nothing matches."""
    paths = list(paths)
    dirs, _ = _targets(cfg, paths, cwd)
    new_dirs = None
    if not dirs and not paths and cfg.source is None:  # nothing configured: look where runners keep them
        for name in presets.NAMES[1:]:
            for rel in presets.get(name).dirs:
                cand = cfg.root / rel
                if rel != "." and cand.is_dir() and detect_dir(cand) == name:
                    dirs, new_dirs = [cand], (rel,)
                    break
            if dirs:
                break
        if not dirs and detect_dir(cfg.root) == "sqitch":
            dirs, new_dirs = [cfg.root], (".",)
    found = {}
    for d in dict.fromkeys(dirs):  # pre-commit passes many files of one directory: look once
        try:
            name = detect_dir(d)
        except OSError:  # a directory we may not search: nothing recognised (check reports its files)
            name = None
        if name is not None:
            found.setdefault(name, d)
    if presets.UNRECOGNISED in found and (len(found) > 1 or cfg.naming.pattern != DEFAULT_NAMING):
        del found[presets.UNRECOGNISED]  # a runner's layout beside it, or a configured `naming`, decides
    if found.keys() == {presets.UNRECOGNISED}:  # said once per directory by unknown-layout, not here
        return cfg.replace(preset=presets.UNRECOGNISED)
    if len(found) != 1:
        if len(found) > 1:
            echo(
                f"migcheck: these directories look like different runners' layouts ({', '.join(sorted(found))}): "
                "checking with the guidelines; set `preset` in the configuration, or pass --preset, to choose one"
            )
        return cfg
    ((name, where),) = found.items()
    note = presets.get(name).note
    echo(
        f'migcheck: detected {presets.get(name).title} layout (set preset = "{name}" in the configuration, '
        f"or pass --preset {name}, to silence this)" + (f"; {note}" if note else "")
    )
    changes: dict = {"preset": name}
    if new_dirs is not None:
        changes["migrations"] = new_dirs
    return cfg.replace(**changes)
