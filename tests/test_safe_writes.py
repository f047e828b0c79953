"""Safe writes (issue 7): everything migcheck writes goes through ``fsutil.atomic_write``.

A failure at any point of a write (a full disk, Ctrl-C, a failing rename) leaves the original file
exactly as it was and no temporary file behind; an existing file is never overwritten unless the
caller asks; the bytes written are exactly the text given (line endings and a BOM kept), so a
caller that rewrites a file keeps its line endings and encoding. The commands that write today
(``migcheck new``, ``migcheck init``) are tested through the command line at the end.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from migcheck import fsutil
from migcheck.fsutil import atomic_write

ORIGINAL = "original\r\nbytes ü\n"


def leftovers(d: Path) -> list[str]:
    """Temporary files atomic_write may have left in ``d``."""
    return sorted(p.name for p in d.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


@pytest.fixture
def target(tmp_path):
    p = tmp_path / "file.sql"
    p.write_bytes(ORIGINAL.encode("utf-8"))
    return p


# --- exact bytes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["a\r\nb\r\n", "a\nb", "a\rb\r", "\ufeffwith BOM\r\n", "ü☃𝔘\n", ""],
    ids=["crlf", "lf-no-final", "cr", "bom", "non-ascii", "empty"],
)
def test_writes_exactly_the_text_given(tmp_path, text):
    p = atomic_write(tmp_path / "new.sql", text)
    assert p.read_bytes() == text.encode("utf-8")
    assert leftovers(tmp_path) == []


def test_rewrite_keeps_line_endings_and_bom_of_the_text(target):
    """A caller that reads the text exactly (bytes decoded, no newline translation) and writes it
    back changed keeps the file's CRLF and BOM."""
    target.write_bytes(b"\xef\xbb\xbfSELECT 1;\r\nSELECT 2;\r\n")
    text = target.read_bytes().decode("utf-8")
    atomic_write(target, text.replace("2", "3"), overwrite=True)
    assert target.read_bytes() == b"\xef\xbb\xbfSELECT 1;\r\nSELECT 3;\r\n"


# --- never overwrite unless asked ----------------------------------------------------------------


def test_existing_file_is_not_overwritten_unless_asked(target):
    with pytest.raises(FileExistsError):
        atomic_write(target, "new")
    assert target.read_bytes() == ORIGINAL.encode("utf-8")
    assert leftovers(target.parent) == []
    atomic_write(target, "new", overwrite=True)
    assert target.read_text(encoding="utf-8") == "new"


def test_dangling_symlink_counts_as_existing(tmp_path):
    link = tmp_path / "link.sql"
    link.symlink_to(tmp_path / "nowhere.sql")
    with pytest.raises(FileExistsError):
        atomic_write(link, "new")
    assert not (tmp_path / "nowhere.sql").exists() and link.is_symlink()


def test_file_created_meanwhile_is_not_clobbered(tmp_path, monkeypatch):
    """The existence check and the write are not one step: a file that appears in between (another
    process, a second `migcheck new`) is kept, because the new name is taken with a hard link."""
    p = tmp_path / "race.sql"
    real = fsutil.tempfile.mkstemp

    def mkstemp(*a, **kw):
        out = real(*a, **kw)
        p.write_text("theirs", encoding="utf-8")  # the other writer wins the race
        return out

    monkeypatch.setattr(fsutil.tempfile, "mkstemp", mkstemp)
    with pytest.raises(FileExistsError):
        atomic_write(p, "ours")
    assert p.read_text(encoding="utf-8") == "theirs"
    assert leftovers(tmp_path) == []


def test_without_hard_links_the_new_name_is_still_not_clobbered(tmp_path, monkeypatch):
    """On a file system without hard links (os.link fails with EPERM), the fallback checks again."""
    monkeypatch.setattr(fsutil.os, "link", lambda *a: (_ for _ in ()).throw(OSError(errno.EPERM, "no links")))
    p = atomic_write(tmp_path / "a.sql", "one")
    assert p.read_text(encoding="utf-8") == "one"
    with pytest.raises(FileExistsError):
        atomic_write(p, "two")
    assert p.read_text(encoding="utf-8") == "one"
    assert leftovers(tmp_path) == []


def test_a_symlink_is_never_written_through(tmp_path):
    """A symlinked file (a shared config, a migration linked from elsewhere) is not written: its
    target may be anywhere, outside the project too (issue 26: `--fix` on a symlinked migration
    rewrote the file it pointed to; before, this test asserted that the target was written). The
    link stays a link and the target keeps its content."""
    real = tmp_path / "real" / "file.sql"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.sql"
    link.symlink_to(real)
    with pytest.raises(OSError) as exc:
        atomic_write(link, "new", overwrite=True)
    assert exc.value.errno == errno.ELOOP and "symbolic link" in exc.value.strerror
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8") == "old"
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


# --- a failure mid-write leaves the original and no temporary file --------------------------------


def _fail_with(exc):
    def boom(*a, **kw):
        raise exc

    return boom


FAILURES = [
    pytest.param(OSError(errno.ENOSPC, "No space left on device"), id="ENOSPC"),
    pytest.param(OSError(errno.EIO, "Input/output error"), id="EIO"),
    pytest.param(KeyboardInterrupt(), id="ctrl-c"),
]


