"""`migcheck verify --trace`: the locks, rewrites and scans each statement really takes on a real,
throwaway PostgreSQL, held to the static lock model (migcheck.analysis.locks).

One temporary cluster for the module (reached with --dsn, like test_verify.py); every test works in
a scratch database of its own that verify creates and drops.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from harness import materialise, parse_case

from migcheck import cli, config, files, registry
from migcheck.verify import TRACE_RULES, cluster, trace

REPO = Path(__file__).resolve().parent.parent
postgres = pytest.mark.postgres
NO_SERVER = not cluster.binaries_available()
needs_server = pytest.mark.skipif(NO_SERVER, reason="no PostgreSQL server binaries (initdb, postgres) found")


@pytest.fixture(scope="module")
def pg():
    if NO_SERVER:
        pytest.skip("no PostgreSQL server binaries found")
    c = cluster.TempCluster()
    c.start()
    try:
        yield c
    finally:
        c.stop()


# the tables every case builds on, as an earlier migration (so the trace seeds them with rows)
BASE = """\
    BEGIN;
    CREATE TABLE IF NOT EXISTS companies (id bigint PRIMARY KEY, name text NOT NULL);
    CREATE TABLE IF NOT EXISTS leads (
      id bigint PRIMARY KEY,
      company_id bigint,
      email text,
      source text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    COMMIT;
    """


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")


def traced(pg, project, capsys, migration: str, *extra, base: str = BASE):
    """Verify (with --trace) the migration `migration` after `base`; the JSON document, the traced
    file's statements and the findings of the trace rules."""
    write(project, {"migrations/20251022_001_base.sql": base, "migrations/20251023_002_change.sql": migration})
    code = cli.main(
        [
            "verify",
            "--dsn",
            pg.admin_conninfo(),
            "--trace",
            "--format",
            "json",
            *extra,
            "migrations/20251023_002_change.sql",
        ]
    )
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    doc = json.loads(out)
    entry = next(f for f in doc["files"] if f["path"] == "migrations/20251023_002_change.sql")
    findings = [f for f in doc["findings"] if f["rule"] in TRACE_RULES]
    return doc, entry, findings


def at(entry, line):
    return next(t for t in entry["trace"] if t["line"] == line)


def locks(t):
    return {lk["relation"]: lk["mode"] for lk in t["locks"]}


# --- the done-when cases ------------------------------------------------------------------


@postgres
@needs_server
def test_add_column_with_volatile_default_takes_access_exclusive_and_rewrites(pg, project, capsys):
    doc, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        SET LOCAL lock_timeout = '5s';
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS public_id uuid DEFAULT gen_random_uuid();
        COMMIT;
        """,
    )
    t = at(entry, 3)
    assert locks(t) == {"public.leads": "ACCESS EXCLUSIVE"}
    assert t["locks"][0]["rows"] == "seeded" and t["locks"][0]["existing"] is True
    assert t["locks"][0]["blocks"] == "blocks reads and writes"
    assert "public.leads" in t["rewrites"] and "public.leads_pkey" in t["rewrites"]
    assert t["model"] == "agrees" and t["transaction"] == "file" and t["lock_timeout"] == "5s"
    assert [(f["rule"], f["line"]) for f in findings] == [("table-rewritten", 3)]
    assert "rewrote public.leads" in findings[0]["message"]


@postgres
@needs_server
def test_constant_default_is_catalog_only(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        SET LOCAL lock_timeout = '5s';
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'new';
        COMMIT;
        """,
    )
    t = at(entry, 3)
    assert locks(t) == {"public.leads": "ACCESS EXCLUSIVE"}
    assert t["rewrites"] == [] and t["scans"] == [] and t["model"] == "agrees"
    assert findings == []


