"""Issue 26: the attacks that got through, each pinned (writes, cache, configuration, encodings,
pre-commit, device files, status, LSP). Each test failed before its fix; docs/robustness.md lists
them with the promise each keeps."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from migcheck import fsutil
from migcheck.cli import main

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

FIXABLE = "CREATE TABLE leads (id int);\n"  # missing-if-not-exists: --fix adds IF NOT EXISTS
FIXED = "CREATE TABLE IF NOT EXISTS leads (id int);\n"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def proj(project):
    (project / "migcheck.toml").write_text('changelog = false\nselect = ["missing-if-not-exists"]\n')
    (project / "migrations").mkdir()
    return project


def _migration(proj, text=FIXABLE, name="20251022_001_add_leads.sql") -> Path:
    p = proj / "migrations" / name
    p.write_text(text)
    return p


# --- --fix and atomic writes --------------------------------------------------------------------

def test_fix_compares_again_right_before_the_rename(proj, capsys, monkeypatch):
    """An edit saved while --fix writes (after it read the file, before the new text takes the
    name) is kept: the comparison happens right before the rename."""
    p = _migration(proj)
    real = fsutil.os.fsync

    def fsync(fd):
        real(fd)
        if stat.S_ISREG(os.fstat(fd).st_mode):
            p.write_text("-- the author's edit\n" + FIXABLE)  # saved in the editor meanwhile

    monkeypatch.setattr(fsutil.os, "fsync", fsync)
    code, out, err = run(capsys, "check", "--fix")
    assert "not fixed: migrations/20251022_001_add_leads.sql changed while it was being fixed" in err
    assert p.read_text() == "-- the author's edit\n" + FIXABLE
    assert [n for n in os.listdir(p.parent) if n.endswith(".tmp")] == []


@pytest.mark.skipif(not IS_ROOT, reason="only root can give a file to another owner")
def test_fix_keeps_owner_group_and_mode(proj, capsys):
    p = _migration(proj)
    os.chown(p, 4321, 4322)
    p.chmod(0o640)
    code, out, err = run(capsys, "check", "--fix")
    assert "fixed migrations/20251022_001_add_leads.sql" in err and p.read_text() == FIXED
    st = p.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4321, 4322, 0o640)


def test_fix_refuses_a_read_only_file(proj, capsys):
    p = _migration(proj)
    p.chmod(0o444)
    code, out, err = run(capsys, "check", "--fix", "--fail-on", "warning")
    assert code == 1 and "warning[missing-if-not-exists]" in out  # still reported: not fixed
    assert "not fixed: cannot write migrations/20251022_001_add_leads.sql: the file is read-only" in err
    assert p.read_text() == FIXABLE and stat.S_IMODE(p.stat().st_mode) == 0o444


def test_fix_does_not_write_through_a_symlinked_migration(proj, capsys, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.sql"
    outside.write_text(FIXABLE)
    try:
        link = proj / "migrations" / "20251022_001_add_leads.sql"
        link.symlink_to(outside)
        code, out, err = run(capsys, "check", "--fix")
        assert "not fixed: cannot write migrations/20251022_001_add_leads.sql: it is a symbolic link" in err
        assert outside.read_text() == FIXABLE and link.is_symlink()
    finally:
        outside.unlink()


def test_a_killed_write_leaves_a_temp_file_that_the_next_write_removes(tmp_path):
    """kill -9 in the middle of a write leaves `.<name>.migcheck-XXXX.tmp`; the next write into
    that directory removes it once it is stale, and nothing else (a user's own .tmp file, a live
    writer's fresh one)."""
    import subprocess
    import sys
    import time

    target = tmp_path / "20251022_001_x.sql"
    target.write_text("old\n")
    code = (f"import os, time\nfrom migcheck import fsutil\n"
            f"real = fsutil.os.fsync\n"
            f"def slow(fd):\n    print('writing', flush=True); time.sleep(60)\n"
            f"fsutil.os.fsync = slow\n"
            f"fsutil.atomic_write({str(target)!r}, 'x' * (8 << 20), overwrite=True)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    proc.kill()
    proc.wait()
    left = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(left) == 1 and left[0].startswith(".20251022_001_x.sql.migcheck-")
    assert target.read_text() == "old\n"
    mine = tmp_path / ".notes.tmp"
    mine.write_text("the user's")
    fresh = tmp_path / ".other.sql.migcheck-live.tmp"
    fresh.write_text("a live writer's")
    old = time.time() - 3600
    os.utime(tmp_path / left[0], (old, old))
    fsutil.atomic_write(tmp_path / "20251022_002_y.sql", "new\n")
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".tmp")) == [".notes.tmp", fresh.name]
