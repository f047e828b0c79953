"""`migcheck status --dsn DSN` against a real throwaway PostgreSQL: every state, exact text and
JSON output, exit codes, read-only, the missing tracking schema, and no psycopg."""

from __future__ import annotations

import builtins
import hashlib
import json
import sys

import pytest

from migcheck import lockfile
from migcheck import status as st
from migcheck.cli import main

postgres = pytest.mark.postgres

HEADER = "-- MIGRATION: x\n-- Purpose: x\n-- Impact: x\n-- Rollback: x\n-- Testing: x\n\nBEGIN;\nSELECT {n};\nCOMMIT;\n"


@pytest.fixture(scope="module")
def cluster():
    from migcheck.verify.cluster import TempCluster, binaries_available

    if not binaries_available():
        pytest.skip("no PostgreSQL server binaries (initdb, postgres) found")
    with TempCluster() as c:
        yield c


@pytest.fixture
def db(cluster):
    import psycopg

    with cluster.database() as conninfo:
        yield conninfo, psycopg.connect(conninfo, autocommit=True)


@pytest.fixture
def proj(project, capsys):
    (project / ".git").mkdir()
    (project / "migcheck.toml").write_text("changelog = false\n")
    (project / "migrations").mkdir()
    assert main(["init", "--date", "20251022"]) == 0
    capsys.readouterr()
    return project


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _write(proj, name, n, crlf=False):
    text = HEADER.format(n=n)
    (proj / "migrations" / name).write_bytes(text.replace("\n", "\r\n" if crlf else "\n").encode())
    return lockfile.checksum_text(text)


def _setup(proj, conn):
    """One migration in each state."""
    tracking = (proj / "migrations" / "20251022_000_migration_tracking_schema.sql").read_text()
    conn.execute(tracking)
    ok = _write(proj, "20251022_001_applied.sql", 1, crlf=True)  # CRLF on disk, LF when recorded: same
    _write(proj, "20251022_002_drifted.sql", 2)
    _write(proj, "20251022_003_failed.sql", 3)
    _write(proj, "20251022_004_reverted.sql", 4)
    _write(proj, "20251022_005_pending.sql", 5)
    _write(proj, "20251022_007_running.sql", 7)
    raw = hashlib.sha256((proj / "migrations" / "20251022_001_applied.sql").read_bytes()).hexdigest()
    for v, desc in [
        ("20251022_001", "applied"),
        ("20251022_002", "drifted"),
        ("20251022_003", "failed"),
        ("20251022_004", "reverted"),
        ("20251022_006", "gone"),
        ("20251022_007", "running"),
    ]:
        conn.execute("CALL _migrations.log_migration_start(%s, %s, 2)", (v, desc))
    for v in ("20251022_001", "20251022_002", "20251022_004", "20251022_006"):
        conn.execute("CALL _migrations.log_migration_complete(%s, 10, NULL)", (v,))
    conn.execute("CALL _migrations.log_migration_complete('20251022_003', 10, 'relation \"tasks\" does not exist')")
    conn.execute(
        "UPDATE _migrations.schema_migrations SET installed_on = '2025-10-22 10:00:00+00', "
        "reverted_at = CASE WHEN version = '20251022_004' THEN '2025-10-23 09:30:00+00'::timestamptz END, "
        "reverted_by = CASE WHEN version = '20251022_004' THEN 'ana' END"
    )
    conn.execute("UPDATE _migrations.schema_migrations SET checksum = %s WHERE version = '20251022_001'", (ok,))
    conn.execute(
        "UPDATE _migrations.schema_migrations SET checksum = 'sha256:' || %s WHERE version = '20251022_002'",
        ("0" * 64,),
    )
    return ok, raw


@postgres
def test_status_text(proj, db, capsys):
    dsn, conn = db
    _setup(proj, conn)
    before = conn.execute(
        "SELECT md5(string_agg(t::text, ',' ORDER BY version)) FROM _migrations.schema_migrations t"
    ).fetchone()
    code, out, err = run(capsys, "status", "--dsn", dsn)
    assert (code, err) == (1, "")
    assert out == (
        "version       state     file                                                   detail\n"
        "20251022_000  applied   migrations/20251022_000_migration_tracking_schema.sql\n"
        "20251022_001  applied   migrations/20251022_001_applied.sql\n"
        "20251022_002  drifted   migrations/20251022_002_drifted.sql                    edited after it was applied "
        "(checksum 000000000000 in the database, "
        f"{lockfile.checksum_text(HEADER.format(n=2))[:12]} on disk)\n"
        '20251022_003  failed    migrations/20251022_003_failed.sql                     error: relation "tasks" does not exist\n'
        "20251022_004  reverted  migrations/20251022_004_reverted.sql                   reverted on 2025-10-23 09:30 by ana\n"
        "20251022_005  pending   migrations/20251022_005_pending.sql\n"
        "20251022_006  missing   -                                                      applied on 2025-10-22 10:00, but no file has this version\n"
        "20251022_007  running   migrations/20251022_007_running.sql                    started, never completed "
        "(log_migration_complete was not called)\n"
        "\n"
        "8 migrations: 2 applied, 1 drifted, 1 missing, 1 failed, 1 running, 1 reverted, 1 pending\n"
    )
    after = conn.execute(
        "SELECT md5(string_agg(t::text, ',' ORDER BY version)) FROM _migrations.schema_migrations t"
    ).fetchone()
    assert before == after  # read-only


