"""`migcheck verify` executes migrations: what it refuses to run, the sandbox it runs them in, and
its timeouts (issue 26: a shell command ran with the CI job's environment, `verify --dsn` dropped
a real database and a role, `SELECT pg_sleep(100000)` ran until killed)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

# the shared cluster (module scope), acting here as "the user's server", and the helpers
from test_verify import needs_server, pg, postgres, run, write  # noqa: F401  (pg: a fixture)

from migcheck import config
from migcheck.verify import cluster, procedure


def _nothing_runs(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("verify ran a migration it should have refused")

    monkeypatch.setattr(procedure, "verify_project", boom)
    monkeypatch.setattr(cluster.TempCluster, "start", boom)
    monkeypatch.setattr(cluster.Server, "database", boom)


# --- refused before anything runs ----------------------------------------------------------


def test_host_access_is_refused_before_anything_runs(project, capsys, monkeypatch, tmp_path):
    _nothing_runs(monkeypatch)
    monkeypatch.setenv("MIGCHECK_FAKE_SECRET", "s3cr3t-token")
    leak = tmp_path / "leak.txt"
    write(
        project,
        {
            "migrations/20251022_001_export.sql": f"""\
        BEGIN;
        CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY);
        COPY (SELECT 1) TO PROGRAM 'env > {leak}';
        COMMIT;
        """
        },
    )
    code, out, err = run(capsys, "verify", "--format", "json", "migrations")
    assert code == 1, err
    findings = json.loads(out)["findings"]
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [("verify-refused", 3, 1)]
    assert "COPY ... TO PROGRAM runs a shell command" in findings[0]["message"]
    assert not leak.exists()
    # check reports the same statement
    code, out, _ = run(capsys, "check", "--select", "host-access", "--no-cache", "migrations")
    assert code == 1 and ":3:1: error[host-access]" in out


@pytest.mark.parametrize(
    "body,where",
    [
        (
            "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_read_file('/etc/hostname'); END $$;\n",
            "in the body of function f()",
        ),
        ("DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PRO' || 'GRAM ''id'''; END $$;\n", "dynamic SQL"),
        ("CREATE FUNCTION f() RETURNS void LANGUAGE plperlu AS $$ system('id') $$;\n", "LANGUAGE plperlu"),
    ],
)
def test_host_access_in_bodies_and_dynamic_sql_is_refused(project, capsys, monkeypatch, body, where):
    _nothing_runs(monkeypatch)
    write(project, {"migrations/20251022_001_x.sql": body})
    code, out, err = run(capsys, "verify", "--format", "json", "migrations")
    assert code == 1, err
    findings = json.loads(out)["findings"]
    assert findings and all(f["rule"] == "verify-refused" for f in findings)
    assert where in findings[0]["message"]


def test_a_prelude_that_reaches_the_host_is_refused(project, capsys, monkeypatch):
    _nothing_runs(monkeypatch)
    write(
        project,
        {
            "migrations/20251022_001_x.sql": "CREATE TABLE IF NOT EXISTS t (id int);\n",
            "prelude.sql": "SELECT pg_ls_dir('/');\n",
        },
    )
    code, out, err = run(capsys, "verify", "--format", "json", "--prelude", "prelude.sql", "migrations")
    assert code == 1, err
    assert [(f["rule"], f["path"]) for f in json.loads(out)["findings"]] == [("verify-refused", "prelude.sql")]


def test_cluster_statements_are_refused_only_on_a_server_migcheck_did_not_create(project):
    write(
        project,
        {
            "migrations/20251022_001_x.sql": """\
        CREATE ROLE reporting NOLOGIN;
        GRANT anon TO authenticator;
        DROP DATABASE IF EXISTS realdb;
        ALTER SYSTEM SET work_mem = '64MB';
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity;
        DO $$ BEGIN EXECUTE 'CREATE ROLE ' || 'x'; END $$;
        DO $$ BEGIN EXECUTE 'grant ' || 'anon' || ' to authenticator'; END $$;
        CREATE TABLE IF NOT EXISTS t (id int);
        DO $$ BEGIN EXECUTE 'GRANT SELECT ON TABLE t TO ' || 'anon'; END $$;
        DO $$ BEGIN EXECUTE 'SELECT a FROM t GROUP BY ' || 'a'; END $$;
        """
        },
    )
    from migcheck import engine
    from migcheck.verify import guard

    cfg = config.Config(root=project)
    proj = engine.collect(["migrations"], cfg, project)
    files = guard.files_to_run(proj)
    assert guard.refusals(files, cfg, shared_server=False) == []  # the private cluster may run them
    shared = guard.refusals(files, cfg, shared_server=True)
    assert [f.line for f in shared] == [1, 2, 3, 4, 5, 6, 7]  # (privileges ON an object and GROUP BY stay)
    assert all(f.rule == "verify-refused" and "--dsn" in f.help for f in shared)


# --- the private cluster's environment ------------------------------------------------------


@needs_server
def test_private_cluster_runs_with_a_scrubbed_environment(monkeypatch, tmp_path):
    import psycopg

    monkeypatch.setenv("MIGCHECK_FAKE_SECRET", "s3cr3t-token")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake")
    c = cluster.TempCluster()
    c.start()
    try:
        environ = Path(f"/proc/{c.proc.pid}/environ").read_bytes().split(b"\0")
        names = {e.split(b"=", 1)[0] for e in environ if e}
        assert b"MIGCHECK_FAKE_SECRET" not in names and b"GITHUB_TOKEN" not in names
        assert not any(b"s3cr3t" in e for e in environ)
        assert b"PATH" in names
        # what a program the server runs would see (a superuser's COPY ... TO PROGRAM, run here
        # directly: verify itself refuses to run one)
        out = c.tmp / "env.txt"
        with psycopg.connect(c.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f"COPY (SELECT 1) TO PROGRAM 'cat > /dev/null; env > {out}'")
        seen = out.read_text()
        assert "PATH=" in seen and "s3cr3t" not in seen and "GITHUB_TOKEN" not in seen
    finally:
        c.stop()


# --- --dsn on the user's server ---------------------------------------------------------------


def _state(pg):
    import psycopg

    with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
        roles = {r for (r,) in conn.execute("SELECT rolname FROM pg_roles")}
        members = set(
            conn.execute(
                "SELECT g.rolname, u.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
                "JOIN pg_roles u ON u.oid = a.member"
            ).fetchall()
        )
        dbs = {d for (d,) in conn.execute("SELECT datname FROM pg_database")}
    return roles, members, dbs


@postgres
@needs_server
def test_dsn_leaves_the_user_s_databases_roles_and_memberships_alone(pg, project, capsys, monkeypatch):
    import psycopg

    with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS realdb")
        conn.execute("CREATE DATABASE realdb")
        for role in ("reporting", "authenticator", "someone_elses_role"):
            conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute("CREATE ROLE reporting LOGIN")
        conn.execute("CREATE ROLE authenticator NOLOGIN")  # as on a Supabase server
    realdb = pg.conninfo("realdb")
    with psycopg.connect(realdb, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int)")
        conn.execute("INSERT INTO customers SELECT generate_series(1, 100)")
    try:
        before = _state(pg)
        write(
            project,
            {
                "migrations/20251022_001_cleanup.sql": """\
            BEGIN;
            CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY);
            COMMIT;
            DROP DATABASE IF EXISTS realdb;
            DROP ROLE reporting;
            ALTER ROLE anon WITH LOGIN PASSWORD 'hunter2';
            """
            },
        )
        code, out, err = run(
            capsys, "verify", "--dsn", pg.admin_conninfo(), "--prelude", "supabase", "--format", "json", "migrations"
        )
        assert code == 1, err
        findings = json.loads(out)["findings"]
        assert [(f["rule"], f["line"]) for f in findings] == [
            ("verify-refused", 4),
            ("verify-refused", 5),
            ("verify-refused", 6),
        ]
        assert "DROP DATABASE" in findings[0]["message"] and "DROP ROLE" in findings[1]["message"]
        assert _state(pg) == before

        # a clean migration: the Supabase prelude's roles and its GRANT anon, ... TO authenticator
        # (authenticator existed before) are gone afterwards; a role someone else creates during the
        # run is neither dropped nor reported
        write(
            project,
            {
                "migrations/20251022_001_cleanup.sql": """\
            BEGIN;
            CREATE TABLE IF NOT EXISTS leads (id bigint PRIMARY KEY);
            COMMIT;
            """,
                "migrations/rollback/20251022_001_rollback.sql": "DROP TABLE IF EXISTS leads;\n",
            },
        )
        real = procedure.verify_project

        def meanwhile(*a, **k):
            with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
                conn.execute("CREATE ROLE someone_elses_role NOLOGIN")
            return real(*a, **k)

        monkeypatch.setattr(procedure, "verify_project", meanwhile)
        code, out, err = run(
            capsys, "verify", "--dsn", pg.admin_conninfo(), "--prelude", "supabase", "--format", "json", "migrations"
        )
        assert code == 0, (out, err)
        assert json.loads(out)["findings"] == []
        roles, members, dbs = _state(pg)
        assert roles == before[0] | {"someone_elses_role"}
        assert members == before[1]
        assert dbs == before[2]
        with psycopg.connect(realdb, autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 100
    finally:
        with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS realdb")
            for role in ("reporting", "authenticator", "someone_elses_role"):
                conn.execute(f"DROP ROLE IF EXISTS {role}")


# --- timeouts ------------------------------------------------------------------------------


@postgres
@needs_server
def test_a_statement_that_runs_too_long_is_stopped_with_a_finding(pg, project, capsys):
    write(
        project,
        {
            "migcheck.toml": 'verify-statement-timeout = "1s"\n',
            # the migration's own SET cannot turn the limit off
            "migrations/20251022_001_sleep.sql": "SET statement_timeout = 0;\nSELECT pg_sleep(100000);\n",
        },
    )
    t0 = time.monotonic()
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--format", "json", "migrations")
    assert time.monotonic() - t0 < 30
    assert code == 1, err
    findings = json.loads(out)["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("verify-apply-failed", 2)]
    assert "stopped after 1 s" in findings[0]["message"] and "verify-statement-timeout" in findings[0]["help"]


@postgres
@needs_server
def test_a_file_that_runs_too_long_is_stopped_with_a_finding(pg, project, capsys):
    write(
        project,
        {
            "migcheck.toml": 'verify-timeout = "2s"\n',
            "migrations/20251022_001_sleep.sql": "SELECT pg_sleep(0.8);\n" * 6,
        },
    )
    t0 = time.monotonic()
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--format", "json", "migrations")
    assert time.monotonic() - t0 < 30
    assert code == 1, err
    findings = json.loads(out)["findings"]
    assert [f["rule"] for f in findings] == ["verify-apply-failed"]
    assert findings[0]["line"] == 3 and "file was stopped after 2 s" in findings[0]["message"]


@pytest.mark.parametrize("value,seconds", [("30s", 30.0), ("500ms", 0.5), ("5min", 300.0), (10, 10.0), (False, None)])
def test_timeout_keys(tmp_path, value, seconds):
    cfg = config.from_dict({"verify-timeout": value, "verify-statement-timeout": value}, root=tmp_path)
    assert cfg.verify_timeout == seconds and cfg.verify_statement_timeout == seconds


@pytest.mark.parametrize("value", ["soon", 0, -1, "", True, [1]])
def test_bad_timeout_is_a_config_error(project, capsys, value):
    write(project, {"migcheck.toml": f"verify-timeout = {json.dumps(value)}\n", "migrations/x.sql": "SELECT 1;\n"})
    code, out, err = run(capsys, "verify", "migrations")
    assert code == 2 and err.startswith("migcheck: error:") and "'verify-timeout' must be a duration" in err
    assert len(err.strip().splitlines()) == 1
