"""One answer per unchanged run (issue 22): `migcheck check` keeps its whole output with the
status of everything it read, and serves it while all of that is as it was (migcheck.runcache)."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import write

from migcheck import runcache
from migcheck.cli import main

REPO = Path(__file__).resolve().parent.parent
BAD = "BEGIN;\nALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;\nDROP TABLE leads_old;\nCOMMIT;\n"


@pytest.fixture
def proj(project, monkeypatch):
    """A small project whose files are older than the racy window (an answer is kept at once)."""
    monkeypatch.setattr(runcache, "RACY_NS", 0)
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(project / "cache"))
    (project / "migcheck.toml").write_text(
        'select = ["drop-table", "missing-transaction", "file-naming"]\nchangelog = false\n'
    )
    write(project, "migrations/20251022_001_bad.sql", BAD)
    write(project, "migrations/20251023_002_ok.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    return project


def served(monkeypatch):
    """Make the engine fail if it runs: an answer served from the run cache never reaches it."""
    from migcheck import engine

    def boom(*a, **k):
        raise AssertionError("the engine ran")

    monkeypatch.setattr(engine, "check", boom)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def answers(root: Path) -> list[Path]:
    return sorted((root / "cache").glob(runcache.PREFIX + "*"))


def test_an_unchanged_run_is_served_whole(proj, capsys, monkeypatch):
    first = run(capsys, "check", "--format", "json", "migrations")
    assert first[0] == 1 and '"drop-table"' in first[1]
    assert len(answers(proj)) == 1
    served(monkeypatch)
    assert run(capsys, "check", "--format", "json", "migrations") == first


def test_stderr_notes_and_the_exit_code_are_served_too(project, capsys, monkeypatch):
    monkeypatch.setattr(runcache, "RACY_NS", 0)
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(project / "cache"))
    write(
        project,
        "db/migrations/20240101000000_create.sql",
        "-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n",
    )
    first = run(capsys, "check", "db/migrations")
    assert "detected dbmate layout" in first[2]
    served(monkeypatch)
    assert run(capsys, "check", "db/migrations") == first


@pytest.mark.parametrize("change", ["edit", "new-file", "delete", "config", "new-config-above", "changelog"])
def test_any_changed_input_is_checked_again(proj, capsys, monkeypatch, change):
    argv = ("check", "--format", "json", "migrations")
    if change == "changelog":
        (proj / "migcheck.toml").write_text('select = ["changelog-missing"]\n')
        (proj / "CHANGELOG.md").write_text("# Changelog\n- 20251022_001\n")
    run(capsys, *argv)
    assert answers(proj)
    time.sleep(0.01)
    if change == "edit":
        write(proj, "migrations/20251023_002_ok.sql", "BEGIN;\nDROP TABLE x;\nCOMMIT;\n")
    elif change == "new-file":
        write(proj, "migrations/20251024_003_new.sql", "DROP TABLE y;\n")
    elif change == "delete":
        (proj / "migrations/20251023_002_ok.sql").unlink()
    elif change == "config":
        (proj / "migcheck.toml").write_text('select = ["missing-transaction"]\nchangelog = false\n')
    elif change == "new-config-above":  # a configuration where the search finds it first
        (proj / "migrations" / "migcheck.toml").write_text('select = ["file-naming"]\n')
        monkeypatch.chdir(proj / "migrations")
        argv = ("check", "--format", "json", ".")
        run(capsys, *argv)
        (proj / "migrations" / "migcheck.toml").unlink()
    elif change == "changelog":
        (proj / "CHANGELOG.md").write_text("# Changelog\n")
    again = run(capsys, *argv)
    fresh = run(capsys, *argv[:1], "--no-cache", *argv[1:])
    assert again == fresh


def test_a_file_changed_within_the_racy_window_is_not_trusted(proj, capsys, monkeypatch):
    monkeypatch.setattr(runcache, "RACY_NS", 3600 * 10**9)  # every file is "just changed"
    run(capsys, "check", "migrations")
    assert answers(proj) == []


def test_a_file_just_edited_is_found_before_the_others_are_asked(proj, capsys, monkeypatch):
    """A run after one edit in a directory of thousands: the edited file is the one it opened,
    and is asked first; the status of the unchanged siblings is not asked to learn the answer
    cannot be kept (issue 22: one changed file)."""
    for i in range(3, 40):
        write(proj, f"migrations/20251024_{i:03d}_more.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    from migcheck.cache import Cache

    monkeypatch.setattr(Cache, "RACY_NS", 0)
    run(capsys, "check", "migrations")  # (the stat memo: the next run opens only what changed)
    edited = proj / "migrations" / "20251024_039_more.sql"
    edited.write_text("BEGIN;\nSELECT 2;\nCOMMIT;\n")
    monkeypatch.setattr(runcache, "RACY_NS", 60 * 10**9)
    asked: list[str] = []
    real, store = runcache._status, runcache.Recorder.store

    def status(path, how):  # every other path as if written long ago
        asked.append(path)
        st = real(path, how)
        if st is not None and len(st) == 6 and path != str(edited):
            st[2] = st[3] = 0
        return st

    def storing(self, *a, **k):
        asked.clear()  # (the lookup before the run asked the kept answer's inputs: not counted)
        return store(self, *a, **k)

    monkeypatch.setattr(runcache, "_status", status)
    monkeypatch.setattr(runcache.Recorder, "store", storing)
    before = set(answers(proj))
    run(capsys, "check", "migrations")
    assert set(answers(proj)) == before  # (not kept: the file was just written)
    assert 0 < len(asked) < 10, asked


def test_an_answer_is_written_as_it_was_printed_not_copied_whole(proj, capsys, monkeypatch):
    """Memory (issue 22): at 10,048 files the report is 15 MB, and keeping it cost three more
    copies (joined, encoded, joined with its head), 45 MB of the peak of a run filling the cache."""
    from migcheck.cache import Cache

    for i in range(3, 60):
        write(proj, f"migrations/20251024_{i:03d}_more.sql", BAD)
    pieces: list[int] = []
    real = Cache._write

    def spy(directory, name, text, *a, **k):
        if name.startswith(runcache.PREFIX):
            got = [text] if isinstance(text, (str, bytes)) else list(text)
            pieces.extend(len(p) for p in got)
            text = b"".join(p if isinstance(p, bytes) else p.encode() for p in got)
        return real(directory, name, text, *a, **k)

    monkeypatch.setattr(Cache, "_write", staticmethod(spy))
    from migcheck import report

    real_report = report.write
    monkeypatch.setattr(report, "write", lambda *a, **k: real_report(*a, **k, size=2048))  # (its pieces: 64 KB)
    first = run(capsys, "check", "--format", "json", "migrations")
    assert sum(pieces) > 20_000 and max(pieces) * 4 < sum(pieces), (sum(pieces), pieces)
    served(monkeypatch)
    assert run(capsys, "check", "--format", "json", "migrations") == first


def test_the_request_is_the_key(proj, capsys, monkeypatch):
    base = run(capsys, "check", "migrations")
    assert run(capsys, "check", "--format", "json", "migrations") != base
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # the default format changes with it
    github = run(capsys, "check", "migrations")
    assert github[1].startswith("::")
    assert len(answers(proj)) == 3


def test_runs_that_write_or_fail_keep_no_answer(proj, capsys, monkeypatch):
    from migcheck import registry

    run(capsys, "check", "--no-cache", "migrations")
    run(capsys, "check", "-o", str(proj / "report.txt"), "migrations")
    assert answers(proj) == []

    def broken(f, ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(registry._RULES, "broken", registry.Rule("broken", "error", "syntax", "x", "file", func=broken))
    code, _, err = run(capsys, "check", "--select", "broken", "migrations")
    assert code == 2 and "internal error" in err
    assert answers(proj) == []


def test_a_damaged_answer_is_ignored(proj, capsys):
    first = run(capsys, "check", "migrations")
    for a in answers(proj):
        a.write_bytes(b'{"format": 1, "inputs": [["x", 1, 2]], "out": "a"}\n')
    assert run(capsys, "check", "migrations") == first
    for a in answers(proj):
        a.write_bytes(b"\x00garbage")
    assert run(capsys, "check", "migrations") == first


def test_a_served_run_imports_no_engine(proj):
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(proj / "cache")}
    probe = (
        "import sys; from migcheck import runcache; runcache.RACY_NS = 0; from migcheck.cli import main; "
        "rc = main(['check', 'migrations']); "
        "print(sorted(m for m in sys.modules if m in ('migcheck.engine', 'migcheck.config', 'pglast')), "
        "file=sys.stderr); sys.exit(rc)"
    )
    first = subprocess.run([sys.executable, "-c", probe], cwd=proj, env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", probe], cwd=proj, env=env, capture_output=True, text=True)
    assert first.returncode == second.returncode == 1
    assert "migcheck.engine" in first.stderr
    assert second.stdout == first.stdout
    assert second.stderr.strip().splitlines()[-1] == "[]", second.stderr


def test_every_environment_variable_migcheck_reads_is_in_the_key():
    """A variable read by the check path and missing from runcache.ENV would serve a stale answer."""
    src = REPO / "src" / "migcheck"
    pattern = re.compile(r"""environ(?:\.get)?\s*[\[(]\s*["']([A-Z_]+)["']|getenv\(\s*["']([A-Z_]+)["']""")
    found = set()
    for path in src.rglob("*.py"):
        rel = path.relative_to(src).as_posix()
        if rel.startswith(("verify/", "lsp/")) or rel in ("gitdiff.py", "stats_cli.py", "tracking_cli.py", "status.py"):
            continue  # not on the path of `check` (--diff never keeps an answer)
        for m in pattern.finditer(path.read_text()):
            found.add(m.group(1) or m.group(2))
    assert found and found <= set(runcache.ENV), sorted(found - set(runcache.ENV))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["a", ".", "..", "", ".x", "..y", "b.sql"]), min_size=1, max_size=6))
def test_a_path_taken_as_it_is_is_its_own_absolute_path(parts):
    """The recorder skips ``os.path.abspath`` for plain absolute paths (thousands of stats)."""
    path = "/" + "/".join(parts)
    if runcache._PLAIN.match(path):
        assert os.path.abspath(path) == path
