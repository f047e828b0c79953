"""`migcheck verify`: migrations applied, re-applied and rolled back on a real, throwaway PostgreSQL.

The tests marked ``postgres`` share one temporary cluster (module scope: starting it is the
expensive part) and reach it with ``--dsn``, so each run also exercises the scratch-database
path; one test runs the private-cluster path end to end. They are skipped only when no PostgreSQL
server binaries exist at all (.ci/run installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from harness import materialise, parse_case

from migcheck import cli, docs, presets, registry
from migcheck.verify import (
    DATA_RULES,
    GUARD_RULES,
    ROLLBACK_RULES,
    RULES,
    TRACE_RULES,
    cluster,
    procedure,
    runner,
    snapshot,
)
from migcheck.verify.command import enabled_rules

REPO = Path(__file__).resolve().parent.parent

postgres = pytest.mark.postgres

NO_SERVER = not cluster.binaries_available()
needs_server = pytest.mark.skipif(
    NO_SERVER,
    reason="no PostgreSQL server binaries (initdb, postgres) found: install the `postgresql` "
    "package (.ci/run does) or set MIGCHECK_PG_BINDIR",
)


@pytest.fixture(scope="module")
def pg():
    """One temporary cluster for the module."""
    if NO_SERVER:
        pytest.skip("no PostgreSQL server binaries found")
    c = cluster.TempCluster()
    c.start()
    try:
        yield c
    finally:
        c.stop()


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def verify_json(pg, capsys, *args):
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--format", "json", *args)
    assert code in (0, 1), err
    doc = json.loads(out)
    return code, doc["findings"], err


LEADS = {
    "migrations/20251022_001_leads.sql": """\
        -- MIGRATION: Leads
        BEGIN;
        CREATE TABLE IF NOT EXISTS leads (
          id bigint PRIMARY KEY,
          email text,
          company_id bigint
        );
        COMMIT;
        """,
    "migrations/rollback/20251022_001_rollback.sql": """\
        BEGIN;
        DROP TABLE IF EXISTS leads;
        COMMIT;
        """,
}


# --- a correct pair ------------------------------------------------------------------------


@postgres
@needs_server
def test_correct_pair_is_clean(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_email_trigger.sql": """\
            BEGIN;
            ALTER TABLE leads ADD COLUMN IF NOT EXISTS status text DEFAULT 'new';
            CREATE INDEX IF NOT EXISTS idx_leads_status ON leads (status);
            CREATE OR REPLACE FUNCTION validate_lead_email() RETURNS trigger AS $$
            BEGIN
              IF NEW.email IS NOT NULL AND EXISTS (
                SELECT 1 FROM leads WHERE lower(email) = lower(NEW.email) AND id <> NEW.id) THEN
                RAISE EXCEPTION 'Email already exists';
              END IF;
              RETURN NEW;
            END;
            $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS check_lead_email ON leads;
            CREATE TRIGGER check_lead_email BEFORE INSERT OR UPDATE ON leads
              FOR EACH ROW EXECUTE FUNCTION validate_lead_email();
            COMMENT ON COLUMN leads.status IS 'pipeline stage';
            COMMIT;
            """,
            "migrations/rollback/20251023_002_rollback.sql": """\
            BEGIN;
            DROP TRIGGER IF EXISTS check_lead_email ON leads;
            DROP FUNCTION IF EXISTS validate_lead_email();
            DROP INDEX IF EXISTS idx_leads_status;
            ALTER TABLE leads DROP COLUMN IF EXISTS status;
            COMMIT;
            """,
        },
    )
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "migrations")
    assert (code, out, err) == (0, "0 errors, 0 warnings in 4 files\n", "")


# --- rollback-mismatch ---------------------------------------------------------------------


@postgres
@needs_server
def test_rollback_that_forgets_an_index(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_lead_status.sql": """\
            BEGIN;
            ALTER TABLE leads ADD COLUMN IF NOT EXISTS status text;
            CREATE INDEX IF NOT EXISTS idx_leads_email
              ON leads (email);
            COMMIT;
            """,
            "migrations/rollback/20251023_002_rollback.sql": """\
            BEGIN;
            ALTER TABLE leads DROP COLUMN IF EXISTS status;
            COMMIT;
            """,
        },
    )
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "migrations")
    assert code == 1
    assert out == (
        "migrations/20251023_002_lead_status.sql:3:1: error[rollback-mismatch] the rollback leaves index "
        "public.idx_leads_email behind: CREATE INDEX idx_leads_email ON public.leads USING btree (email)\n"
        "  help: Add `DROP INDEX IF EXISTS public.idx_leads_email;` to migrations/rollback/20251023_002_rollback.sql. "
        "Before the migration it did not exist.\n"
        "\n"
        "1 error, 0 warnings in 4 files\n"
    )


@postgres
@needs_server
def test_rollback_mismatch_changed_and_removed_objects(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_email_not_null.sql": """\
            BEGIN;
            ALTER TABLE leads ALTER COLUMN email SET DEFAULT '';
            ALTER TABLE leads ENABLE ROW LEVEL SECURITY;
            COMMIT;
            """,
            "migrations/rollback/20251023_002_rollback.sql": """\
            BEGIN;
            ALTER TABLE leads ALTER COLUMN email DROP DEFAULT;
            ALTER TABLE leads DROP COLUMN IF EXISTS company_id;
            COMMIT;
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert code == 1
    got = {(f["path"], f["line"], f["rule"], f["message"].split(":")[0]) for f in findings}
    assert got == {
        (
            "migrations/20251023_002_email_not_null.sql",
            3,
            "rollback-mismatch",
            "after the rollback, row level security on table public.leads differs from before the migration",
        ),
        (
            "migrations/rollback/20251023_002_rollback.sql",
            3,
            "rollback-mismatch",
            "the rollback removes column public.leads.company_id, which existed before the migration",
        ),
    }
    rls = next(f for f in findings if "row level security" in f["message"])
    assert "before `DISABLED`, after `ENABLED`" in rls["message"]


