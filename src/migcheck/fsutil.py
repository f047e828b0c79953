"""File-system helpers: atomic writes."""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

# Every temporary file migcheck writes is named `.<file name>.migcheck-XXXXXXXX.tmp`, beside the
# file it becomes. A process killed while writing one leaves it behind; the next write into that
# directory removes those older than STALE_SECONDS (a live writer's is seconds old), and only
# those: the tag is in the name.
TEMP_TAG = ".migcheck-"
STALE_SECONDS = 60


def __getattr__(name: str):
    if name == "tempfile":  # imported when first written with (40 ms: a check only reads)
        import tempfile

        return tempfile
    raise AttributeError(name)


class ChangedError(Exception):
    """The file changed (an editor saved it) since the caller read it: not written."""


class NotRegularFile(OSError):
    """A path that is not a regular file (a device, a FIFO, a socket, a directory): migcheck
    never reads one (``/dev/zero`` never ends, a FIFO blocks until someone writes)."""


class TooLarge(OSError):
    """A file above the size limit, counted while reading (it may grow after its stat)."""

    def __init__(self, path, size: int, limit: int):
        super().__init__(errno.EFBIG, f"larger than {limit} bytes", str(path))
        self.size = size
        self.limit = limit


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _what(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def read_regular(path: Path | str, limit: int | None = None, head: int | None = None) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file at ``path`` (symlinks followed) and its stat. Raises
    ``NotRegularFile`` for anything else, checked before opening it (opening a device can have
    effects) and again on what was opened (it may have been swapped meanwhile; opened without
    blocking, so a FIFO cannot hang), and ``TooLarge`` when it holds more than ``limit`` bytes,
    counted while reading. ``head``: read only that many bytes."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(errno.EINVAL, f"it is {_what(st.st_mode)}, not a regular file", str(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, f"it is {_what(st.st_mode)}, not a regular file", str(path))
        if limit is not None and st.st_size > limit:
            raise TooLarge(path, st.st_size, limit)
        want = head if head is not None else (limit + 1 if limit is not None else None)
        chunks = []
        got = 0
        while want is None or got < want:
            chunk = os.read(fd, 1 << 20 if want is None else min(1 << 20, want - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        data = b"".join(chunks)
        if head is None and limit is not None and len(data) > limit:
            raise TooLarge(path, len(data), limit)  # it grew since its stat
        return data, st
    finally:
        os.close(fd)


def _default_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file (0o666 minus the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def clean_stale(directory: Path) -> None:
    """Remove the temporary files a killed migcheck left in ``directory``."""
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for e in entries:
        name = e.name
        if not (name.startswith(".") and TEMP_TAG in name and name.endswith(".tmp")):
            continue
        try:
            st = e.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_SECONDS:
                os.unlink(e.path)
        except OSError:
            pass


def writable(path: Path) -> os.stat_result | None:
    """The stat of the existing file at ``path`` that migcheck may overwrite, None when there is
    no file. Raises OSError, with a message for the user, when it must not: a symlink (migcheck
    does not write through links: the target may be anywhere), not a regular file, or read-only
    (no write permission bit, or none for this user)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise OSError(
            errno.ELOOP,
            "it is a symbolic link, and migcheck does not write through links (edit the file it points to)",
            str(path),
        )
    if not stat.S_ISREG(st.st_mode):
        raise OSError(errno.EINVAL, "it is not a regular file", str(path))
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise PermissionError(
            errno.EACCES, "the file is read-only, and migcheck does not rewrite a read-only file", str(path)
        )
    return st


def atomic_write(path: Path | str, text: str, overwrite: bool = False, expect: bytes | None = None) -> Path:
    """Write ``text`` (UTF-8, line endings as given) to ``path`` atomically: readers see the old
    content or the new one, never a half-written file. The data goes to a temporary file in the
    same directory first, then takes the name (``os.replace`` when ``overwrite``; otherwise a hard
    link, which fails if the name exists, so a file created meanwhile is never clobbered).

    Raises ``FileExistsError`` when ``path`` exists and ``overwrite`` is false. The directory must
    exist. An overwritten file keeps its permission bits, owner and group (or is not written:
    PermissionError); a new one gets the umask's bits. A symlink, a read-only file or anything but
    a regular file is never overwritten (OSError, see ``writable``). With ``expect``, the file's
    bytes are compared with it right before the rename, and ``ChangedError`` is raised (nothing
    written) when they differ. Returns ``path``.
    """
    path = Path(path)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(errno.EEXIST, "file exists", str(path))
    st = writable(path) if overwrite else None
    mode = stat.S_IMODE(st.st_mode) if st is not None else _default_mode()
    clean_stale(path.parent)
    import tempfile  # (only when writing: every check imports this module to read)

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_TAG}", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if st is not None:
            mine = os.stat(tmp)
            if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
                try:
                    os.chown(tmp, st.st_uid, st.st_gid)
                except PermissionError:
                    raise PermissionError(
                        errno.EPERM, "migcheck cannot give the rewritten file the same owner and group", str(path)
                    ) from None
        os.chmod(tmp, mode)  # (after chown, which may clear set-id bits)
        if overwrite:
            if expect is not None:
                try:
                    now = path.read_bytes()
                except OSError:
                    now = None
                if now != expect:
                    raise ChangedError(str(path))
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
    return path


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