@postgres
def test_status_json_and_clean_exit(proj, db, capsys):
    dsn, conn = db
    ok, raw = _setup(proj, conn)
    code, out, err = run(capsys, "status", "--dsn", dsn, "--format", "json")
    doc = json.loads(out)
    assert (code, err) == (1, "")
    assert doc["ok"] is False
    assert doc["summary"] == {
        "applied": 2,
        "drifted": 1,
        "missing": 1,
        "failed": 1,
        "running": 1,
        "reverted": 1,
        "pending": 1,
    }
    rows = {r["version"]: r for r in doc["migrations"]}
    assert rows["20251022_001"]["checksum_match"] is True and rows["20251022_001"]["checksum_recorded"] == ok
    assert rows["20251022_003"]["error"] == 'relation "tasks" does not exist'
    assert rows["20251022_006"]["file"] is None
    assert sorted(rows["20251022_001"]) == sorted(
        [
            "version",
            "state",
            "file",
            "description",
            "batch",
            "installed_on",
            "error",
            "reverted_at",
            "reverted_by",
            "checksum_recorded",
            "checksum_file",
            "checksum_match",
        ]
    )
    # fix the three problems: exit 0; a raw-bytes checksum matches too; an unknown format is not compared
    conn.execute("DELETE FROM _migrations.schema_migrations WHERE version IN ('20251022_003', '20251022_006')")
    conn.execute("UPDATE _migrations.schema_migrations SET checksum = %s WHERE version = '20251022_001'", (raw,))
    conn.execute("UPDATE _migrations.schema_migrations SET checksum = 'md5:abc' WHERE version = '20251022_002'")
    code, out, err = run(capsys, "status", "--dsn", dsn)
    assert code == 0, out
    assert "20251022_001  applied" in out
    line = next(l for l in out.splitlines() if l.startswith("20251022_002"))
    assert line.split() == [
        "20251022_002",
        "applied",
        "migrations/20251022_002_drifted.sql",
        "checksum",
        "unrecognised",
        "(not",
        "a",
        "sha256),",
        "not",
        "compared",
    ]


@postgres
def test_status_without_tracking_schema(proj, db, capsys):
    dsn, _ = db
    code, out, err = run(capsys, "status", "--dsn", dsn)
    assert (code, out) == (2, "")
    assert err == (
        "migcheck: error: the database has no _migrations.schema_migrations table (the guidelines' "
        "tracking schema): run `migcheck init` to write the migration that creates it, apply that "
        "migration, then record each migration with _migrations.log_migration_start / "
        "log_migration_complete\n"
    )


def test_status_bad_dsn(proj, capsys):
    code, out, err = run(capsys, "status", "--dsn", "host=/nonexistent-socket-dir dbname=x connect_timeout=1")
    assert (code, out) == (2, "")
    assert err.startswith("migcheck: error: cannot connect to the database given by --dsn: ")


def test_status_needs_a_dsn(proj, capsys, monkeypatch):
    monkeypatch.delenv("MIGCHECK_DSN", raising=False)
    code, out, err = run(capsys, "status")
    assert code == 2 and "Missing option '--dsn'" in err


def test_status_without_psycopg(proj, capsys, monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError("no psycopg")
        return real(name, *a, **k)

    monkeypatch.delitem(sys.modules, "psycopg", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake)
    code, out, err = run(capsys, "status", "--dsn", "dbname=x")
    assert (code, out) == (2, "")
    assert err.startswith("migcheck: error: `migcheck status` needs the PostgreSQL driver psycopg: pip install")


def test_compare_states_without_a_database():
    files = {"20251022_001": ("m/1.sql", "a" * 64, "b" * 64), "20251022_002": ("m/2.sql", "c" * 64, "c" * 64)}
    rows = [
        {"version": "20251022_001", "success": True, "checksum": "B" * 64, "error_message": None, "reverted_at": None},
        {
            "version": "20251022_003",
            "success": False,
            "error_message": "boom",
            "error_detail": "line 3",
            "reverted_at": None,
        },
    ]
    report = st.compare(rows, files)
    assert [(r.version, r.state, r.checksum_match) for r in report.rows] == [
        ("20251022_001", "applied", True),
        ("20251022_002", "pending", None),
        ("20251022_003", "failed", None),
    ]
    assert report.rows[2].error == "boom (line 3)" and report.bad
