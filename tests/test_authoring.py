"""`migcheck new` and `migcheck init` through main(argv): exact output, the files they write, what
`migcheck check` says about them, and the tracking schema on a real throwaway PostgreSQL.

The commands are registered in cli.py (`cli.add_command(new)`, `cli.add_command(init)`); the
`_registered` fixture adds them when cli.py does not yet, so the tests run either way.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import stat
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from migcheck import cli
from migcheck.authoring_cli import init as init_cmd
from migcheck.authoring_cli import new as new_cmd
from migcheck.cli import main
from migcheck.fsutil import atomic_write

postgres = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    for cmd in (new_cmd, init_cmd):
        if cmd.name not in cli.cli.commands:
            monkeypatch.setitem(cli.cli.commands, cmd.name, cmd)


@pytest.fixture
def proj(project):
    """An empty project: the working directory, a git root (the changelog search stops here)."""
    (project / ".git").mkdir()
    return project


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys, *paths):
    code, out, err = run(capsys, "check", "--format", "json", *paths)
    assert err == ""
    data = json.loads(out)
    return code, sorted((f["rule"], f["path"], f["line"]) for f in data["findings"])


def tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


MIGRATION = """\
-- =====================================================
-- MIGRATION: Add email validation trigger
-- =====================================================
-- Purpose: [What does this migration do?]
-- Impact: [What will change? Any downtime?]
-- Rollback: [How to rollback if needed]
-- Testing: [How was this tested?]
-- =====================================================

BEGIN;

-- =====================================================
-- CHANGES
-- =====================================================

-- Step 1: Describe what you're doing
-- (IF NOT EXISTS / IF EXISTS keep it re-runnable, e.g.
--  ALTER TABLE leads ADD COLUMN IF NOT EXISTS new_column text;)


-- =====================================================
-- VERIFICATION
-- =====================================================

-- Verify changes (a query that shows the change took effect)


COMMIT;

-- =====================================================
-- QUERIES TO VERIFY AFTER EXECUTION
-- =====================================================
--
-- SELECT * FROM _migrations.v_applied_migrations ORDER BY installed_on DESC LIMIT 5;
-- SELECT * FROM _migrations.get_migration_stats();
--
-- =====================================================
"""

ROLLBACK = """\
-- =====================================================
-- ROLLBACK: 20251022_001 Add email validation trigger
-- =====================================================
-- Undoes: 20251022_001_add_email_validation_trigger.sql
-- =====================================================

BEGIN;

-- Undo each change of the migration, last change first, with IF EXISTS, e.g.
-- ALTER TABLE leads DROP COLUMN IF EXISTS new_column;

-- Then record the revert in the tracking table:
-- UPDATE _migrations.schema_migrations
--    SET reverted_at = NOW(), reverted_by = CURRENT_USER
--  WHERE version = '20251022_001';