@postgres
@needs_server
def test_create_index_takes_share_and_scans(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        CREATE INDEX IF NOT EXISTS idx_leads_email ON leads (email);
        COMMIT;
        """,
    )
    t = at(entry, 2)
    assert locks(t) == {"public.leads": "SHARE"}
    assert t["locks"][0]["blocks"] == "blocks writes; reads go on"
    assert t["scans"] == ["public.leads"] and t["rewrites"] == []
    assert t["model"] == "agrees"
    assert [f["rule"] for f in findings] == ["lock-without-timeout"]  # SHARE with lock_timeout = 0


@postgres
@needs_server
def test_set_not_null_takes_access_exclusive_and_scans(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        SET LOCAL lock_timeout = '5s';
        ALTER TABLE leads ALTER COLUMN source SET NOT NULL;
        COMMIT;
        """,
    )
    t = at(entry, 3)
    assert locks(t) == {"public.leads": "ACCESS EXCLUSIVE"}
    assert t["scans"] == ["public.leads"] and t["rewrites"] == []
    assert t["model"] == "agrees"
    assert findings == []


@postgres
@needs_server
def test_foreign_key_validating_and_not_valid(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        SET lock_timeout = '5s';
        BEGIN;
        ALTER TABLE leads ADD CONSTRAINT leads_company_fk FOREIGN KEY (company_id) REFERENCES companies (id);
        COMMIT;
        BEGIN;
        ALTER TABLE leads ADD CONSTRAINT leads_company2_fk FOREIGN KEY (company_id) REFERENCES companies (id) NOT VALID;
        COMMIT;
        """,
        "--ignore",
        "not-idempotent",
    )
    validating, not_valid = at(entry, 3), at(entry, 6)
    both = {"public.leads": "SHARE ROW EXCLUSIVE", "public.companies": "SHARE ROW EXCLUSIVE"}
    assert locks(validating) == both and locks(not_valid) == both
    assert "public.leads" in validating["scans"]
    assert not_valid["scans"] == [] and not_valid["rewrites"] == []
    assert validating["model"] == not_valid["model"] == "agrees"
    assert at(entry, 1)["transaction"] == "own"  # the SET before BEGIN: a transaction of its own
    assert findings == []


@postgres
@needs_server
def test_create_index_concurrently_is_not_traced(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        SET lock_timeout = '5s';
        CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_leads_source ON leads (source);
        """,
    )
    t = at(entry, 2)
    assert t["traced"] is False and t["model"] == "not traced" and t["locks"] == []
    assert "cannot run in a transaction block" in t["reason"]
    assert t["static"] == [
        {
            "relation": "leads",
            "mode": "SHARE UPDATE EXCLUSIVE",
            "rewrite": False,
            "scan": True,
            "note": "CREATE INDEX CONCURRENTLY: two scans, writes go on",
        }
    ]
    assert findings == []


@postgres
@needs_server
def test_a_do_block_that_commits_runs_as_written_and_is_not_traced(pg, project, capsys):
    doc, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        SET lock_timeout = '5s';
        DO $$ BEGIN UPDATE leads SET source = 'x' WHERE id = 1; COMMIT; END $$;
        """,
        "--ignore",
        "not-idempotent",
    )
    t = at(entry, 2)
    assert (t["traced"], t["model"]) == (False, "not traced")
    assert t["reason"].startswith("it commits on its own")
    assert doc["findings"] == []


@postgres
@needs_server
def test_statement_after_alter_table_in_the_same_transaction(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        SET LOCAL lock_timeout = '5s';
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
        SELECT count(*) FROM leads;
        CREATE INDEX IF NOT EXISTS idx_leads_score ON leads (score);
        UPDATE leads SET score = 0 WHERE score IS NULL;
        COMMIT;
        """,
    )
    held = [f for f in findings if f["rule"] == "lock-held-across-statements"]
    # the verification SELECT does not count; the CREATE INDEX is the first statement under the lock
    assert [(f["line"], f["severity"]) for f in held] == [(5, "warning")]
    assert "public.leads has been locked ACCESS EXCLUSIVE since line 3" in held[0]["message"]
    assert "this statement and 1 more run before COMMIT" in held[0]["message"]
    assert locks(at(entry, 5)) == {"public.leads": "SHARE"}  # a weaker mode is still a lock of its own


