"""Where a migration directory's CHANGELOG.md is: read by ``changelog-missing`` and by
``migcheck new --changelog``, which appends to the file the rule reads."""

from __future__ import annotations

import os
from pathlib import Path

NAME = "CHANGELOG.md"


def changelog_in(d: Path) -> Path | None:
    """CHANGELOG.md in directory ``d`` (any letter case), or None."""
    exact = d / NAME
    if exact.is_file():
        return exact
    try:
        names = os.listdir(d)
    except OSError:
        return None
    for n in sorted(names):
        if n.lower() == NAME.lower() and (d / n).is_file():
            return d / n
    return None


def walk_up(start: Path, cache: dict[Path, tuple[Path | None, list[Path], str]]):
    """(changelog, directories looked in, where the walk stopped) for a migration directory.

    Walks up from ``start`` to the first directory holding a CHANGELOG.md, stopping after the
    repository root (a directory containing ``.git``) or the file-system root. Every directory on
    the way is cached, so sibling directories share the walk."""
    visited: list[Path] = []
    d = start
    while True:
        if d in cache:
            found, looked, stop = cache[d]
            result = (found, visited + looked, stop)
            break
        visited.append(d)
        found = changelog_in(d)
        if found is not None:
            result = (found, visited, "found")
            break
        if (d / ".git").exists():
            result = (None, visited, "the repository root")
            break
        if d.parent == d:
            result = (None, visited, "the file-system root")
            break
        d = d.parent
    found, looked, stop = result
    for i, v in enumerate(visited):
        cache[v] = (found, looked[i:], stop)
    return result
