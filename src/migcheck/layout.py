"""Where migrations live and what their names mean: which ``.sql`` files are migrations and which
are rollbacks, the migration directory a file belongs to, and a file's version, date, sequence
number and description. The engine asks this module; it does not parse file names itself.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .config import Config


@dataclass(frozen=True)
class Identity:
    """What a file name says about a migration (all ``None`` when the name does not match)."""

    version: str | None = None
    date: str | None = None
    seq: int | None = None
    description: str | None = None


def identify(path: Path, kind: str, config: Config) -> Identity:
    """The version, date, sequence number and description a migration's or rollback's name holds."""
    name = path.name
    if kind == "migration":
        m = config.naming.match(name)
        if m:
            return Identity(f"{m.group('date')}_{m.group('seq')}", m.group("date"), int(m.group("seq")),
                            m.group("description"))
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
    version = r"\d{8}_\d{3}" if config.naming.pattern == DEFAULT_NAMING else r"[^/]+?"
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
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        for name in files:
            if name.endswith(".sql"):
                found.append(Path(root) / name)
    return found


class Layout:
    """Which files are migrations and which are rollbacks, per the configured rollback pattern."""

    def __init__(self, config: Config):
        self.config = config
        self.rb_dirs, _ = config.rollback_parts()

    def files_in(self, directory: Path) -> list[Path]:
        """The files of a directory given on the command line (recursively)."""
        return sql_files_in(directory)

    def classify(self, path: Path) -> tuple[str, Path]:
        """(kind, migration directory) of a file."""
        n = len(self.rb_dirs)
        parent = path.parent
        if n and parent.parts[-n:] == self.rb_dirs:
            mdir = parent
            for _ in range(n):
                mdir = mdir.parent
            return "rollback", mdir
        if not n and rollback_name_regex(self.config).match(path.name):
            return "rollback", parent
        return "migration", parent

    def siblings(self, mdir: Path) -> list[Path]:
        """The other files of a migration directory, which the project rules look at."""
        out = []
        for d in (mdir, mdir.joinpath(*self.rb_dirs)) if self.rb_dirs else (mdir,):
            try:
                out.extend(p for p in d.iterdir() if p.name.endswith(".sql") and p.is_file())
            except OSError:
                pass
        return out