@postgres
@needs_server
def test_each_change_in_its_own_transaction_holds_nothing_across(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        SET lock_timeout = '5s';
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
        CREATE INDEX IF NOT EXISTS idx_leads_score ON leads (score);
        """,
    )
    assert [t["transaction"] for t in entry["trace"]] == ["own", "own", "own"]
    assert locks(at(entry, 3)) == {"public.leads": "SHARE"}  # its own transaction: measured afresh
    assert findings == []


@postgres
@needs_server
def test_lock_without_timeout_once_per_file(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
        COMMIT;
        BEGIN;
        ALTER TABLE companies ADD COLUMN IF NOT EXISTS score int;
        COMMIT;
        """,
    )
    assert [(f["rule"], f["line"]) for f in findings] == [("lock-without-timeout", 2)]
    assert findings[0]["message"].startswith(
        "ALTER TABLE ADD COLUMN took ACCESS EXCLUSIVE on public.leads with "
        "lock_timeout = 0 (1 more statement in this file too)"
    )


@postgres
@needs_server
def test_a_table_that_stays_empty_is_named(pg, project, capsys):
    write(
        project,
        {
            "migrations/20251021_000_strict.sql": """\
        BEGIN;
        CREATE TABLE IF NOT EXISTS strict_codes (code text NOT NULL CHECK (code ~ '^[A-Z]{3}$'));
        COMMIT;
        """
        },
    )
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        SET LOCAL lock_timeout = '5s';
        ALTER TABLE strict_codes ADD COLUMN IF NOT EXISTS id uuid DEFAULT gen_random_uuid();
        COMMIT;
        """,
    )
    assert [e["relation"] for e in entry["empty_tables"]] == ["public.strict_codes"]
    assert "generated rows were rejected" in entry["empty_tables"][0]["reason"]
    t = at(entry, 3)
    assert t["locks"][0]["rows"].startswith("empty")
    assert "public.strict_codes" in t["rewrites"]
    assert findings == []  # an empty table's rewrite costs nothing: no table-rewritten


@postgres
@needs_server
def test_failure_is_still_verify_apply_failed(pg, project, capsys):
    doc, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
        ALTER TABLE nowhere ADD COLUMN x int;
        COMMIT;
        """,
    )
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("verify-apply-failed", 3)]
    assert [t["line"] for t in entry["trace"]] == [2]  # what ran before the failure


