"""File-system helpers: atomic writes."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def _default_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file (0o666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path | str, text: str, overwrite: bool = False) -> Path:
    """Write ``text`` (UTF-8, line endings as given) to ``path`` atomically: readers see the old
    content or the new one, never a half-written file. The data goes to a temporary file in the
    same directory first, then takes the name (``os.replace`` when ``overwrite``; otherwise a hard
    link, which fails if the name exists, so a file created meanwhile is never clobbered).

    Raises ``FileExistsError`` when ``path`` exists and ``overwrite`` is false. The directory must
    exist. An existing file keeps its permission bits; a new one gets the umask's. Overwriting a
    symlink writes the file it points to (the link stays a link). Returns ``path``.
    """
    given = path = Path(path)
    if overwrite and path.is_symlink():
        path = Path(os.path.realpath(path))
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(errno.EEXIST, "file exists", str(path))
    try:
        mode = path.stat().st_mode & 0o7777 if overwrite and path.exists() else _default_mode()
    except OSError:
        mode = _default_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic and never replaces an existing name
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename
                if path.exists() or path.is_symlink():
                    raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
                os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    _fsync_dir(path.parent)
    return given


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
