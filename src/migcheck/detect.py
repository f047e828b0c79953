"""Recognise a migration runner's layout from the files, when the configuration names no preset
(docs/presets.md, "Auto-detection"). Only names and a few first lines are read: detection costs a
directory walk, not a parse. Nothing recognised: the guidelines, silently, as before presets.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

from . import fsutil, presets
from .config import DEFAULT_NAMING, Config
from .layout import DieselLayout, sql_paths_in

_GUIDELINES = re.compile(DEFAULT_NAMING)
_FLYWAY = re.compile(r"^(?:[VUB]\d+(?:[._]\d+)*|R)__.+\.sql$")
_UPDOWN = re.compile(r"^\d+_.+\.(?:up|down)\.sql$")
_NUMBERED = re.compile(r"^\d+_.+\.sql$")
_REFINERY = re.compile(r"^[UV]\d+__\w+\.sql$")
_DASHED = re.compile(r"^\d+-.+\.sql$")  # postgres-migrations (`0001-create-buckets.sql`)
_GOOSE = re.compile(r"^--\s*\+goose\s+up\b", re.I | re.M)
_DBMATE = re.compile(r"^--\s*migrate:up\b", re.M)
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


def detect_dir(d: Path) -> str | None:
    """The preset whose layout directory ``d`` has, or None."""
    d = d.resolve()
    if any((p / "sqitch.plan").is_file() for p in (d, *d.parents[:2])) and (
            (d / "deploy").is_dir() or d.name in ("deploy", "revert", "verify")):
        return "sqitch"
    files = sql_paths_in(d)  # strings: a Path each would cost more than the walk
    if not files:
        return None
    half = len(files) / 2
    base = os.path.basename
    diesel = sum(1 for p in files
                 if base(p) in ("up.sql", "down.sql") and DieselLayout.dir_re.match(base(os.path.dirname(p))))
    if diesel and diesel >= half:
        return "diesel"
    names = Counter()
    for p in files:
        n = base(p)
        if _GUIDELINES.match(n):
            names["guidelines"] += 1
        elif _FLYWAY.match(n):
            names["flyway"] += 1
        elif _UPDOWN.match(n):
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
        return "sqlx" if rust else "golang-migrate"
    if names["numbered"] + names["updown"] > half:
        numbered = sorted(Path(p) for p in files if _NUMBERED.match(base(p)))
        seen = _peek(numbered)
        if seen:
            return seen.most_common(1)[0][0]
        if all(p.parent.name == "migrations" and p.parent.parent.name == "supabase" for p in numbered):
            return "supabase"
        if rust:
            return "sqlx"
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
    if len(found) != 1:
        if len(found) > 1:
            echo(f"migcheck: these directories look like different runners' layouts ({', '.join(sorted(found))}): "
                 "checking with the guidelines; set `preset` in the configuration, or pass --preset, to choose one")
        return cfg
    (name, where), = found.items()
    echo(f"migcheck: detected {presets.get(name).title} layout (set preset = \"{name}\" in the configuration, "
         f"or pass --preset {name}, to silence this)")
    changes: dict = {"preset": name}
    if new_dirs is not None:
        changes["migrations"] = new_dirs
    return replace(cfg, **changes)