@postgres
@needs_server
def test_text_output(pg, project, capsys):
    write(
        project,
        {
            "migrations/20251022_001_base.sql": BASE,
            "migrations/20251023_002_change.sql": """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS public_id uuid DEFAULT gen_random_uuid();
        CREATE INDEX IF NOT EXISTS idx_leads_email ON leads (email);
        COMMIT;
        CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_leads_source ON leads (source);
        """,
        },
    )
    code = cli.main(
        [
            "verify",
            "--dsn",
            pg.admin_conninfo(),
            "--trace",
            "--ignore",
            "not-idempotent",
            "migrations/20251023_002_change.sql",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "trace migrations/20251023_002_change.sql"
    assert lines[1].startswith("  2:1  ALTER TABLE ADD COLUMN  ") and lines[1].endswith(" ms")
    assert lines[2] == "      public.leads  ACCESS EXCLUSIVE  (rewrite, scan) -- blocks reads and writes"
    assert "      public.leads  (lock already held from an earlier statement)  (scan)" in lines
    assert (
        "  5:1  CREATE INDEX CONCURRENTLY  not traced: CREATE INDEX CONCURRENTLY cannot run in a transaction "
        "block, so its locks cannot be read from pg_locks"
    ) in lines
    assert (
        "      model: leads SHARE UPDATE EXCLUSIVE, scan -- blocks other schema changes and VACUUM; "
        "reads and writes go on"
    ) in lines
    assert "warning[table-rewritten]" in out and "warning[lock-held-across-statements]" in out
    assert lines[-1] == "0 errors, 3 warnings in 1 file"


@postgres
@needs_server
def test_without_trace_nothing_changes(pg, project, capsys):
    write(
        project,
        {
            "migrations/20251022_001_base.sql": BASE,
            "migrations/20251023_002_change.sql": """\
        BEGIN;
        ALTER TABLE leads ADD COLUMN IF NOT EXISTS public_id uuid DEFAULT gen_random_uuid();
        COMMIT;
        """,
        },
    )
    code = cli.main(["verify", "--dsn", pg.admin_conninfo(), "--format", "json", "migrations"])
    out, _ = capsys.readouterr()
    doc = json.loads(out)
    assert code == 0 and doc["findings"] == [] and all("trace" not in f for f in doc["files"])


# --- the static model, held to every safety-rule fixture ------------------------------------

# Statements of the safety fixtures where the trace and the static model disagree, by design:
# (fixture file, line) -> reason. Each is also listed in docs/trace.md.
KNOWN_DIFFERENCES: dict[tuple[str, int], str] = {
    (
        "prefer-bigint.history.sql:migrations/20250102_001_orders.sql",
        8,
    ): "ALTER COLUMN ... TYPE on a key that a foreign key references re-checks that foreign key, so the "
    "referencing table (orders) is locked ACCESS EXCLUSIVE too; which tables reference a column is not in "
    "the statement, so the static model cannot name them",
    **{
        ("drop-object.foreign-key.sql:migrations/20250102_001_cascade.sql", line): "ALTER TABLE ... DROP "
        "CONSTRAINT of a foreign key (here with its column) drops the foreign key's triggers on the referenced "
        "table (spaces) under ACCESS EXCLUSIVE; neither the constraint's name nor the column says a foreign key "
        "is involved (docs/trace.md)"
        for line in (10, 11)
    },
}

# tables the fixtures build on without creating them (they stand for production tables)
FIXTURE_PRELUDE = """
CREATE TABLE IF NOT EXISTS orgs (id bigint PRIMARY KEY, name text, slug text, owner_id bigint);
CREATE TABLE IF NOT EXISTS companies (id bigint PRIMARY KEY, name text);
CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text, name text);
CREATE TABLE IF NOT EXISTS leads (
  id bigint PRIMARY KEY, email text, phone text, name text, status text, source text, score int,
  price numeric, qty int, company_id bigint, org_id bigint, user_id bigint, src_id bigint,
  notes text, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), amount int
);
CREATE TABLE IF NOT EXISTS accounts (id bigint PRIMARY KEY, email text, name text, org_id bigint, balance int);
CREATE TABLE IF NOT EXISTS teams (id bigint PRIMARY KEY, name text);
CREATE TABLE IF NOT EXISTS regions (id bigint PRIMARY KEY, name text);
CREATE TABLE IF NOT EXISTS sources (id bigint PRIMARY KEY, name text);
CREATE SEQUENCE IF NOT EXISTS leads_n_seq;
"""


# fixtures of statements that reach the server's host (COPY ... TO PROGRAM, ALTER SYSTEM SET
# archive_command, ...): verify refuses them, and no test runs them either
NEVER_RUN = {"host-access"}


def _safety_fixtures() -> list[Path]:
    safety = {
        rid
        for rid, r in registry.load().items()
        if r.group == "safety" and rid not in TRACE_RULES and rid not in NEVER_RUN
    }
    out = []
    for p in sorted((REPO / "tests" / "fixtures" / "rules").glob("*.sql")):
        rid = p.name.split(".", 1)[0]
        if rid in safety:
            out.append(p)
    return out


@postgres
@needs_server
def test_static_model_agrees_with_the_trace_on_every_safety_fixture(pg, tmp_path):
    """Every statement of every safety-rule fixture that runs is traced and compared with the
    static model: they agree, or the difference is a documented exception."""
    import psycopg

    fixtures = _safety_fixtures()
    assert len(fixtures) >= 30
    differences, compared, unused = {}, 0, set(KNOWN_DIFFERENCES)
    with pg.database() as conninfo:
        for n, path in enumerate(fixtures):
            schema = f"fx{n}"
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
                conn.execute(f"SET search_path = {schema}, public")
                conn.execute(FIXTURE_PRELUDE)
            case = parse_case(path.read_bytes())
            root = tmp_path / path.stem
            root.mkdir()
            materialise(case, root, None)
            cfg = config.Config(root=root)
            for rel in sorted(case.files):
                if "rollback" in rel or not rel.endswith(".sql"):
                    continue
                f = files.MigrationFile(root / rel, rel, "migration", (root / rel).parent, cfg)
                if f.read_problem or f.problems:
                    continue
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    existing = trace.seed(conn, {})
                dsn = f"{conninfo} options='-c search_path={schema},public'"
                _, ft = trace.apply(dsn, f, existing=existing, keep_going=True)
                for t in ft.statements:
                    if t.model in ("agrees", "differs") and t.static:
                        compared += 1
                    key = (path.name, t.line) if len(case.files) == 1 else (f"{path.name}:{rel}", t.line)
                    if t.model == "differs":
                        if key in KNOWN_DIFFERENCES:
                            unused.discard(key)
                        else:
                            differences[key] = t.differences
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")  # keeps the catalog (and each probe) small
    assert not differences, "the static lock model differs from the trace:\n" + "\n".join(
        f"  {k[0]}:{k[1]}: {'; '.join(v)}" for k, v in sorted(differences.items())
    )
    assert not unused, f"KNOWN_DIFFERENCES lists statements that now agree (remove them): {sorted(unused)}"
    print(f"{compared} statements compared")
    assert compared >= 100, f"only {compared} statements with a static prediction were traced"


# --- without a server ---------------------------------------------------------------------


def _probe(locks=(), rels=(), resolved=None):
    return trace.Probe("0", set(locks), {r.oid: r for r in rels}, resolved or {"leads": 10})


def _traced(kind, static):
    return trace.Traced(1, 1, 1, 10, "X", kind, True, "file", static=static)


def test_compare_names_a_wrong_mode():
    from migcheck.analysis import locks as lm

    leads = trace.Rel(10, "public.leads", "r", 100, 0)
    t = _traced("AlterTableStmt", [lm.Lock("leads", lm.SHARE)])
    trace.compare(t, _probe(rels=[leads]), {10: {lm.ACCESS_EXCLUSIVE, lm.ACCESS_SHARE}}, {}, set(), set())
    assert t.model == "differs"
    assert t.differences == ["public.leads: the model predicts SHARE, the statement took ACCESS EXCLUSIVE"]


def test_compare_extra_lock_rewrite_and_hedges():
    from migcheck.analysis import locks as lm

    leads = trace.Rel(10, "public.leads", "r", 100, 0)
    other = trace.Rel(11, "app.other", "r", 200, 0)
    t = _traced("AlterTableStmt", [lm.Lock("leads", lm.ACCESS_EXCLUSIVE)])
    trace.compare(
        t, _probe(rels=[leads, other]), {10: {lm.ACCESS_EXCLUSIVE}, 11: {lm.SHARE_ROW_EXCLUSIVE}}, {}, {10}, {10}
    )
    assert t.differences == [
        "public.leads: the model predicts no rewrite, the table was rewritten",
        "app.other: the model predicts no lock, the statement took SHARE ROW EXCLUSIVE",
    ]
    # a hedged prediction ("... unless the change is binary-coercible") is not held to its flag
    t = _traced(
        "AlterTableStmt",
        [lm.Lock("leads", lm.ACCESS_EXCLUSIVE, rewrite=True, note="TYPE rewrites unless binary-coercible")],
    )
    trace.compare(t, _probe(rels=[leads]), {10: {lm.ACCESS_EXCLUSIVE}}, {}, set(), set())
    assert t.model == "agrees"
    # a lock already held from an earlier statement cannot be measured again: not a difference
    t = _traced("IndexStmt", [lm.Lock("leads", lm.SHARE, scan=True)])
    trace.compare(t, _probe(locks=[(10, lm.SHARE)], rels=[leads]), {}, {}, set(), {10})
    assert t.model == "agrees"
    # kinds the model does not cover are shown, never compared
    t = _traced("DoStmt", [])
    trace.compare(t, _probe(rels=[leads]), {10: {lm.ACCESS_EXCLUSIVE}}, {}, set(), set())
    assert t.model == "no model"


def test_trace_rules_are_declared_in_the_safety_group():
    rules = registry.load()
    assert {rid: (rules[rid].group, rules[rid].severity, rules[rid].scope) for rid in TRACE_RULES} == {
        "lock-model-mismatch": ("safety", "info", "verify"),
        "lock-held-across-statements": ("safety", "warning", "verify"),
        "table-rewritten": ("safety", "warning", "verify"),
        "lock-without-timeout": ("safety", "warning", "verify"),
    }


def test_trace_rules_are_verify_rules(project, capsys):
    (project / "migrations").mkdir()
    code = cli.main(["verify", "--select", "safety", "--ignore", "nope", "migrations"])
    _, err = capsys.readouterr()
    assert code == 2 and "unknown rule id 'nope'" in err
    from migcheck.verify.command import enabled_rules

    cfg = config.Config(root=project)
    assert enabled_rules(cfg, "safety", None) == set(TRACE_RULES)
    assert enabled_rules(cfg, "table-rewritten", None) == {"table-rewritten"}


@postgres
@needs_server
@pytest.mark.parametrize("preset", ["sqlx", "golang-migrate"])
def test_a_runner_s_transaction_holds_the_lock_across_statements(pg, project, capsys, preset):
    """Under a runner preset the file runs in the runner's transaction (sqlx's own; golang-migrate's
    one multi-statement query, one implicit transaction): what the guidelines' file without
    BEGIN/COMMIT runs statement by statement is one transaction here (docs/presets.md)."""
    write(
        project,
        {
            "migrations/1_base.up.sql": textwrap.dedent(BASE).replace("BEGIN;\n", "").replace("COMMIT;\n", ""),
            "migrations/1_base.down.sql": "DROP TABLE leads;\nDROP TABLE companies;\n",
            "migrations/2_change.up.sql": """\
            SET lock_timeout = '5s';
            ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
            CREATE INDEX IF NOT EXISTS idx_leads_score ON leads (score);
            """,
            "migrations/2_change.down.sql": "DROP INDEX idx_leads_score;\nALTER TABLE leads DROP COLUMN score;\n",
        },
    )
    code = cli.main(
        [
            "verify",
            "--dsn",
            pg.admin_conninfo(),
            "--trace",
            "--preset",
            preset,
            "--format",
            "json",
            "migrations/2_change.up.sql",
        ]
    )
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    doc = json.loads(out)
    entry = next(f for f in doc["files"] if f["path"] == "migrations/2_change.up.sql")
    assert [t["transaction"] for t in entry["trace"]] == ["file", "file", "file"]
    held = [f for f in doc["findings"] if f["rule"] == "lock-held-across-statements"]
    assert [f["line"] for f in held] == [3]
    assert f"this statement runs before {preset} commits the migration" in held[0]["message"]
    assert "into a migration of its own" in held[0]["help"]


# --- the schema model's flow-sensitive claims, held to the real server (issue 20) ----------------


@postgres
@needs_server
def test_set_not_null_after_a_validated_check_scans_nothing(pg, project, capsys):
    _, entry, findings = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        SET LOCAL lock_timeout = '5s';
        ALTER TABLE leads ADD CONSTRAINT leads_email_nn CHECK (email IS NOT NULL) NOT VALID;
        COMMIT;
        BEGIN;
        ALTER TABLE leads VALIDATE CONSTRAINT leads_email_nn;
        COMMIT;
        BEGIN;
        SET LOCAL lock_timeout = '5s';
        ALTER TABLE leads ALTER COLUMN email SET NOT NULL;
        ALTER TABLE leads DROP CONSTRAINT leads_email_nn;
        ALTER TABLE leads ALTER COLUMN source SET NOT NULL;
        COMMIT;
        """,
        "--ignore",
        "not-idempotent",
    )
    proven, unproven = at(entry, 10), at(entry, 12)
    assert proven["static"][0]["scan"] is False and "validated CHECK leads_email_nn" in proven["static"][0]["note"]
    assert proven["scans"] == [] and proven["rewrites"] == [] and proven["model"] == "agrees"
    assert unproven["static"][0]["scan"] is True
    assert unproven["scans"] == ["public.leads"] and unproven["model"] == "agrees"
    assert "public.leads" in at(entry, 6)["scans"]


@postgres
@needs_server
def test_set_not_null_in_a_rewriting_alter_table_claims_no_scan_of_its_own(pg, project, capsys):
    _, entry, _ = traced(
        pg,
        project,
        capsys,
        """\
        BEGIN;
        SET LOCAL lock_timeout = '5s';
        ALTER TABLE leads ALTER COLUMN email TYPE varchar(300) USING email::varchar(300), ALTER COLUMN email SET NOT NULL;
        COMMIT;
        """,
        "--ignore",
        "not-idempotent",
    )
    t = at(entry, 3)
    assert t["static"][0]["rewrite"] is True and t["static"][0]["scan"] is False
    assert "checked while the same statement rewrites the table" in t["static"][0]["note"]
    assert "public.leads" in t["rewrites"] and t["model"] == "agrees"
