"""Issue 26: the attacks that got through, each pinned (writes, cache, configuration, encodings,
pre-commit, device files, status, LSP). Each test failed before its fix; docs/robustness.md lists
them with the promise each keeps."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from migcheck import cache, fsutil, summaries
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
    code = (
        f"import os, time\nfrom migcheck import fsutil\n"
        f"real = fsutil.os.fsync\n"
        f"def slow(fd):\n    print('writing', flush=True); time.sleep(60)\n"
        f"fsutil.os.fsync = slow\n"
        f"fsutil.atomic_write({str(target)!r}, 'x' * (8 << 20), overwrite=True)\n"
    )
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


# --- writes outside the project ------------------------------------------------------------------


@pytest.mark.parametrize(
    "key,value",
    [
        ("rollback", "../../outside/{version}_rollback.sql"),
        ("rollback", "/tmp/elsewhere/{version}_rollback.sql"),
        ("changelog", "../outside/CHANGELOG.md"),
        ("changelog", "/tmp/CHANGELOG.md"),
        ("baseline", "../outside/baseline.json"),
        ("stats", "/tmp/stats.json"),
    ],
)
def test_config_paths_that_leave_the_project_are_a_config_error(project, capsys, key, value):
    (project / "migcheck.toml").write_text(f'{key} = "{value}"\n')
    (project / "migrations").mkdir()
    for argv in (["check"], ["new", "add leads", "--changelog"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and err.startswith("migcheck: error:") and "must stay inside the project" in err, err
        assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in project.rglob("*") if p.is_file()) == ["migcheck.toml"]
    assert not (project.parent / "outside").exists()


def test_rollback_beside_the_migrations_directory_is_fine(project, capsys):
    (project / "migcheck.toml").write_text('rollback = "../rollbacks/{version}_rollback.sql"\nchangelog = false\n')
    (project / "migrations").mkdir()
    code, out, err = run(capsys, "new", "add leads", "--date", "20250101")
    assert code == 0, err
    assert (project / "rollbacks" / "20250101_001_rollback.sql").is_file()


def test_lock_does_not_write_through_a_symlinked_lock_file(project, capsys, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside-lock"
    outside.write_text("")  # (read as an empty lock: then `lock` would write the migrations into it)
    try:
        (project / "migcheck.toml").write_text("changelog = false\n")
        (project / "migrations").mkdir()
        (project / "migrations" / "20250101_001_a.sql").write_text("SELECT 1;\n")
        (project / "migcheck.lock").symlink_to(outside)
        code, out, err = run(capsys, "lock")
        assert code == 2 and "symbolic link" in err and len(err.strip().splitlines()) == 1, err
        assert outside.read_text() == "" and (project / "migcheck.lock").is_symlink()
    finally:
        outside.unlink()


# --- clear errors instead of crashes -------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern,why",
    [
        ("rollback/{version}{x}.sql", "not {x}"),
        ("rollback/{version}_{0}.sql", "not {0}"),
        ("rollback/{version}}.sql", "literal brace"),
        ("rollback/{version}{version:>99999999999}.sql", "with a format"),
        ("rollback/{version}_{version!r}.sql", "with a format or conversion"),
    ],
)
def test_rollback_pattern_with_other_fields_is_a_config_error(project, capsys, pattern, why):
    (project / "migcheck.toml").write_text(f'rollback = "{pattern}"\n')
    (project / "migrations").mkdir()
    (project / "migrations" / "20250101_001_a.sql").write_text("SELECT 1;\n")
    for argv in (["check", "--no-cache"], ["new", "add leads"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and err.startswith("migcheck: error:") and "'rollback'" in err and why in err, err
        assert "internal error" not in err and len(err.strip().splitlines()) == 1


def test_naming_whose_seq_can_match_empty_is_a_finding_not_a_crash(project, capsys):
    (project / "migcheck.toml").write_text(
        "naming = '^(?P<date>\\d{8})_(?P<seq>\\d*)_(?P<description>[a-z0-9_]+)\\.sql$'\n"
        'select = ["file-naming", "duplicate-version", "sequence-order", "sequence-gap"]\n'
    )
    (project / "migrations").mkdir()
    (project / "migrations" / "20250101__a.sql").write_text("SELECT 1;\n")
    (project / "migrations" / "20250101_002_b.sql").write_text("SELECT 1;\n")
    code, out, err = run(capsys, "check", "--no-cache")
    assert code == 1 and "internal error" not in err, err
    assert "20250101__a.sql:1:1: error[file-naming]" in out and "is not a sequence number" in out


def test_pyproject_with_a_tool_key_that_is_not_a_table(project, capsys):
    (project / "pyproject.toml").write_text("tool = 5\n")
    (project / "migrations").mkdir()
    (project / "migrations" / "20250101_001_a.sql").write_text("SELECT 1;\n")
    code, out, err = run(capsys, "check", "--no-cache", "--config", "pyproject.toml")
    assert code == 2 and err.startswith("migcheck: error:") and "'tool' must be a table" in err, err
    code, out, err = run(capsys, "check", "--no-cache")  # found walking up: not a migcheck config
    assert "internal error" not in err and code in (0, 1)


def test_new_with_a_description_too_long_for_a_file_name(proj, capsys):
    code, out, err = run(capsys, "new", "word " * 60)
    assert (
        code == 2
        and err.startswith("migcheck: error: the description makes a file name of")
        and "internal error" not in err
    ), err
    assert list((proj / "migrations").iterdir()) == []


def test_new_in_a_diesel_project_does_not_crash(project, capsys):
    """(It was a TypeError; since issue 21's runner layouts for `new`, it writes diesel's files.)"""
    (project / "migcheck.toml").write_text('preset = "diesel"\n')
    d = project / "migrations" / "2024-01-01-000000_create_users"
    d.mkdir(parents=True)
    (d / "up.sql").write_text("CREATE TABLE users (id int);\n")
    (d / "down.sql").write_text("DROP TABLE users;\n")
    code, out, err = run(capsys, "new", "add things")
    assert "internal error" not in err and "Traceback" not in err, err
    assert code == 0 and out.strip().endswith("down.sql"), (out, err)


# --- a damaged cache is ignored --------------------------------------------------------------------


def _damage(pack: Path, how) -> None:
    import json

    data = json.loads(pack.read_text())
    how(data)
    pack.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "name,how",
    [
        (
            "a line number as a string",
            lambda d: [h.__setitem__(2, str(h[2])) for v in d["files"].values() for h in v[1]],
        ),
        ("a rule id as a number", lambda d: [h.__setitem__(0, 5) for v in d["files"].values() for h in v[1]]),
        (
            "a hit on another file",
            lambda d: [h.__setitem__(1, "/elsewhere.sql") for v in d["files"].values() for h in v[1]],
        ),
        ("a line number as true", lambda d: [h.__setitem__(2, True) for v in d["files"].values() for h in v[1]]),
        (
            "a suppression line as a string",
            lambda d: [s.__setitem__(3, "x") for v in d["files"].values() for s in v[2]],
        ),
        ("a statement count as a string", lambda d: [v.__setitem__(4, "7") for v in d["files"].values()]),
        (
            "a project hit line as a string",
            lambda d: [h.__setitem__(2, "3") for r in d["project"]["runs"] for hs in r["hits"].values() for h in hs],
        ),
    ],
)
def test_a_cache_entry_with_wrong_element_types_is_ignored(project, capsys, name, how):
    (project / "migcheck.toml").write_text("changelog = false\n")
    m = project / "migrations"
    (m / "rollback").mkdir(parents=True)
    (m / "20250101_001_a.sql").write_text("BEGIN;\nCREATE TABLE t (id int);\nDROP TABLE x;\nCOMMIT;\n")
    (m / "20250101_002_b.sql").write_text(
        "BEGIN;\n-- migcheck: ignore drop-table -- reviewed\nDROP TABLE y;\nCOMMIT;\n"
    )
    (m / "rollback" / "20250101_001_rollback.sql").write_text("BEGIN;\nDROP TABLE IF EXISTS t;\nCOMMIT;\n")
    first = run(capsys, "check", "--format", "json")
    (pack,) = [p for p in (project / ".migcheck_cache").glob("v*.json")]
    _damage(pack, how)
    again = run(capsys, "check", "--format", "json")
    assert again == first, name


def test_a_side_file_with_wrong_element_types_is_ignored(project, capsys):
    import json

    (project / "migcheck.toml").write_text("changelog = false\n")
    m = project / "migrations"
    (m / "rollback").mkdir(parents=True)
    (m / "20250101_001_a.sql").write_text("BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n")
    (m / "20250101_002_b.sql").write_text("BEGIN;\nCREATE TABLE u (id int);\nCOMMIT;\n")
    for v in ("001", "002"):
        (m / "rollback" / f"20250101_{v}_rollback.sql").write_text("BEGIN;\nCOMMIT;\n")
    run(capsys, "check")
    first = run(capsys, "check", "--format", "json", "migrations/20250101_002_b.sql")
    (side,) = list((project / ".migcheck_cache").glob("*.side"))
    kept = side.read_text()
    for junk in (
        [{}],
        [{"op": "create"}],
        [{"op": "create", "obj": None}],
        [{"op": "drop", "obj": None}],
        [{"op": "rename", "obj": None, "new": None}],
        [{"op": 5, "obj": None}],
        ["x"],
        [{"op": "create", "obj": [1, 2]}],
        [{"op": "create", "obj": None, "stmt": [1, 2, 3, "4"]}],
        {"a": 1},
        7,
    ):
        entries = json.loads(kept)
        side.write_text(json.dumps({k: junk for k in entries} if isinstance(entries, dict) else junk))
        (pack,) = list((project / ".migcheck_cache").glob("v*.json"))
        _damage(pack, lambda d: d.__setitem__("project", {}))  # the project rules read the summaries again
        summaries.clear()  # (as in a new process: from the disk, not this one's memo)
        assert run(capsys, "check", "--format", "json", "migrations/20250101_002_b.sql") == first, junk


# --- output encodings ---------------------------------------------------------------------------

NON_UTF8 = os.fsdecode(b"20250101_002_caf\xe9.sql")


@pytest.fixture
def odd_names(project):
    (project / "migcheck.toml").write_text('changelog = false\nselect = ["drop-table", "file-naming"]\n')
    (project / "migrations").mkdir()
    (project / "migrations" / "20250101_001_a.sql").write_text('DROP TABLE "t😀";\n', encoding="utf-8")
    try:
        (project / "migrations" / NON_UTF8).write_text("DROP TABLE x;\n")
    except (UnicodeEncodeError, OSError):
        pytest.skip("the file system does not take a non-UTF-8 name")
    return project


def test_a_non_utf8_file_name_in_json_and_sarif(odd_names, capsys):
    import json

    code, out, err = run(capsys, "check", "--no-cache", "--format", "json")
    assert code == 1 and "internal error" not in err
    doc = json.loads(out.encode("utf-8", "strict"))  # valid UTF-8 and valid JSON
    assert "migrations/20250101_002_caf\\xe9.sql" in {f["path"] for f in doc["findings"]}
    code, out, err = run(capsys, "check", "--no-cache", "--format", "sarif")
    assert code == 1 and "internal error" not in err, err
    doc = json.loads(out.encode("utf-8", "strict"))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]}
    assert "migrations/20250101_002_caf%E9.sql" in uris


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_stdout_that_is_not_utf8(odd_names, fmt):
    import json
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", "--no-cache", "--format", fmt],
        capture_output=True,
        env=env,
        cwd=odd_names,
    )
    assert proc.returncode == 1 and b"internal error" not in proc.stderr, proc.stderr
    text = proc.stdout.decode("cp1252")
    if fmt == "json":
        messages = [f["message"] for f in json.loads(text)["findings"]]
        assert any('"t😀"' in m or "t😀" in m for m in messages)
    else:
        assert "t\\U0001f600" in text


# --- the cache key and pruning ------------------------------------------------------------------


def test_cache_key_covers_every_configuration_field_by_value(tmp_path):
    """Each field of Config, changed, changes the key (a new field fails here until it is listed);
    a naming regex that differs after its 200th character too (the key was a truncated repr)."""
    import re

    from migcheck import cache
    from migcheck.config import DEFAULT_NAMING, Config

    base = Config(root=tmp_path)
    other = {
        "root": tmp_path / "elsewhere",
        "source": tmp_path / "migcheck.toml",
        "migrations": ("db",),
        "rollback": "down/{version}.sql",
        "naming": re.compile(DEFAULT_NAMING.replace("{3}", "{4}")),
        "sequence": "per-day",
        "header": ("MIGRATION",),
        "changelog": False,
        "select": ("safety",),
        "ignore": ("drop-table",),
        "severity": {"drop-object": "error"},
        "fail_on": "warning",
        "postgres_version": 16,
        "max_file_size": 1 << 20,
        "dialect": "mysql",
        "preset": "goose",
        "verify_statement_timeout": 5.0,
        "verify_timeout": 50.0,
        "verify_data": True,
        "exclude": ("legacy",),
        "per_file_ignores": (("seed_*.sql", ("truncate",)),),
        "baseline": False,
        "require_rollback": False,
    }
    after_the_cache = {"stats": "snapshot.json", "risk": {"high": "error"}}  # repr=False: applied when assembled
    assert set(other) | set(after_the_cache) == set(Config.FIELDS)
    assert set(after_the_cache) == set(Config.FIELDS) - set(Config.SHOWN)
    key = cache.config_key(base)
    for name, value in other.items():
        assert cache.config_key(base.replace(**{name: value})) != key, name
    for name, value in after_the_cache.items():
        assert cache.config_key(base.replace(**{name: value})) == key, name
    long = "^(?P<date>\\d{8})_(?P<seq>\\d{3})_(?P<description>" + "(?:ab|cd)" * 30 + "%s)\\.sql$"
    a, b = (base.replace(naming=re.compile(long % c)) for c in "xy")
    assert repr(a.naming) == repr(b.naming)  # what the old key saw
    assert cache.config_key(a) != cache.config_key(b)


def _runner_files():
    from migcheck.analysis import txn

    return [(p, n) for p, names in getattr(txn, "RUNNER_FILES", {"diesel": ("metadata.toml",)}).items() for n in names]


@pytest.mark.parametrize("preset,name", _runner_files())
def test_cache_key_covers_the_runner_files_that_decide_behaviour(project, capsys, preset, name):
    """diesel's metadata.toml (`run_in_transaction = false`) lets a CREATE INDEX CONCURRENTLY run:
    removing it must not leave the cached exit 0 (the real result is exit 1)."""
    assert (preset, name) == ("diesel", "metadata.toml")  # the runner files the layouts read today
    (project / "migcheck.toml").write_text('preset = "diesel"\nselect = ["concurrently-in-transaction"]\n')
    d = project / "migrations" / "2024-01-01-000000_add_index"
    d.mkdir(parents=True)
    (d / "up.sql").write_text("CREATE INDEX CONCURRENTLY IF NOT EXISTS idx ON t (a);\n")
    (d / "down.sql").write_text("DROP INDEX IF EXISTS idx;\n")
    (d / name).write_text("run_in_transaction = false\n")
    assert run(capsys, "check")[0] == 0
    (d / name).unlink()
    code, out, err = run(capsys, "check")
    assert code == 1 and "error[concurrently-in-transaction]" in out
    (d / name).write_text("run_in_transaction = false\n")
    assert run(capsys, "check")[0] == 0


def test_cache_pruning_leaves_the_user_s_files_alone(project, capsys, monkeypatch, tmp_path):
    user = tmp_path.parent / f"{tmp_path.name}-usercache"
    user.mkdir()
    theirs = [f"v1-{n:032x}.json" for n in range(12)] + ["v1-report.json"]
    for i, n in enumerate(theirs):
        (user / n).write_text("{}")
        os.utime(user / n, (1_000_000 + i, 1_000_000 + i))  # older than any pack migcheck writes
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(user))
    (project / "migrations").mkdir()
    (project / "migrations" / "20250101_001_a.sql").write_text("SELECT 1;\n")
    for i in range(12):  # a different configuration each time: a pack each, then pruning
        (project / "migcheck.toml").write_text(f"changelog = false\nmax-file-size = {1000 + i}\n")
        run(capsys, "check")
    assert sorted(p.name for p in user.iterdir() if p.is_file()) == sorted(theirs)
    ours = [p.name for p in (user / "migcheck").glob(f"v{cache.FORMAT}-*.json")]
    assert 1 <= len(ours) <= 9  # its own packs, in its own subdirectory, pruned there
    assert "migcheck result cache" in (user / "migcheck" / "CACHEDIR.TAG").read_text()


# --- device files -------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs FIFOs and /dev/zero")
@pytest.mark.parametrize(
    "given", [[], ["migrations/20250101_002_zero.sql", "migrations/20250101_003_fifo.sql"]], ids=["walked", "given"]
)
def test_only_regular_files_are_read(project, given):
    """A symlink to /dev/zero exhausted memory and a FIFO hung: each is an unreadable-file
    finding, at once."""
    import json
    import subprocess
    import sys

    (project / "migcheck.toml").write_text('changelog = false\nselect = ["drop-table"]\n')
    m = project / "migrations"
    m.mkdir()
    (m / "20250101_001_ok.sql").write_text("DROP TABLE a;\n")
    (m / "20250101_002_zero.sql").symlink_to("/dev/zero")
    os.mkfifo(m / "20250101_003_fifo.sql")
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", "--no-cache", "--format", "json", *given],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    found = {(f["path"], f["rule"]): f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert found[("migrations/20250101_002_zero.sql", "unreadable-file")].startswith(
        "it is a character device, not a regular file: migcheck reads only regular files"
    )
    assert found[("migrations/20250101_003_fifo.sql", "unreadable-file")].startswith("it is a named pipe (FIFO)")
    if not given:
        assert ("migrations/20250101_001_ok.sql", "drop-table") in found


def test_max_file_size_is_counted_while_reading(project, capsys, monkeypatch):
    """A file larger than its stat says (it grew after it, or the file system lies) is still
    stopped at the limit."""
    (project / "migcheck.toml").write_text('changelog = false\nselect = ["drop-table"]\nmax-file-size = "1KB"\n')
    (project / "migrations").mkdir()
    (project / "migrations" / "20250101_001_big.sql").write_text("SELECT 1;\n" * 1000)
    real = fsutil.os.fstat

    def fstat(fd):
        st = real(fd)
        return os.stat_result((*st[:6], 10, *st[7:])) if stat.S_ISREG(st.st_mode) else st  # st_size: 10

    monkeypatch.setattr(fsutil.os, "fstat", fstat)
    code, out, err = run(capsys, "check", "--no-cache")
    assert code == 1 and "error[file-too-large]" in out and "above the 1 KB limit" in out, out + err


# --- status ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://app:s3cr3t-pw@[::1/db",
        "host=x password=s3cr3t-pw nonsense",
        "postgresql://app:s3cr3t-pw@h:notaport/db",
        "host=x password='s3cr3t-pw",
    ],
)
@pytest.mark.parametrize("command", ["status", "verify"])
def test_a_malformed_dsn_is_never_echoed_with_its_password(project, capsys, dsn, command):
    pytest.importorskip("psycopg")
    (project / "migrations").mkdir()
    (project / "migrations" / "20250101_001_a.sql").write_text("SELECT 1;\n")
    code, out, err = run(capsys, command, "--dsn", dsn, *(["migrations"] if command == "verify" else []))
    assert code == 2 and err.startswith("migcheck: error:"), err
    assert "s3cr3t" not in out + err and len(err.strip().splitlines()) == 1, err


def test_status_shows_terminal_escapes_from_the_tracking_table_escaped():
    from migcheck import status as st

    rows = [
        {
            "version": "20250101_001\x1b]0;pwned\x07",
            "success": False,
            "error_message": "boom \x1b[2J\x1b[1;1Hall good \u202egnp.exe",
            "checksum": None,
        }
    ]
    report = st.compare(rows, {})
    text = st.render_text(report, tty=True)
    assert "\x1b]" not in text and "\x1b[2J" not in text and "\u202e" not in text and "\x07" not in text
    assert "\\x1b]0;pwned\\x07" in text and "\\x1b[2J" in text and "\\u202e" in text
    assert "\x1b[" in st.render_text(report, tty=True).split("\n")[1]  # (its own colours stay)


# --- the language server ----------------------------------------------------------------------


class _RawClient:
    """JSON-RPC over the server's stdio, bytes as written: params of any shape can be sent."""

    def __init__(self):
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "migcheck", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.buf = b""

    def send(self, obj) -> None:
        import json

        body = json.dumps(obj).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def answer(self, msg_id, timeout: float = 20.0) -> dict:
        """The response to request ``msg_id`` (notifications on the way are skipped)."""
        import json
        import select
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            while b"\r\n\r\n" in self.buf:
                head, rest = self.buf.split(b"\r\n\r\n", 1)
                n = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
                if len(rest) < n:
                    break
                msg, self.buf = json.loads(rest[:n]), rest[n:]
                if msg.get("id") == msg_id and "method" not in msg:
                    return msg
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.buf += chunk
        raise AssertionError(f"no answer to request {msg_id!r}")

    def close(self) -> None:
        try:
            self.send({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})
            self.answer("bye", 10)
            self.send({"jsonrpc": "2.0", "method": "exit"})
            self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_lsp_answers_a_request_with_invalid_params_with_an_error():
    pytest.importorskip("pygls")
    client = _RawClient()
    try:
        client.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"capabilities": {}, "processId": None, "rootUri": None},
            }
        )
        assert "result" in client.answer(1)
        client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        for i, params in enumerate(["nope", {"textDocument": 5}, None, [1, 2]], start=2):
            client.send({"jsonrpc": "2.0", "id": i, "method": "textDocument/hover", "params": params})
            got = client.answer(i)
            assert got["error"]["code"] == -32602, got  # InvalidParams
        # and it keeps serving
        client.send(
            {
                "jsonrpc": "2.0",
                "id": 9,
                "method": "textDocument/hover",
                "params": {"textDocument": {"uri": "file:///nowhere.sql"}, "position": {"line": 0, "character": 0}},
            }
        )
        assert "error" not in client.answer(9)
    finally:
        client.close()
