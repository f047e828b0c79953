"""``migcheck.lock``: the checksum of each migration when it was locked (docs/tracking.md).

The checksum (also what ``migcheck status`` compares with ``_migrations.schema_migrations.checksum``)
is the SHA-256, in lowercase hex, of the file's normalised content:

- decoded as ``check`` decodes it (UTF-8, a UTF-8 BOM dropped; UTF-16 with a BOM);
- every CRLF and lone CR line ending turned into LF;
- encoded as UTF-8 (no BOM).

So a checkout with CRLF line ends (git ``autocrlf``) or an editor that adds a BOM does not count as
an edit; any other byte does (white space, comments, a trailing newline). A file that cannot be
decoded is hashed as bytes with the same BOM and line-ending rules.

The file: comment lines start with ``#``; every other line is ``VERSION SHA256 PATH`` (PATH relative
to the configuration root, ``/`` separators), sorted by version. VERSION is the ``YYYYMMDD_NNN``
of the file name, or the file name itself when it has none.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from . import fsutil, source
from .config import Config

NAME = "migcheck.lock"
_HEX = re.compile(r"[0-9a-f]{64}")
HEADER = (
    "# migcheck.lock: the checksum of each migration when it was locked (`migcheck lock`).\n"
    "# `migcheck check` reports a locked migration that was edited or deleted (modified-migration).\n"
    "# Checksum: sha256 of the file as UTF-8 without BOM, line endings as LF. Do not edit by hand.\n"
)


class LockError(Exception):
    """The lock file cannot be read or is not in the lock format; the message says where."""


@dataclass(frozen=True)
class Entry:
    """One migration recorded in ``migcheck.lock``."""

    version: str
    sha256: str
    path: str  # relative to the configuration root, / separators


def normalise_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def checksum_text(text: str) -> str:
    """The checksum of a decoded file (as ``MigrationFile.text`` has it: BOM dropped)."""
    return hashlib.sha256(normalise_text(text.removeprefix("\ufeff")).encode("utf-8")).hexdigest()


def checksum(data: bytes) -> str:
    """The checksum of a file's bytes."""
    try:
        return checksum_text(source.decode(data))
    except source.DecodeError:
        data = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return hashlib.sha256(data).hexdigest()


def file_checksum(f) -> str:
    """The checksum of a ``MigrationFile`` (its in-memory content when it has one). For a runner
    file holding both an up and a down section (goose, dbmate) it is the whole file's: an edit of
    either section is an edit, and the runner's own checksum covers the file too."""
    whole = getattr(f, "section_source", None)
    if whole is not None:
        return checksum_text(whole)
    if f.read_problem is None:
        return checksum_text(f.text)
    data = f.content if f.content is not None else fsutil.read_regular(f.path)[0]
    return checksum(data)


def path_of(config: Config) -> Path:
    return config.root / NAME


def key_of(f) -> str:
    return f.version or f.name


def relative(path: Path, config: Config) -> str:
    try:
        return path.relative_to(config.root).as_posix()
    except ValueError:
        import os

        return Path(os.path.relpath(path, config.root)).as_posix()


def parse(text: str, where: str = NAME) -> dict[str, Entry]:
    """The entries of a lock file's text, by version; LockError on any line that is not one."""
    out: dict[str, Entry] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) != 3:
            raise LockError(f"{where} line {n}: expected `VERSION SHA256 PATH`, found {raw.strip()[:60]!r}")
        version, digest, path = parts
        if not _HEX.fullmatch(digest):
            raise LockError(f"{where} line {n}: {digest[:70]!r} is not a SHA-256 checksum (64 lowercase hex digits)")
        if version in out:
            raise LockError(f"{where} line {n}: version {version} is locked twice (also on an earlier line)")
        out[version] = Entry(version, digest, path.strip())
    return out


def read(path: Path) -> dict[str, Entry] | None:
    """The entries of the lock file at ``path``; None when there is none; LockError when it is
    unreadable or corrupt."""
    try:
        data = fsutil.read_regular(path)[0]
    except FileNotFoundError:
        return None
    except fsutil.NotRegularFile as exc:
        raise LockError(f"{path.name}: {exc.strerror}, not a lock file") from None
    except OSError as exc:
        raise LockError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LockError(f"{path.name} is not UTF-8 text (byte offset {exc.start})") from None
    return parse(text, path.name)


def render(entries: dict[str, Entry]) -> str:
    lines = [HEADER]
    for version in sorted(entries):
        e = entries[version]
        lines.append(f"{e.version} {e.sha256} {e.path}\n")
    return "".join(lines)


# --- comparing with the migrations on disk ---------------------------------------------------


@dataclass(frozen=True)
class Current:
    """A migration as it is on disk now, to compare with its ``Entry``."""

    version: str
    sha256: str
    path: str  # relative to the configuration root
    display: str  # as shown to the user (relative to the working directory)


@dataclass(frozen=True)
class Problem:
    """A recorded migration that was edited, deleted or renamed since it was locked."""

    kind: str  # "edited", "deleted", "renamed", "unlocked"
    version: str
    display: str
    detail: str

    def line(self) -> str:
        return f"{self.display}: {self.detail}"


class DuplicateVersion(Exception):
    pass


def current(project, config: Config) -> dict[str, Current]:
    """The migrations of ``project`` (the configured directories: ``engine.configured_project``), by version."""
    out: dict[str, Current] = {}
    for f in project.files:
        if f.kind != "migration":
            continue
        key = key_of(f)
        if key in out:
            raise DuplicateVersion(
                f"{out[key].display} and {f.display} share the version {key}: "
                "give one of them a new number (see `migcheck check`, duplicate-version), "
                "then lock"
            )
        out[key] = Current(key, file_checksum(f), relative(f.path, config), f.display)
    return out


def compare(locked: dict[str, Entry], now: dict[str, Current], config: Config, cwd: Path) -> list[Problem]:
    import os

    from .layout import display

    out = []
    for version in sorted(set(locked) | set(now)):
        e, c = locked.get(version), now.get(version)
        if e is not None and c is None:
            shown = display(Path(os.path.abspath(config.root / e.path)), cwd)
            out.append(Problem("deleted", version, shown, f"locked as {version} but deleted"))
        elif e is None and c is not None:
            out.append(Problem("unlocked", version, c.display, f"{version} is not in {NAME} (run `migcheck lock`)"))
        elif e is not None and c is not None:
            if e.sha256 != c.sha256:
                out.append(
                    Problem(
                        "edited",
                        version,
                        c.display,
                        f"edited since it was locked (locked sha256 {e.sha256[:12]}, now {c.sha256[:12]})",
                    )
                )
            elif e.path != c.path:
                out.append(
                    Problem(
                        "renamed",
                        version,
                        c.display,
                        f"locked as {e.path} (renamed; run `migcheck lock` to record the new name)",
                    )
                )
    return out