@pytest.mark.parametrize("exc", FAILURES)
@pytest.mark.parametrize("where", ["write", "fsync", "chmod", "replace"])
def test_failure_mid_overwrite_keeps_the_original(target, monkeypatch, exc, where):
    if where == "write":  # the disk fills up halfway through the data
        real_fdopen = fsutil.os.fdopen

        def fdopen(*a, **kw):
            fh = real_fdopen(*a, **kw)
            real_write = fh.write

            def write(s):
                real_write(s[: len(s) // 2])
                raise exc

            fh.write = write
            return fh

        monkeypatch.setattr(fsutil.os, "fdopen", fdopen)
    else:
        monkeypatch.setattr(fsutil.os, where, _fail_with(exc))
    with pytest.raises(type(exc)):
        atomic_write(target, "new content " * 1000, overwrite=True)
    assert target.read_bytes() == ORIGINAL.encode("utf-8")
    assert leftovers(target.parent) == []


@pytest.mark.parametrize(
    "exc, where",
    [
        *[pytest.param(e.values[0], "fsync", id=f"fsync-{e.id}") for e in FAILURES],
        pytest.param(KeyboardInterrupt(), "link", id="link-ctrl-c"),
    ],
)
def test_failure_mid_create_leaves_no_file(tmp_path, monkeypatch, exc, where):
    """(os.link failing with an OSError is not a failure: the fallback for file systems without
    hard links takes over, tested above.)"""
    monkeypatch.setattr(fsutil.os, where, _fail_with(exc))
    with pytest.raises(type(exc)):
        atomic_write(tmp_path / "new.sql", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_directory_that_does_not_exist_is_an_error_and_nothing_is_written(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "no" / "such.sql", "x")
    assert list(tmp_path.iterdir()) == []


# --- permissions ---------------------------------------------------------------------------------


def test_overwrite_keeps_the_permission_bits(target):
    target.chmod(0o640)
    atomic_write(target, "new", overwrite=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        p = atomic_write(tmp_path / "n.sql", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o640  # not mkstemp's 0o600


# --- the commands that write today -----------------------------------------------------------------


def test_new_never_overwrites_and_a_failed_write_leaves_nothing(project, monkeypatch, capsys):
    """`migcheck new`: a second run with the same plan refuses (no clobbering); a disk full while
    writing the rollback leaves neither file half-written (the migration is removed again or whole)."""
    from migcheck import cli

    (project / "migcheck.toml").write_text("changelog = false\n", encoding="utf-8")
    (project / "migrations").mkdir()
    assert cli.main(["new", "add users", "--date", "20250101"]) == 0
    written = sorted(p.relative_to(project).as_posix() for p in (project / "migrations").rglob("*.sql"))
    assert len(written) == 2
    before = {p: (project / p).read_bytes() for p in written}
    capsys.readouterr()

    real = fsutil.os.fsync
    calls = []

    def fsync(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            calls.append(fd)
        if len(calls) == 2:  # the second file's data
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(fsutil.os, "fsync", fsync)
    code = cli.main(["new", "add orders", "--date", "20250101"])
    out, err = capsys.readouterr()
    assert code != 0 and "Traceback" not in out + err
    assert "No space left on device" in err or "space" in err.lower(), err
    for p, data in before.items():
        assert (project / p).read_bytes() == data
    every = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert not [p for p in every if p.endswith(".tmp")], every
    for p in every:  # whatever exists is whole: the template's header and COMMIT
        if p.endswith(".sql") and p not in before:
            assert (project / p).read_text(encoding="utf-8").rstrip().endswith("COMMIT;"), p


@pytest.mark.parametrize(
    "before, after",
    [
        (
            b"\xef\xbb\xbf# Changelog\r\n\r\n- 20240101_001: x\r\n",
            b"\xef\xbb\xbf# Changelog\r\n\r\n- 20240101_001: x\r\n- 20250101_001: Add users\r\n",
        ),
        (
            b"# Changelog\r\n\r\n- 20240101_001: x",
            b"# Changelog\r\n\r\n- 20240101_001: x\r\n- 20250101_001: Add users\r\n",
        ),
        (b"# Changelog\n\n- 20240101_001: x\n", b"# Changelog\n\n- 20240101_001: x\n- 20250101_001: Add users\n"),
    ],
    ids=["crlf-bom", "crlf-no-final-newline", "lf"],
)
def test_new_changelog_keeps_line_endings_and_bom(project, capsys, before, after):
    """`migcheck new --changelog` appends to CHANGELOG.md: the other lines keep their CRLF and the BOM
    (before: read_text's newline translation rewrote every line of a CRLF changelog to LF)."""
    from migcheck import cli

    (project / "migcheck.toml").write_text('changelog = "CHANGELOG.md"\n', encoding="utf-8")
    (project / "migrations").mkdir()
    (project / "CHANGELOG.md").write_bytes(before)
    assert cli.main(["new", "add users", "--changelog", "--date", "20250101"]) == 0
    assert (project / "CHANGELOG.md").read_bytes() == after