COMMIT;
"""


# --- migcheck new ---------------------------------------------------------------------------


def test_new_writes_the_pair_and_prints_the_paths(proj, capsys):
    code, out, err = run(capsys, "new", "Add email validation trigger", "--date", "20251022")
    assert (code, err) == (0, "")
    assert out == (
        "migrations/20251022_001_add_email_validation_trigger.sql\nmigrations/rollback/20251022_001_rollback.sql\n"
    )
    assert (proj / "migrations/20251022_001_add_email_validation_trigger.sql").read_text() == MIGRATION
    assert (proj / "migrations/rollback/20251022_001_rollback.sql").read_text() == ROLLBACK


def test_new_description_words_without_quotes_and_underscores(proj, capsys):
    code, out, _ = run(capsys, "new", "add_email-validation", "Trigger", "--date", "20251022")
    assert code == 0
    assert out.splitlines()[0] == "migrations/20251022_001_add_email_validation_trigger.sql"
    code, out, _ = run(capsys, "new", "add_lead_notes", "--date", "20251022")
    path = proj / out.splitlines()[0]
    assert path.name == "20251022_002_add_lead_notes.sql"
    assert "-- MIGRATION: Add lead notes\n" in path.read_text()


def test_fresh_pair_findings_are_the_documented_ones(proj, capsys):
    """A fresh pair: header-placeholder on the four fields the author fills in, empty-migration
    (the scaffold's examples are commented out: the file changes nothing) and changelog-missing;
    nothing else. The empty rollback of a migration that changes nothing has nothing to undo
    (issue 20); once the migration changes something, empty-rollback asks for its undo."""
    assert run(capsys, "new", "add lead notes", "--date", "20251022")[0] == 0
    code, found = findings(capsys)
    m = "migrations/20251022_001_add_lead_notes.sql"
    assert code == 1
    assert found == [
        ("changelog-missing", m, 1),
        ("empty-migration", m, 1),
        ("header-placeholder", m, 4),
        ("header-placeholder", m, 5),
        ("header-placeholder", m, 6),
        ("header-placeholder", m, 7),
    ]
    path = proj / m
    path.write_text(
        path.read_text().replace("COMMIT;", "ALTER TABLE leads ADD COLUMN IF NOT EXISTS notes text;\nCOMMIT;", 1)
    )
    _, found = findings(capsys)
    assert ("empty-rollback", "migrations/rollback/20251022_001_rollback.sql", 1) in found
    assert ("empty-migration", m, 1) not in found


def test_new_with_changelog_creates_it_beside_the_migrations_dir(proj, capsys):
    code, out, err = run(capsys, "new", "add lead notes", "--date", "20251022", "--changelog")
    assert (code, err) == (0, "")
    assert out == (
        "migrations/20251022_001_add_lead_notes.sql\nmigrations/rollback/20251022_001_rollback.sql\nCHANGELOG.md\n"
    )
    assert (proj / "CHANGELOG.md").read_text() == "# Changelog\n\n- 20251022_001: Add lead notes\n"
    _, found = findings(capsys)
    assert "changelog-missing" not in {r for r, _, _ in found}


def test_new_with_changelog_appends_to_the_one_the_rule_finds(proj, capsys):
    (proj / "db").mkdir()
    (proj / "migcheck.toml").write_text('migrations = ["db/migrations"]\n')
    (proj / "changelog.md").write_text("# History\n\n- 20251001_001: Leads table")  # no final newline
    code, out, _ = run(capsys, "new", "add lead notes", "--date", "20251022", "--changelog")
    assert code == 0
    assert out.splitlines() == [
        "db/migrations/20251022_001_add_lead_notes.sql",
        "db/migrations/rollback/20251022_001_rollback.sql",
        "changelog.md",
    ]
    assert (
        proj / "changelog.md"
    ).read_text() == "# History\n\n- 20251001_001: Leads table\n- 20251022_001: Add lead notes\n"
    assert not (proj / "db/CHANGELOG.md").exists()


def test_new_changelog_turned_off(proj, capsys):
    (proj / "migcheck.toml").write_text("changelog = false\n")
    code, out, err = run(capsys, "new", "add lead notes", "--changelog")
    assert (code, out) == (2, "")
    assert (
        err == "migcheck: error: --changelog: the changelog is turned off in the configuration (`changelog = false`)\n"
    )
    assert tree(proj) == ["migcheck.toml"]


def test_new_global_sequence_follows_the_highest_number(proj, capsys):
    mig = proj / "migrations"
    mig.mkdir()
    (mig / "20251020_004_a.sql").write_text("SELECT 1;\n")
    (mig / "20251021_007_b.sql").write_text("SELECT 1;\n")
    code, out, _ = run(capsys, "new", "c", "--date", "20251022")
    assert code == 0 and out.startswith("migrations/20251022_008_c.sql\n")
    # back-dating before the newest migration breaks a global sequence
    code, out, err = run(capsys, "new", "d", "--date", "20251021")
    assert (code, out) == (2, "")
    assert err == (
        "migcheck: error: --date 20251021 is older than the newest migration (20251022); with a global "
        'sequence a back-dated migration would break the sequence order (set `sequence = "per-day"` to '
        "number each day on its own, or use --date 20251022 or later)\n"
    )


def test_new_per_day_sequence(proj, capsys):
    (proj / "migcheck.toml").write_text('sequence = "per-day"\n')
    mig = proj / "migrations"
    mig.mkdir()
    (mig / "20251021_001_a.sql").write_text("SELECT 1;\n")
    (mig / "20251021_002_b.sql").write_text("SELECT 1;\n")
    (mig / "20251022_001_c.sql").write_text("SELECT 1;\n")
    assert run(capsys, "new", "d", "--date", "20251021")[1].startswith("migrations/20251021_003_d.sql\n")
    assert run(capsys, "new", "e", "--date", "20251022")[1].startswith("migrations/20251022_002_e.sql\n")
    assert run(capsys, "new", "f", "--date", "20251023")[1].startswith("migrations/20251023_001_f.sql\n")


def test_new_default_date_is_today(proj, capsys):
    today = datetime.date.today().strftime("%Y%m%d")
    code, out, _ = run(capsys, "new", "add lead notes")
    assert code == 0
    assert out.splitlines()[0] == f"migrations/{today}_001_add_lead_notes.sql"


def test_new_custom_rollback_pattern_and_dirs(proj, capsys):
    (proj / "migcheck.toml").write_text('migrations = ["db/sql", "other"]\nrollback = "down/{version}.down.sql"\n')
    code, out, _ = run(capsys, "new", "add lead notes", "--date", "20251022")
    assert code == 0
    assert out == "db/sql/20251022_001_add_lead_notes.sql\ndb/sql/down/20251022_001.down.sql\n"
    _, found = findings(capsys, "db/sql")
    assert {r for r, _, _ in found} == {"changelog-missing", "empty-migration", "header-placeholder"}


@pytest.mark.parametrize(
    "desc, message",
    [
        (
            "",
            'the description is empty: say what the migration changes, e.g. `migcheck new "add email validation trigger"`',
        ),
        (
            "   ",
            'the description is empty: say what the migration changes, e.g. `migcheck new "add email validation trigger"`',
        ),
        (
            "!!! ---",
            "the description '!!! ---' has no letters or digits to name the file with: say what the migration "
            'changes, e.g. `migcheck new "add email validation trigger"`',
        ),
        (
            "Fix Bug",
            "the description 'Fix Bug' is ambiguous (the guidelines: `fix_bug.sql` says nothing): say what the "
            "migration changes, e.g. `add_email_validation_trigger`",
        ),
    ],
)
def test_new_unusable_description(proj, capsys, desc, message):
    code, out, err = run(capsys, "new", desc)
    assert (code, out, err) == (2, "", f"migcheck: error: {message}\n")
    assert tree(proj) == []


def test_new_needs_a_description(proj, capsys):
    code, out, err = run(capsys, "new")
    assert (code, out) == (2, "")
    assert err.startswith("migcheck: error: Missing argument 'DESCRIPTION...'")


@pytest.mark.parametrize(
    "date, message",
    [
        ("2025-10-22", "--date '2025-10-22' is not a YYYYMMDD date (8 digits, e.g. "),
        ("20251341", "--date 20251341 is not a real date (there is no month 13)"),
        ("20250230", "--date 20250230 is not a real date (February 2025 has no day 30)"),
    ],
)
def test_new_bad_date(proj, capsys, date, message):
    code, out, err = run(capsys, "new", "add lead notes", "--date", date)
    assert (code, out) == (2, "")
    assert err.startswith(f"migcheck: error: {message}")
    assert tree(proj) == []


def test_new_never_overwrites(proj, capsys):
    """A rollback file left behind (its migration gone) is not overwritten: exit 2, nothing written."""
    existing = "migrations/rollback/20251022_001_rollback.sql"
    path = proj / existing
    path.parent.mkdir(parents=True)
    path.write_text("-- mine\n")
    code, out, err = run(capsys, "new", "add lead notes", "--date", "20251022")
    assert (code, out) == (2, "")
    assert err == f"migcheck: error: {existing} already exists; migcheck never overwrites a file\n"
    assert tree(proj) == [existing]
    assert path.read_text() == "-- mine\n"


def test_new_skips_taken_numbers(proj, capsys):
    path = proj / "migrations/20251022_001_add_lead_notes.sql"
    path.parent.mkdir(parents=True)
    path.write_text("-- mine\n")
    code, out, _ = run(capsys, "new", "add lead notes", "--date", "20251022")
    assert code == 0 and out.startswith("migrations/20251022_002_add_lead_notes.sql\n")
    assert path.read_text() == "-- mine\n"


def test_new_race_never_overwrites(proj, capsys, monkeypatch):
    """A file that appears between the plan and the write is not clobbered."""
    from migcheck import authoring

    real = authoring.plan

    def plan_then_someone_writes(*a, **kw):
        t = real(*a, **kw)
        t.rollback.parent.mkdir(parents=True, exist_ok=True)
        return t

    monkeypatch.setattr(authoring, "plan", plan_then_someone_writes)
    real_write = authoring.atomic_write

    def write(path, text, overwrite=False):
        if path.name.endswith("_rollback.sql"):
            path.write_text("-- theirs\n")
        return real_write(path, text, overwrite)

    monkeypatch.setattr(authoring, "atomic_write", write)
    code, out, err = run(capsys, "new", "add lead notes", "--date", "20251022")
    assert (code, out) == (2, "")
    assert (
        err
        == "migcheck: error: migrations/rollback/20251022_001_rollback.sql already exists; migcheck never overwrites a file\n"
    )
    # the migration written just before is taken back; the other file is untouched
    assert tree(proj) == ["migrations/rollback/20251022_001_rollback.sql"]
    assert (proj / "migrations/rollback/20251022_001_rollback.sql").read_text() == "-- theirs\n"


def test_new_with_team_template(proj, capsys):
    (proj / "team.sql").write_text(
        textwrap.dedent("""\
        -- MIGRATION: {title}
        -- Version: {version} ({description})
        -- Purpose: {purpose} stays, as do '{}' and '{1,2}'
        BEGIN;
        SELECT '{"a": 1}'::jsonb;
        COMMIT;""")
    )
    code, out, err = run(capsys, "new", "Add lead notes", "--date", "20251022", "--template", "team.sql")
    assert (code, err) == (0, "")
    text = (proj / out.splitlines()[0]).read_text()
    assert text == textwrap.dedent("""\
        -- MIGRATION: Add lead notes
        -- Version: 20251022_001 (add_lead_notes)
        -- Purpose: {purpose} stays, as do '{}' and '{1,2}'
        BEGIN;
        SELECT '{"a": 1}'::jsonb;
        COMMIT;
        """)
    assert (proj / "migrations/rollback/20251022_001_rollback.sql").read_text() == ROLLBACK.replace(
        "Add email validation trigger", "Add lead notes"
    ).replace("add_email_validation_trigger", "add_lead_notes")


def test_new_template_not_found(proj, capsys):
    code, out, err = run(capsys, "new", "add lead notes", "--template", "nope.sql")
    assert (code, out, err) == (2, "", "migcheck: error: template not found: nope.sql\n")
    assert tree(proj) == []


def test_new_migrations_path_is_a_file(proj, capsys):
    (proj / "migrations").write_text("")
    code, out, err = run(capsys, "new", "add lead notes")
    assert (code, out) == (2, "")
    assert err == (
        "migcheck: error: migrations is not a directory (the first `migrations` directory of the configuration)\n"
    )


# --- migcheck init --------------------------------------------------------------------------


def test_init_in_an_empty_directory_is_000_and_passes_check(proj, capsys):
    code, out, err = run(capsys, "init", "--date", "20251022")
    assert (code, err) == (0, "")
    assert out == (
        "migrations/20251022_000_migration_tracking_schema.sql\nmigrations/rollback/20251022_000_rollback.sql\n"
    )
    text = (proj / "migrations/20251022_000_migration_tracking_schema.sql").read_text()
    assert "-- Rollback: rollback/20251022_000_rollback.sql drops the _migrations schema" in text
    assert "VALUES ('20251022_000', 'Migration tracking schema', 1, 0, true)" in text
    assert "{" + "version}" not in text
    code, found = findings(capsys)
    assert code == 0
    assert found == [("changelog-missing", "migrations/20251022_000_migration_tracking_schema.sql", 1)]
    # with every rule on, info-level and off-by-default ones included
    code, out, err = run(
        capsys,
        "check",
        "--format",
        "json",
        "--select",
        "convention,safety,rollback,project,syntax",
        "--fail-on",
        "info",
    )
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["changelog-missing"]


def test_init_with_changelog_is_clean(proj, capsys):
    code, out, _ = run(capsys, "init", "--date", "20251022", "--changelog")
    assert code == 0 and out.endswith("CHANGELOG.md\n")
    assert (proj / "CHANGELOG.md").read_text() == "# Changelog\n\n- 20251022_000: Migration tracking schema\n"
    assert findings(capsys) == (0, [])
    # the next migration follows it
    assert run(capsys, "new", "add lead notes", "--date", "20251023")[1].startswith(
        "migrations/20251023_001_add_lead_notes.sql\n"
    )


def test_init_takes_the_next_number_and_runs_once(proj, capsys):
    mig = proj / "migrations"
    mig.mkdir()
    (mig / "20251020_003_leads.sql").write_text("SELECT 1;\n")
    code, out, _ = run(capsys, "init", "--date", "20251022")
    assert code == 0
    assert out.splitlines()[0] == "migrations/20251022_004_migration_tracking_schema.sql"
    code, out, err = run(capsys, "init", "--date", "20251023")
    assert (code, out) == (2, "")
    assert err == (
        "migcheck: error: migrations/20251022_004_migration_tracking_schema.sql already creates the tracking schema\n"
    )


# --- atomic_write ---------------------------------------------------------------------------


def test_atomic_write(tmp_path):
    p = tmp_path / "a.sql"
    atomic_write(p, "one\r\nü\n")
    assert p.read_bytes() == "one\r\nü\n".encode()
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask
    with pytest.raises(FileExistsError):
        atomic_write(p, "two")
    assert p.read_text() == "one\nü\n"
    p.chmod(0o640)
    atomic_write(p, "two", overwrite=True)
    assert p.read_text() == "two" and stat.S_IMODE(p.stat().st_mode) == 0o640
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.sql"]  # no temporary file left


# --- the tracking schema on a real PostgreSQL -----------------------------------------------


def _pg_bin() -> Path | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class Psql:
    """psql against one database (``-d`` takes a connection string)."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.bin = shutil.which("psql") or "psql"

    def psql(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", self.conninfo, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def sql(self, query: str) -> str:
        return self.psql("-c", query).stdout.strip()


def _own_cluster(bindir: Path):
    """A throwaway cluster of our own, for when migcheck.verify.cluster is not there: initdb and
    pg_ctl as the postgres user when running as root, socket in a private directory, no TCP."""
    base = Path(tempfile.mkdtemp(prefix="mcpg-"))  # short: the socket path has a length limit
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if prefix:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"

    def sh(*cmd):
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=True, timeout=120)

    try:
        sh(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        sh(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "-o",
            f"-c listen_addresses='' -c unix_socket_directories='{base}' -c fsync=off",
            "start",
        )
        yield f"host={base} user=postgres dbname=postgres"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg():
    """psql on a database of a throwaway PostgreSQL: migcheck verify's TempCluster when it is
    there, else a cluster of our own."""
    try:
        from migcheck.verify.cluster import TempCluster, binaries_available
    except ImportError:
        bindir = _pg_bin()
        if bindir is None:
            pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) found")
        yield from (Psql(ci) for ci in _own_cluster(bindir))
        return
    if not binaries_available():
        pytest.skip("no PostgreSQL server binaries (initdb, postgres) found")
    with TempCluster() as cluster, cluster.database() as conninfo:
        yield Psql(conninfo)


@postgres
def test_tracking_schema_on_postgres(proj, capsys, pg):
    code, out, _ = run(capsys, "init", "--date", "20251022")
    assert code == 0
    migration, rollback = (proj / line for line in out.splitlines())
    pg.sql("DROP SCHEMA IF EXISTS _migrations CASCADE")
    # apply twice: idempotent
    for _ in range(2):
        res = pg.psql("-f", str(migration), check=False)
        assert res.returncode == 0, res.stderr
    assert pg.sql("SELECT version, success, batch FROM _migrations.schema_migrations") == "20251022_000|t|1"
    cols = pg.sql(
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
        "WHERE table_schema = '_migrations' AND table_name = 'schema_migrations'"
    )
    for c in (
        "version",
        "description",
        "batch",
        "installed_on",
        "execution_time_ms",
        "success",
        "error_message",
        "error_detail",
        "reverted_at",
        "reverted_by",
        "checksum",
    ):
        assert c in cols.split(",")
    # the guidelines' calls
    assert pg.sql("SELECT _migrations.get_next_batch()") == "2"
    pg.sql("CALL _migrations.log_migration_start('20251023_001', 'Add email validation trigger', 2)")
    assert pg.sql("SELECT success FROM _migrations.schema_migrations WHERE version = '20251023_001'") == "f"
    pg.sql("CALL _migrations.log_migration_complete('20251023_001', 1234, NULL)")
    assert (
        pg.sql(
            "SELECT success, execution_time_ms, batch FROM _migrations.schema_migrations WHERE version = '20251023_001'"
        )
        == "t|1234|2"
    )
    pg.sql(
        "CALL _migrations.log_migration_start('20251024_002', 'Add task date validation trigger', "
        "_migrations.get_next_batch())"
    )
    pg.sql("CALL _migrations.log_migration_complete('20251024_002', 50, 'relation \"tasks\" does not exist')")
    assert (
        pg.sql("SELECT version, error_message FROM _migrations.schema_migrations WHERE success = false")
        == '20251024_002|relation "tasks" does not exist'
    )
    assert (
        pg.sql(
            "SELECT version, error_message FROM _migrations.migration_errors WHERE version = '20251024_002' "
            "ORDER BY attempted_at DESC"
        )
        == '20251024_002|relation "tasks" does not exist'
    )
    assert (
        pg.sql("SELECT string_agg(version, ',' ORDER BY version) FROM _migrations.v_applied_migrations")
        == "20251022_000,20251023_001"
    )
    assert pg.sql("SELECT version FROM _migrations.v_applied_migrations ORDER BY installed_on DESC LIMIT 1") in (
        "20251022_000",
        "20251023_001",
    )
    assert (
        pg.sql(
            "SELECT total_migrations, applied, failed, reverted, last_batch, last_applied_version "
            "FROM _migrations.v_migration_status"
        )
        == "3|2|1|0|3|20251023_001"
    )
    assert (
        pg.sql("SELECT batch, migrations, applied, failed FROM _migrations.get_migration_stats()")
        == "1|1|1|0\n2|1|1|0\n3|1|0|1"
    )
    assert (
        pg.sql("SELECT batch, count(*) FROM _migrations.schema_migrations GROUP BY batch ORDER BY batch")
        == "1|1\n2|1\n3|1"
    )
    pg.sql(
        "INSERT INTO _migrations.migration_dependencies (version, depends_on) VALUES ('20251024_002', '20251023_001')"
    )
    pg.sql(
        "UPDATE _migrations.schema_migrations SET reverted_at = NOW(), reverted_by = CURRENT_USER "
        "WHERE version = '20251023_001'"
    )
    assert pg.sql("SELECT reverted FROM _migrations.v_migration_status") == "1"
    # a re-run keeps the history
    assert pg.psql("-f", str(migration), check=False).returncode == 0
    assert pg.sql("SELECT count(*) FROM _migrations.schema_migrations") == "3"
    # the rollback removes everything, twice without error
    for _ in range(2):
        res = pg.psql("-f", str(rollback), check=False)
        assert res.returncode == 0, res.stderr
    assert pg.sql("SELECT count(*) FROM pg_namespace WHERE nspname = '_migrations'") == "0"
    # and the migration applies again after it
    assert pg.psql("-f", str(migration), check=False).returncode == 0
    assert pg.psql("-f", str(rollback), check=False).returncode == 0