@postgres
@needs_server
def test_a_table_left_behind_is_one_finding(pg, project, capsys):
    write(
        project,
        {
            "migrations/20251022_001_notes.sql": """\
            BEGIN;
            CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL, CHECK (body <> ''));
            CREATE INDEX IF NOT EXISTS idx_notes_body ON notes (body);
            COMMIT;
            """,
            "migrations/rollback/20251022_001_rollback.sql": "-- nothing\n",
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert [(f["line"], f["message"].split(":")[0]) for f in findings] == [
        (2, "the rollback leaves table public.notes behind")
    ]
    assert "DROP TABLE IF EXISTS public.notes;" in findings[0]["help"]


# --- verify-rollback-failed ----------------------------------------------------------------


@postgres
@needs_server
def test_rollback_that_fails(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_lead_score.sql": """\
            BEGIN;
            ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
            COMMIT;
            """,
            "migrations/rollback/20251023_002_rollback.sql": """\
            -- Rollback of 20251023_002
            BEGIN;
            ALTER TABLE leads
              DROP COLUMN lead_score;
            COMMIT;
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert code == 1
    assert [(f["path"], f["line"], f["column"], f["rule"]) for f in findings] == [
        ("migrations/rollback/20251023_002_rollback.sql", 3, 1, "verify-rollback-failed")
    ]
    assert findings[0]["message"] == (
        'the rollback fails: column "lead_score" of relation "leads" does not exist (SQLSTATE 42703)'
    )


@postgres
@needs_server
def test_migration_that_no_longer_applies_after_its_rollback(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_lead_notes.sql": """\
            BEGIN;
            CREATE TABLE IF NOT EXISTS lead_notes (id bigint PRIMARY KEY, lead_id bigint REFERENCES leads (id));
            ALTER TABLE leads ADD COLUMN IF NOT EXISTS note_count int;
            -- migcheck: ignore rollback-mismatch -- test: the rollback keeps the column on purpose
            ALTER TABLE leads ADD CONSTRAINT leads_note_count_check CHECK (note_count >= 0);
            COMMIT;
            """,
            "migrations/rollback/20251023_002_rollback.sql": """\
            BEGIN;
            DROP TABLE IF EXISTS lead_notes;
            COMMIT;
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "--ignore", "not-idempotent", "migrations")
    assert code == 1
    got = [(f["line"], f["rule"], f["suppressed"]) for f in findings]
    assert (5, "verify-rollback-failed", False) in got  # the constraint exists already on re-apply
    assert (5, "rollback-mismatch", True) in got  # the constraint left behind, suppressed with a reason
    assert (3, "rollback-mismatch", False) in got  # the column left behind


# --- not-idempotent ------------------------------------------------------------------------


@postgres
@needs_server
def test_non_idempotent_migration(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_lead_score.sql": """\
            BEGIN;
            ALTER TABLE leads ADD COLUMN score int;
            UPDATE leads SET score = 0 WHERE score IS NULL;
            COMMIT;
            """,
            "migrations/rollback/20251023_002_rollback.sql": """\
            BEGIN;
            ALTER TABLE leads DROP COLUMN IF EXISTS score;
            COMMIT;
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert code == 1
    assert [(f["path"], f["line"], f["column"], f["rule"], f["message"]) for f in findings] == [
        (
            "migrations/20251023_002_lead_score.sql",
            2,
            1,
            "not-idempotent",
            'running the migration a second time fails: column "score" of relation "leads" already exists (SQLSTATE 42701)',
        )
    ]


@postgres
@needs_server
def test_second_run_that_adds_a_duplicate_index(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_email_index.sql": """\
            BEGIN;
            CREATE INDEX ON leads (email);
            COMMIT;
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert [(f["line"], f["rule"]) for f in findings] == [(2, "not-idempotent")]
    assert findings[0]["message"].startswith(
        "running the migration a second time creates index public.leads_email_idx1 again"
    )


@postgres
@needs_server
def test_idempotent_no_header_opts_out(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_rename.sql": """\
            -- MIGRATION: rename company
            -- idempotent: No (a rename cannot run twice)
            BEGIN;
            ALTER TABLE leads RENAME COLUMN company_id TO account_id;
            COMMIT;
            """,
            "migrations/rollback/20251023_002_rollback.sql": """\
            BEGIN;
            ALTER TABLE leads RENAME COLUMN account_id TO company_id;
            COMMIT;
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert (code, findings) == (0, [])


# --- verify-apply-failed -------------------------------------------------------------------


@postgres
@needs_server
def test_apply_failure_is_mapped_to_the_line(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_backfill.sql": """\
            -- MIGRATION: backfill
            BEGIN;

            UPDATE leads
               SET email = lower(email)
             WHERE company_id IN (SELECT id
                                    FROM companies);
            COMMIT;
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert code == 1
    assert [(f["line"], f["column"], f["rule"], f["message"]) for f in findings] == [
        (
            7,
            30,
            "verify-apply-failed",
            'the migration fails to apply: relation "companies" does not exist (SQLSTATE 42P01)',
        )
    ]


@postgres
@needs_server
def test_apply_failure_inside_a_do_block_points_at_the_body_line(pg, project, capsys):
    (project / "migrations").mkdir()
    (project / "migrations/20251022_001_do.sql").write_bytes(
        b"BEGIN;\r\nDO $$\r\nBEGIN\r\n  PERFORM 1;\r\n  EXECUTE 'ALTER TABLE nope ADD COLUMN x int';\r\nEND\r\n$$;\r\nCOMMIT;\r\n"
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert [(f["line"], f["column"], f["rule"]) for f in findings] == [(5, 3, "verify-apply-failed")]


@postgres
@needs_server
def test_autocommit_file_and_cascade_notes(pg, project, capsys):
    write(
        project,
        {
            "migrations/20251022_001_score.sql": """\
            CREATE TABLE IF NOT EXISTS scores (id int);
            INSERT INTO scores VALUES ('x');
            """,
            "migrations/20251023_002_more.sql": """\
            ALTER TABLE missing_table ADD COLUMN IF NOT EXISTS y int;
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    first, second = findings
    assert (first["line"], first["column"]) == (2, 28)
    assert "committed one by one" in first["help"]
    assert "20251022_001_score.sql failed to apply" in second["help"]


@postgres
@needs_server
def test_transaction_left_open(pg, project, capsys):
    write(
        project,
        {
            "migrations/20251022_001_open.sql": """\
            SELECT 1;
            BEGIN;
            CREATE TABLE IF NOT EXISTS t (id int);
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "migrations")
    assert [(f["line"], f["rule"]) for f in findings] == [(2, "verify-apply-failed")]
    assert "never committed" in findings[0]["message"]


@postgres
@needs_server
def test_only_the_given_migration_is_reported_earlier_ones_are_applied(pg, project, capsys):
    write(
        project,
        LEADS
        | {
            "migrations/20251023_002_score.sql": "BEGIN;\nALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;\nCOMMIT;\n",
            "migrations/rollback/20251023_002_rollback.sql": "BEGIN;\nALTER TABLE leads DROP COLUMN IF EXISTS score;\nCOMMIT;\n",
            "migrations/20251024_003_broken.sql": "SELECT no_such_function();\n",
        },
    )
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "migrations/20251023_002_score.sql")
    assert (code, out) == (0, "0 errors, 0 warnings in 2 files\n")


# --- Supabase ------------------------------------------------------------------------------

SUPABASE_PROFILES = {
    "supabase/migrations/20251022_001_profiles.sql": """\
        -- MIGRATION: profiles for auth users
        BEGIN;
        CREATE TABLE IF NOT EXISTS public.profiles (
          id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
          full_name text,
          created_at timestamptz DEFAULT now()
        );
        ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
        DROP POLICY IF EXISTS "own profile" ON public.profiles;
        CREATE POLICY "own profile" ON public.profiles FOR SELECT TO authenticated USING (auth.uid() = id);
        CREATE OR REPLACE FUNCTION public.handle_new_user() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
        BEGIN
          INSERT INTO public.profiles (id, full_name) VALUES (NEW.id, NEW.raw_user_meta_data ->> 'full_name');
          RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS on_auth_user_created ON auth.users;
        CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users
          FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();
        ALTER PUBLICATION supabase_realtime ADD TABLE public.profiles;
        CREATE TABLE IF NOT EXISTS public.tokens (id uuid PRIMARY KEY DEFAULT extensions.uuid_generate_v4());
        COMMIT;
        """,
    "supabase/migrations/rollback/20251022_001_rollback.sql": """\
        BEGIN;
        DROP TRIGGER IF EXISTS on_auth_user_created ON auth.users;
        DROP FUNCTION IF EXISTS public.handle_new_user();
        DROP TABLE IF EXISTS public.tokens;
        DROP TABLE IF EXISTS public.profiles;
        COMMIT;
        """,
}


@postgres
@needs_server
def test_supabase_prelude_provides_auth_users(pg, project, capsys):
    write(project, SUPABASE_PROFILES)
    code, findings, _ = verify_json(pg, capsys, "--prelude", "supabase", "supabase/migrations")
    # ALTER PUBLICATION ... ADD TABLE is not re-runnable: that is the only finding
    assert [(f["line"], f["rule"]) for f in findings] == [(21, "not-idempotent")], findings
    assert "already member of publication" in findings[0]["message"]


@postgres
@needs_server
def test_without_the_prelude_auth_users_is_missing(pg, project, capsys):
    write(project, SUPABASE_PROFILES)
    code, findings, _ = verify_json(pg, capsys, "supabase/migrations")
    assert [(f["line"], f["rule"]) for f in findings] == [(3, "verify-apply-failed")]  # no position: the statement
    assert 'schema "auth" does not exist' in findings[0]["message"]


@postgres
@needs_server
def test_supabase_rollback_forgetting_the_auth_trigger(pg, project, capsys):
    files = dict(SUPABASE_PROFILES)
    rb = "supabase/migrations/rollback/20251022_001_rollback.sql"
    files[rb] = files[rb].replace("DROP TRIGGER IF EXISTS on_auth_user_created ON auth.users;\n", "")
    files[rb] = files[rb].replace(
        "DROP FUNCTION IF EXISTS public.handle_new_user();\n",
        "DROP FUNCTION IF EXISTS public.handle_new_user() CASCADE;\n",
    )
    write(project, files)
    code, findings, _ = verify_json(
        pg, capsys, "--prelude", "supabase", "--ignore", "not-idempotent", "supabase/migrations"
    )
    assert (code, findings) == (0, [])  # CASCADE drops the trigger with its function: the schema is restored
    files[rb] = files[rb].replace(" CASCADE", "").replace("DROP FUNCTION IF EXISTS public.handle_new_user();\n", "")
    write(project, files)
    code, findings, _ = verify_json(
        pg, capsys, "--prelude", "supabase", "--ignore", "not-idempotent", "supabase/migrations"
    )
    assert sorted((f["line"], f["message"].split(":")[0]) for f in findings) == [
        (11, "the rollback leaves function public.handle_new_user() behind"),
        (19, "the rollback leaves trigger auth.users.on_auth_user_created behind"),
    ]


@postgres
@needs_server
def test_prelude_file(pg, project, capsys):
    write(
        project,
        {
            "prelude.sql": "CREATE TABLE IF NOT EXISTS companies (id bigint PRIMARY KEY);\n",
            "migrations/20251022_001_x.sql": "BEGIN;\nCREATE TABLE IF NOT EXISTS x (c bigint REFERENCES companies (id));\nCOMMIT;\n",
            "migrations/rollback/20251022_001_rollback.sql": "BEGIN;\nDROP TABLE IF EXISTS x;\nCOMMIT;\n",
        },
    )
    code, out, _ = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--prelude", "prelude.sql", "migrations")
    assert code == 0, out
    (project / "bad.sql").write_text("SELECT 1;\nCREATE TABLE y (z nosuchtype);\n")
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--prelude", "bad.sql", "migrations")
    assert code == 2
    assert err == (
        'migcheck: error: the prelude bad.sql fails at line 2, column 19: type "nosuchtype" does not '
        "exist (SQLSTATE 42704)\n"
    )


# --- the documentation's examples, run through verify ----------------------------------------


@postgres
@needs_server
@pytest.mark.parametrize("rule_id", RULES)
def test_doc_examples_fire_and_use_instead_is_clean(pg, rule_id, tmp_path, monkeypatch, capsys):
    text = (REPO / "rules" / f"{rule_id}.md").read_text(encoding="utf-8")
    sec = docs.sections(text)
    for section in ("Example", "Use instead"):
        blocks = docs.sql_blocks(sec[section])
        assert blocks, f"rules/{rule_id}.md: '## {section}' has no ```sql block"
        for i, block in enumerate(blocks):
            root = tmp_path / f"{section.replace(' ', '_')}{i}"
            root.mkdir()
            case = parse_case(block.encode())
            materialise(case, root, None)
            monkeypatch.chdir(root)
            targets = sorted({rel.split("/")[0] for rel in case.files})
            # a trace rule's doc is run with --trace, and judged on its own rule; a data rule's with --data
            extra = ["--trace", "--select", rule_id] if rule_id in TRACE_RULES else []
            extra += ["--data"] if rule_id in DATA_RULES else []
            code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--format", "json", *extra, *targets)
            assert code in (0, 1), err
            findings = json.loads(out)["findings"]
            got = {(f["path"], f["line"], f["rule"]) for f in findings if not f["suppressed"]}
            if section == "Example":
                expected = {(p, line, r) for p, line, r, _ in case.expected}
                assert got == expected, f"rules/{rule_id}.md Example {i}: {findings}"
            else:
                assert not got, f"rules/{rule_id}.md Use instead {i}: {findings}"


# --- the command line --------------------------------------------------------------------


@postgres
@needs_server
def test_examples_on_a_private_cluster(repo_root, capsys, monkeypatch):
    """`migcheck verify examples/migrations` on its own temporary cluster, as on a fresh machine."""
    monkeypatch.chdir(repo_root)
    # a temporary directory of this test's own (short: the server's socket lives in it), so that
    # clusters other test runs start meanwhile cannot look like a leak of this one
    private = Path(cluster.tempfile.mkdtemp(prefix="mc-", dir="/tmp"))
    os.chmod(private, 0o755)  # (the server may run as the postgres user)
    monkeypatch.setattr(cluster.tempfile, "tempdir", str(private))
    try:
        code, out, err = run(capsys, "verify", "examples/migrations")
        assert code == 1
        # the examples build on a `leads` table from before their history: the first one that needs it fails
        assert 'error[verify-apply-failed] the migration fails to apply: relation "leads" does not exist' in out
        assert err == ""  # no progress on a non-terminal
        assert list(private.iterdir()) == [], "the temporary cluster directory was not deleted"
    finally:
        shutil.rmtree(private, ignore_errors=True)


@postgres
@needs_server
def test_progress_on_a_terminal_only(pg, project, capsys, monkeypatch):
    write(project, LEADS)
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "migrations")
    assert (code, err) == (0, "")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "migrations")
    assert code == 0
    assert "\r\x1b[K[1/1] 20251022_001_leads.sql" in err and err.endswith("\r\x1b[K")
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--quiet", "migrations")
    assert (code, out, err) == (0, "", "")


def test_unreachable_dsn_is_a_usage_error(project, capsys):
    (project / "migrations").mkdir()
    code, out, err = run(capsys, "verify", "--dsn", "postgresql://nobody@127.0.0.1:1/x", "migrations")
    assert code == 2 and err.startswith("migcheck: error: cannot connect to the server at 127.0.0.1:1: ")
    code, out, err = run(capsys, "verify", "--dsn", "nonsense=1", "migrations")
    assert code == 2 and err.startswith("migcheck: error: --dsn: not a valid connection string")


@postgres
@needs_server
def test_dsn_user_without_createdb(pg, project, capsys):
    import psycopg

    with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS migcheck_test_nocreatedb")
        conn.execute("CREATE ROLE migcheck_test_nocreatedb LOGIN")
    try:
        (project / "migrations").mkdir()
        dsn = f"host={pg.socket_dir} port=5432 user=migcheck_test_nocreatedb dbname=postgres"
        code, out, err = run(capsys, "verify", "--dsn", dsn, "migrations")
        assert code == 2
        assert "cannot create a scratch database" in err and "CREATEDB" in err
    finally:
        with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS migcheck_test_nocreatedb")


def test_select_and_ignore_take_verify_rules_only(project, capsys):
    (project / "migrations").mkdir()
    code, out, err = run(capsys, "verify", "--select", "drop-table", "migrations")
    assert code == 2
    assert err.startswith("migcheck: error: --select: 'drop-table' is not a verify rule")
    code, out, err = run(capsys, "verify", "--ignore", "no-such-rule", "migrations")
    assert code == 2 and "unknown rule id 'no-such-rule'" in err


def test_enabled_rules(project):
    from migcheck import config

    cfg = config.Config(root=project)
    assert enabled_rules(cfg, None, None) == set(RULES)
    assert enabled_rules(cfg, "rollback", "not-idempotent") == set(ROLLBACK_RULES) - {"not-idempotent"}
    assert enabled_rules(cfg, "safety", None) == set(TRACE_RULES)  # reported with --trace only
    # a configuration `select` written for check does not turn verify off
    assert enabled_rules(config.Config(root=project, select=("convention",)), None, None) == set(RULES)
    assert enabled_rules(config.Config(root=project, ignore=("rollback-mismatch",)), None, None) == set(RULES) - {
        "rollback-mismatch"
    }


def test_missing_driver_is_a_clear_usage_error(project, capsys, monkeypatch):
    (project / "migrations").mkdir()
    monkeypatch.setitem(sys.modules, "psycopg", None)
    code, out, err = run(capsys, "verify", "migrations")
    assert code == 2
    assert err == (
        "migcheck: error: migcheck verify needs the PostgreSQL driver psycopg 3: "
        "pip install 'migcheck[verify]'  (or: pip install 'psycopg[binary]>=3.1')\n"
    )


def test_prelude_not_found(project, capsys):
    (project / "migrations").mkdir()
    code, out, err = run(capsys, "verify", "--prelude", "nope.sql", "migrations")
    assert (code, err) == (2, "migcheck: error: prelude not found: nope.sql\n")


def test_path_not_found(project, capsys):
    code, out, err = run(capsys, "verify", "nowhere")
    assert (code, err) == (2, "migcheck: error: path not found: nowhere\n")


def test_no_binaries_message(monkeypatch):
    monkeypatch.setenv("MIGCHECK_PG_BINDIR", "/nonexistent")
    with pytest.raises(cluster.VerifyError, match="does not hold initdb and postgres"):
        cluster.find_bindir()


def test_root_without_postgres_user_is_explained(monkeypatch):
    import pwd

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(cluster, "SERVER_USER", "no-such-user-for-migcheck")
    monkeypatch.setattr(pwd, "getpwnam", lambda name: (_ for _ in ()).throw(KeyError(name)))
    with pytest.raises(cluster.VerifyError, match="refuses to run as root .* --dsn"):
        cluster.TempCluster()._run_as()


def test_verify_rules_are_declared_in_the_rollback_group():
    rules = registry.load()
    assert set(RULES) == set(ROLLBACK_RULES) | set(TRACE_RULES) | set(GUARD_RULES)
    for rid in ROLLBACK_RULES:
        assert rules[rid].group == "rollback" and rules[rid].scope == "verify"  # emitted by `verify` only
    for rid in TRACE_RULES:  # about locks: group safety (test_trace.py checks each)
        assert rules[rid].group == "safety" and rules[rid].scope == "verify"
    for rid in GUARD_RULES:  # what verify refuses to run (test_verify_safety.py)
        assert rules[rid].group == "safety" and rules[rid].scope == "verify"


# --- pieces of the procedure, without a server --------------------------------------------------


def _file(tmp_path, text, name="20251022_001_x.sql"):
    from migcheck import config, files

    p = tmp_path / "migrations" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return files.MigrationFile(p, f"migrations/{name}", "migration", p.parent, config.Config(root=tmp_path))


@pytest.mark.parametrize(
    "header,opted_out",
    [
        ("-- Idempotent: no\n", True),
        ("-- IDEMPOTENT: No, renames a column\n", True),
        ("-- idempotent: false\n", True),
        ("-- Idempotent: yes\n", False),
        ("", False),
    ],
)
def test_idempotency_opt_out(tmp_path, header, opted_out):
    f = _file(tmp_path, "-- MIGRATION: x\n" + header + "-- Purpose: y\nSELECT 1;\n")
    assert procedure.idempotency_opt_out(f) is opted_out


def test_pieces_and_transaction_mode(tmp_path):
    f = _file(tmp_path, "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    ps = runner.pieces(f)
    assert [p.text for p in ps] == ["BEGIN", "SELECT 1", "COMMIT"] and runner.runs_as_written(ps)
    g = _file(tmp_path, "SELECT 1;\nSELEC 2;\n-- trailing\n", "20251022_002_y.sql")
    ps = runner.pieces(g)  # a statement the parser rejects is still sent, for the server's own message
    assert [p.text.strip() for p in ps] == ["SELECT 1;", "SELEC 2;"] and not runner.runs_as_written(ps)
    assert ps[1].start == g.text.index("SELEC 2")


def _obj(key, kind, parent=None, definition="d", schema="public", name=None, table=None):
    return snapshot.Obj(key, kind, schema, name or key.split(".")[-1], table, parent, definition)


def test_diff_reports_a_new_table_once():
    before = {"schema public": _obj("schema public", "schema", name="public")}
    after = dict(before)
    after["table public.t"] = _obj("table public.t", "table", "schema public")
    after["column public.t.a"] = _obj("column public.t.a", "column", "table public.t", table="t")
    after["index public.i"] = _obj("index public.i", "index", "table public.t", table="t")
    after["index public.j"] = _obj("index public.j", "index", "table public.u", table="u")
    changed = dict(after)
    changed["column public.t.a"] = _obj("column public.t.a", "column", "table public.t", "integer", table="t")
    assert [(c.what, c.key) for c in snapshot.diff(before, after)] == [
        ("added", "index public.j"),
        ("added", "table public.t"),
    ]
    assert [(c.what, c.key) for c in snapshot.diff(after, changed)] == [("changed", "column public.t.a")]
    assert [(c.what, c.key) for c in snapshot.diff(after, before)] == [
        ("removed", "index public.j"),
        ("removed", "table public.t"),
    ]


@pytest.mark.parametrize(
    "obj,sql",
    [
        (_obj("index public.idx", "index"), "DROP INDEX IF EXISTS public.idx;"),
        (
            _obj("column public.leads.score", "column", table="leads"),
            "ALTER TABLE public.leads DROP COLUMN IF EXISTS score;",
        ),
        (_obj("trigger public.leads.t", "trigger", table="leads"), "DROP TRIGGER IF EXISTS t ON public.leads;"),
        (
            _obj("function public.f(integer)", "function", name="f(integer)"),
            "DROP FUNCTION IF EXISTS public.f(integer);",
        ),
        (
            _obj("policy public.leads.own profile", "policy", name="own profile", table="leads"),
            'DROP POLICY IF EXISTS "own profile" ON public.leads;',
        ),
        (_obj("type public.d", "type", definition="DOMAIN integer"), "DROP DOMAIN IF EXISTS public.d;"),
        (
            snapshot.Obj("extension uuid-ossp", "extension", None, "uuid-ossp", None, None, ""),
            'DROP EXTENSION IF EXISTS "uuid-ossp";',
        ),
    ],
)
def test_drop_sql(obj, sql):
    assert procedure.drop_sql(obj) == sql


# --- clean-up ----------------------------------------------------------------------------------

_HOLD = """
import sys, time
from migcheck.verify.cluster import TempCluster
c = TempCluster()
c.start()
print(c.tmp, c.proc.pid, flush=True)
try:
    time.sleep(60)
finally:
    c.stop()
"""


@postgres
@needs_server
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cluster_is_stopped_and_deleted_on_signal(sig):
    proc = subprocess.Popen([sys.executable, "-c", _HOLD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line, proc.stderr.read()
        tmp, pid = Path(line[0]), int(line[1])
        assert tmp.is_dir()
        proc.send_signal(sig)
        proc.wait(30)
        assert not tmp.exists()
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "the server outlived migcheck"
    finally:
        if proc.poll() is None:
            proc.kill()


@postgres
@needs_server
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux-only")
def test_server_shuts_down_when_migcheck_is_killed():
    proc = subprocess.Popen([sys.executable, "-c", _HOLD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    assert line, proc.stderr.read()
    tmp, pid = Path(line[0]), int(line[1])
    try:
        proc.kill()  # SIGKILL: no clean-up code runs in migcheck
        proc.wait(10)
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "the server outlived a killed migcheck"
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)  # the directory is left behind by kill -9


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


@postgres
@needs_server
def test_static_and_dynamic_rollback_checks_agree_on_the_examples(pg, repo_root, capsys, monkeypatch):
    """Every rollback-incomplete of `check` is confirmed by a rollback-mismatch of `verify` on the
    same migration, and verify finds no rollback gap that check missed."""
    import json

    monkeypatch.chdir(repo_root)
    _, out, _ = run(capsys, "check", "--format", "json", "examples/migrations")
    static = {
        f["message"].split("`")[1].split(":")[0]
        for f in json.loads(out)["findings"]
        if f["rule"] == "rollback-incomplete"
    }
    _, out, _ = run(
        capsys,
        "verify",
        "--dsn",
        pg.admin_conninfo(),
        "--prelude",
        "supabase",
        "--prelude",
        "examples/prelude.sql",
        "--format",
        "json",
        "examples/migrations",
    )
    dynamic = {f["path"].rsplit("/", 1)[-1] for f in json.loads(out)["findings"] if f["rule"] == "rollback-mismatch"}
    assert static == dynamic == {"20251023_002_add_email_validation_trigger.sql"}


# --- runner presets: layout, transactions, preludes (docs/presets.md, "migcheck verify") ------

DIESEL = {
    "migrations/2024-01-01-000000_create_a/up.sql": "CREATE TABLE a (id int PRIMARY KEY, name text);\n",
    "migrations/2024-01-01-000000_create_a/down.sql": "DROP TABLE a;\n",
    "migrations/2024-01-02-000000_index_a/up.sql": "CREATE INDEX a_name ON a (name);\nALTER TABLE a ADD COLUMN note text;\n",
    "migrations/2024-01-02-000000_index_a/down.sql": "ALTER TABLE a DROP COLUMN note;\n",  # forgets the index
}


@postgres
@needs_server
def test_preset_pairs_diesel_up_and_down(pg, project, capsys):
    write(project, DIESEL)
    code, findings, err = verify_json(pg, capsys, "--preset", "diesel", "migrations")
    # one rollback gap (and so the up.sql cannot run again after its down.sql); no not-idempotent
    # (diesel never runs a migration twice); every up.sql applies
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [
        ("rollback-mismatch", "migrations/2024-01-02-000000_index_a/up.sql", 1),
        ("verify-rollback-failed", "migrations/2024-01-02-000000_index_a/up.sql", 1),
    ], findings
    assert "index public.a_name" in findings[0]["message"]
    assert 'relation "a_name" already exists' in findings[1]["message"]
    assert err == ""
    # naming the rule by id brings the second apply back (CREATE TABLE / INDEX without IF NOT EXISTS)
    code, findings, _ = verify_json(pg, capsys, "--preset", "diesel", "--select", "not-idempotent", "migrations")
    assert sorted(f["path"] for f in findings) == [
        "migrations/2024-01-01-000000_create_a/up.sql",
        "migrations/2024-01-02-000000_index_a/up.sql",
    ]
    assert {f["rule"] for f in findings} == {"not-idempotent"}


@postgres
@needs_server
def test_preset_is_detected_as_check_detects_it(pg, project, capsys):
    write(project, DIESEL)
    code, findings, err = verify_json(pg, capsys, "migrations")
    assert [f["rule"] for f in findings] == ["rollback-mismatch", "verify-rollback-failed"]
    _, _, check_err = run(capsys, "check", "--format", "json", "migrations")
    line = (
        'migcheck: detected diesel layout (set preset = "diesel" in the configuration, '
        "or pass --preset diesel, to silence this)\n"
    )
    assert err == check_err == line
    code, out, err = run(capsys, "verify", "--dsn", pg.admin_conninfo(), "--quiet", "migrations")
    assert err == ""  # --quiet: no detection line, as for check
    (project / "migcheck.toml").write_text('preset = "diesel"\n')
    code, findings, err = verify_json(pg, capsys, "migrations")
    assert ([f["rule"] for f in findings], err) == (["rollback-mismatch", "verify-rollback-failed"], "")


@postgres
@needs_server
def test_diesel_preset_has_the_tracking_table(pg, project, capsys):
    write(
        project,
        {
            "migrations/2024-01-01-000000_guard/up.sql": """\
            CREATE FUNCTION guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
            CREATE TRIGGER guard BEFORE DELETE ON __diesel_schema_migrations EXECUTE FUNCTION guard();
            """,
            "migrations/2024-01-01-000000_guard/down.sql": """\
            DROP TRIGGER guard ON __diesel_schema_migrations;
            DROP FUNCTION guard();
            """,
        },
    )
    code, findings, _ = verify_json(pg, capsys, "--preset", "diesel", "migrations")
    assert (code, findings) == (0, [])


# the runner's transaction around each migration: CREATE INDEX CONCURRENTLY fails in it as it does
# in production, unless the file carries the runner's marker (and, sent as one query, is alone)
TXN_CASES = [
    # (preset, files, expected: None for clean, else a text the verify-apply-failed message holds)
    (
        "sqlx",
        {"migrations/2_idx.up.sql": "CREATE INDEX CONCURRENTLY t_c ON t (c);\n"},
        "sqlx runs each migration in a transaction unless it is marked `-- no-transaction`",
    ),
    ("sqlx", {"migrations/2_idx.up.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY t_c ON t (c);\n"}, None),
    (
        "sqlx",
        {
            "migrations/2_idx.up.sql": "-- no-transaction\nSET lock_timeout = '1s';\n"
            "CREATE INDEX CONCURRENTLY t_c ON t (c);\n"
        },
        "the file is marked `-- no-transaction`, but sqlx sends it as one query",
    ),
    ("golang-migrate", {"migrations/2_idx.up.sql": "CREATE INDEX CONCURRENTLY t_c ON t (c);\n"}, None),
    (
        "golang-migrate",
        {"migrations/2_idx.up.sql": "SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY t_c ON t (c);\n"},
        "golang-migrate sends the file as one query, which PostgreSQL runs as one transaction",
    ),
    (
        "goose",
        {
            "migrations/2_idx.sql": "-- +goose Up\nCREATE INDEX CONCURRENTLY t_c ON t (c);\n"
            "-- +goose Down\nDROP INDEX CONCURRENTLY t_c;\n"
        },
        "goose runs each migration in a transaction unless it is marked `-- +goose NO TRANSACTION`",
    ),
    (
        "goose",
        {
            "migrations/2_idx.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nSET lock_timeout = '1s';\n"
            "CREATE INDEX CONCURRENTLY t_c ON t (c);\n"
            "-- +goose Down\nDROP INDEX CONCURRENTLY t_c;\n"
        },
        None,
    ),
    (
        "dbmate",
        {
            "db/migrations/2_idx.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY t_c ON t (c);\n"
            "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY t_c;\n"
        },
        None,
    ),
    (
        "diesel",
        {
            "migrations/2024-01-02-000000_idx/up.sql": "CREATE INDEX CONCURRENTLY t_c ON t (c);\n",
            "migrations/2024-01-02-000000_idx/down.sql": "DROP INDEX CONCURRENTLY t_c;\n",
        },
        "diesel runs each migration in a transaction unless it is marked `run_in_transaction = false`",
    ),
    (
        "diesel",
        {
            "migrations/2024-01-02-000000_idx/up.sql": "CREATE INDEX CONCURRENTLY t_c ON t (c);\n",
            "migrations/2024-01-02-000000_idx/down.sql": "DROP INDEX CONCURRENTLY t_c;\n",
            "migrations/2024-01-02-000000_idx/metadata.toml": "run_in_transaction = false\n",
        },
        None,
    ),
    ("flyway", {"db/migration/V2__idx.sql": "CREATE INDEX CONCURRENTLY t_c ON t (c);\n"}, None),
    (
        "postgres-migrations",
        {"migrations/2_idx.sql": "CREATE INDEX CONCURRENTLY t_c ON t (c);\n"},
        "unless it is marked `-- postgres-migrations disable-transaction`",
    ),
    (
        "refinery",
        {"migrations/V2__idx.sql": "CREATE INDEX CONCURRENTLY t_c ON t (c);\n"},
        "refinery runs each migration in a transaction unless it is marked `-- refinery:noTransaction`",
    ),
    (
        "refinery",
        {"migrations/V2__idx.sql": "-- refinery:noTransaction\nCREATE INDEX CONCURRENTLY t_c ON t (c);\n"},
        None,
    ),
]

FIRST = {  # migration 1 of each layout: the table the index goes on
    "sqlx": {
        "migrations/1_t.up.sql": "CREATE TABLE t (c int);\n",
        "migrations/1_t.down.sql": "DROP TABLE t;\n",
        "migrations/2_idx.down.sql": "DROP INDEX IF EXISTS t_c;\n",
    },
    "golang-migrate": {
        "migrations/1_t.up.sql": "CREATE TABLE t (c int);\n",
        "migrations/1_t.down.sql": "DROP TABLE t;\n",
        "migrations/2_idx.down.sql": "DROP INDEX IF EXISTS t_c;\n",
    },
    "goose": {"migrations/1_t.sql": "-- +goose Up\nCREATE TABLE t (c int);\n-- +goose Down\nDROP TABLE t;\n"},
    "dbmate": {"db/migrations/1_t.sql": "-- migrate:up\nCREATE TABLE t (c int);\n-- migrate:down\nDROP TABLE t;\n"},
    "diesel": {
        "migrations/2024-01-01-000000_t/up.sql": "CREATE TABLE t (c int);\n",
        "migrations/2024-01-01-000000_t/down.sql": "DROP TABLE t;\n",
    },
    "flyway": {"db/migration/V1__t.sql": "CREATE TABLE t (c int);\n"},
    "postgres-migrations": {"migrations/1_t.sql": "CREATE TABLE t (c int);\n"},
    "refinery": {"migrations/V1__t.sql": "CREATE TABLE t (c int);\n"},
}


@postgres
@needs_server
@pytest.mark.parametrize("preset,files,expected", TXN_CASES, ids=[f"{p}-{i}" for i, (p, _, _) in enumerate(TXN_CASES)])
@pytest.mark.parametrize("trace", [False, True], ids=["apply", "trace"])
def test_runner_transaction_semantics(pg, project, capsys, preset, files, expected, trace):
    write(project, {**FIRST[preset], **files})
    code, findings, _ = verify_json(
        pg, capsys, "--preset", preset, *(["--trace"] if trace else []), "--select", "rollback", "."
    )
    if expected is None:
        assert (code, findings) == (0, []), findings
        return
    assert [f["rule"] for f in findings] == ["verify-apply-failed"], findings
    assert "cannot run inside a transaction block" in findings[0]["message"]
    assert expected in findings[0]["message"]
    if "unless it is marked" in expected:  # the help says where the runner's marker goes
        assert presets.get(preset).no_tx_marker in findings[0]["help"]
        assert presets.get(preset).marker_where in findings[0]["help"]


@postgres
@needs_server
def test_runner_transaction_makes_the_migration_atomic(pg, project, capsys):
    write(
        project,
        {
            "migrations/1_t.up.sql": "CREATE TABLE t (c int);\nCREATE TABLE t (c int);\n",
            "migrations/1_t.down.sql": "DROP TABLE t;\n",
            "migrations/2_u.up.sql": "CREATE TABLE t (c int);\n",  # applies: the failed 1 left nothing behind
            "migrations/2_u.down.sql": "DROP TABLE t;\n",
        },
    )
    code, findings, _ = verify_json(pg, capsys, "--preset", "golang-migrate", "migrations")
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [
        ("verify-apply-failed", "migrations/1_t.up.sql", 2)
    ]
    assert "committed one by one" not in findings[0]["help"]


SUPABASE_CLI = {
    "supabase/migrations/20240101120000_profiles.sql": """\
        CREATE TABLE public.profiles (id uuid PRIMARY KEY REFERENCES auth.users (id), name text);
        ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
        CREATE POLICY "own" ON public.profiles FOR SELECT TO authenticated USING (auth.uid() = id);
        """,
}


@postgres
@needs_server
def test_supabase_preset_is_the_layout_and_the_prelude(pg, project, capsys):
    write(project, SUPABASE_CLI)
    code, findings, err = verify_json(pg, capsys, "--preset", "supabase", "supabase/migrations")
    assert (code, findings, err) == (0, [], "")
    # detected (the Supabase CLI's layout): the same, with check's detection line
    code, findings, err = verify_json(pg, capsys, "supabase/migrations")
    assert (code, findings) == (0, [])
    assert err.startswith("migcheck: detected the Supabase CLI layout")
    # --prelude supabase with it loads the prelude once
    code, findings, _ = verify_json(pg, capsys, "--preset", "supabase", "--prelude", "supabase", "supabase/migrations")
    assert (code, findings) == (0, [])
    # another preset: no Supabase stand-ins
    code, findings, _ = verify_json(pg, capsys, "--preset", "postgres-migrations", "supabase/migrations")
    assert [f["rule"] for f in findings] == ["verify-apply-failed"]
    assert 'schema "auth" does not exist' in findings[0]["message"]


def test_preset_choices_are_check_s(project, capsys):
    (project / "migrations").mkdir()
    code, _, err = run(capsys, "verify", "--preset", "nosuch", "migrations")
    assert code == 2 and "'nosuch' is not one of" in err
    for name in presets.NAMES:
        assert f"'{name}'" in err


@pytest.mark.parametrize("trace", [[], ["--trace"]])
def test_other_dialect_is_refused(project, capsys, trace):
    pytest.importorskip("sqlglot")
    (project / "migrations").mkdir()
    (project / "migcheck.toml").write_text('dialect = "mysql"\n')
    code, out, err = run(capsys, "verify", *trace, "migrations")
    assert (code, out) == (2, "")
    assert err == (
        "migcheck: error: `migcheck verify` runs the migrations on PostgreSQL; the configured dialect "
        "is mysql (docs/dialects.md): use `migcheck check` for mysql migrations\n"
    )


def test_enabled_rules_under_a_runner_preset(project):
    from migcheck import config

    cfg = config.Config(root=project, preset="sqlx")
    assert enabled_rules(cfg, None, None) == set(RULES) - {"not-idempotent"}
    assert enabled_rules(cfg, "rollback", None) == set(ROLLBACK_RULES) - {"not-idempotent"}  # a group: no
    assert enabled_rules(cfg, "not-idempotent", None) == {"not-idempotent"}  # its id: yes
    assert "not-idempotent" in enabled_rules(
        config.Config(root=project, preset="sqlx", severity={"not-idempotent": "warning"}), None, None
    )


@postgres
@needs_server
def test_syntax_of_a_later_postgresql_is_explained(pg, project, capsys):
    write(
        project,
        {
            "migrations/1_v.up.sql": "CREATE VIEW v AS SELECT * FROM (SELECT 1 AS one);\n",  # PostgreSQL 16+
            "migrations/1_v.down.sql": "DROP VIEW v;\n",
        },
    )
    code, findings, _ = verify_json(pg, capsys, "--preset", "golang-migrate", "migrations")
    if pg.server_version() // 10000 >= 16:
        assert findings == []
        return
    assert [f["rule"] for f in findings] == ["verify-apply-failed"]
    assert f"later PostgreSQL than the {pg.server_version() // 10000} verify ran on" in findings[0]["help"]


@postgres
@needs_server
def test_rollback_that_does_not_restore_what_the_migration_drops(pg, project, capsys):
    write(
        project,
        {
            "migrations/1_t.up.sql": "CREATE TABLE t (c int);\nCREATE VIEW tv AS SELECT c FROM t;\n",
            "migrations/1_t.down.sql": "DROP VIEW tv;\nDROP TABLE t;\n",
            "migrations/2_drop.up.sql": "DROP VIEW tv;\n",
            "migrations/2_drop.down.sql": "SELECT 1;\n",  # irreversible, and says nothing
        },
    )
    code, findings, _ = verify_json(pg, capsys, "--preset", "golang-migrate", "migrations/2_drop.up.sql")
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [
        ("rollback-mismatch", "migrations/2_drop.up.sql", 1),
        ("verify-rollback-failed", "migrations/2_drop.up.sql", 1),
    ]  # DROP VIEW tv again: there is none
    assert findings[0]["message"].startswith("the migration drops view public.tv and the rollback does not restore it")


@postgres
@needs_server
def test_versions_run_in_the_runner_s_order_and_each_directory_on_its_own_database(pg, project, capsys):
    write(
        project,
        {
            # numbers: 10 runs after 2 (a string sort would run it first, before table b exists)
            "migrations/app/2_b.up.sql": "CREATE TABLE b (id int PRIMARY KEY);\n",
            "migrations/app/2_b.down.sql": "DROP TABLE b;\n",
            "migrations/app/10_c.up.sql": "CREATE TABLE c (b_id int REFERENCES b (id));\n",
            "migrations/app/10_c.down.sql": "DROP TABLE c;\n",
            # another history (another service's database): its own `b`, which would clash in one database
            "migrations/jobs/1_b.up.sql": "CREATE TABLE b (job text);\n",
            "migrations/jobs/1_b.down.sql": "DROP TABLE b;\n",
        },
    )
    code, findings, _ = verify_json(pg, capsys, "--preset", "golang-migrate", "migrations")
    assert (code, findings) == (0, [])
    code, out, _ = run(
        capsys,
        "verify",
        "--dsn",
        pg.admin_conninfo(),
        "--preset",
        "golang-migrate",
        "--trace",
        "--select",
        "rollback",
        "--format",
        "json",
        "migrations",
    )
    doc = json.loads(out)
    assert (code, doc["findings"]) == (0, [])
    assert {f["path"] for f in doc["files"] if "trace" in f} == {
        "migrations/app/2_b.up.sql",
        "migrations/app/10_c.up.sql",
        "migrations/jobs/1_b.up.sql",
    }
