"""Runner presets (docs/presets.md): each runner's layout, rollback pairing, transaction handling
and auto-detection, on fixture projects laid out as each runner's documentation lays them out
(tests/fixtures/presets/<preset>/, expected findings in its expect.txt)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from migcheck import cli, config, presets

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "presets"
PROJECTS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def findings(out: str) -> set[str]:
    return {f"{f['rule']} {f['path']}:{f['line']}" for f in json.loads(out)["findings"]}


SKIP_NOTE = "migcheck: not checked as PostgreSQL:"


def stderr_lines(err: str) -> list[str]:
    """stderr without the note on other databases' files (tested on its own below)."""
    return [line for line in err.splitlines() if not line.startswith(SKIP_NOTE)]


def expected(name: str) -> set[str]:
    lines = (FIXTURES / name / "expect.txt").read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line.strip() and not line.startswith("#")}


@pytest.fixture
def copy_of(tmp_path, monkeypatch):
    """A copy of a fixture project as the working directory (detection must not see the repo)."""

    def make(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(FIXTURES / name, dest)
        monkeypatch.chdir(dest)
        return dest

    return make


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")


def test_every_preset_has_a_fixture_project():
    assert set(PROJECTS) == set(presets.NAMES) - {"guidelines"}


@pytest.mark.parametrize("name", PROJECTS)
def test_preset_project_is_checked_as_expected(name, copy_of, capsys):
    copy_of(name)
    code, out, err = run(capsys, "check", "--preset", name, "--format", "json", ".")
    assert findings(out) == expected(name)
    assert code == 1 and stderr_lines(err) == []


@pytest.mark.parametrize("name", PROJECTS)
def test_each_fixture_has_a_flaw_a_forgetful_rollback_and_clean_files(name):
    rules = [line.split()[0] for line in expected(name)]
    assert "concurrently-in-transaction" in rules or "missing-transaction" in rules
    if presets.get(name).rollbacks:
        assert "rollback-incomplete" in rules
    flagged = {line.split()[1].rsplit(":", 1)[0] for line in expected(name)}
    sql = [p for p in (FIXTURES / name).rglob("*.sql") if "verify" not in p.parts]
    clean = [p for p in sql if p.relative_to(FIXTURES / name).as_posix() not in flagged]
    assert clean, "a clean migration too"


@pytest.mark.parametrize("name", PROJECTS)
def test_layout_is_detected_and_said_once(name, copy_of, capsys):
    copy_of(name)
    code, out, err = run(capsys, "check", "--format", "json", ".")
    title, note = presets.get(name).title, presets.get(name).note
    assert stderr_lines(err) == [
        f'migcheck: detected {title} layout (set preset = "{name}" in the configuration, '
        f"or pass --preset {name}, to silence this)" + (f"; {note}" if note else "")
    ]
    assert findings(out) == expected(name)


@pytest.mark.parametrize("name", PROJECTS)
def test_a_pinned_preset_is_silent(name, copy_of, capsys):
    root = copy_of(name)
    (root / "migcheck.toml").write_text(f'preset = "{name}"\n', encoding="utf-8")
    code, out, err = run(capsys, "check", "--format", "json")  # no path: the preset's directories
    assert stderr_lines(err) == []
    assert findings(out) == expected(name)


def test_guidelines_layout_is_not_detected_as_a_runner(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/20251022_001_add_leads.sql": "BEGIN;\nCREATE TABLE IF NOT EXISTS leads (id bigint);\nCOMMIT;\n",
            "migrations/rollback/20251022_001_rollback.sql": "BEGIN;\nDROP TABLE IF EXISTS leads;\nCOMMIT;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--format", "json", "migrations")
    assert err == ""
    assert "missing-header migrations/20251022_001_add_leads.sql:1" in findings(out)


def test_diesel_migrations_without_begin_get_no_missing_transaction(tmp_path, monkeypatch, capsys):
    """Diesel runs each migration in a transaction: the guidelines' BEGIN/COMMIT is not needed
    (and would nest); today's `missing-transaction` on every diesel file is gone."""
    write(
        tmp_path,
        {
            "migrations/2024-01-01-000000_create_widgets/up.sql": "CREATE TABLE widgets (id bigint PRIMARY KEY);\nALTER TABLE widgets ADD COLUMN name text;\n",
            "migrations/2024-01-01-000000_create_widgets/down.sql": "DROP TABLE widgets;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--format", "json", "migrations")
    assert not [
        f for f in findings(out) if f.startswith(("missing-transaction", "missing-header", "file-naming", "drop-table"))
    ]
    code, out, err = run(capsys, "check", "--preset", "guidelines", "--format", "json", "migrations")
    assert "missing-transaction migrations/2024-01-01-000000_create_widgets/up.sql:1" in findings(out)


def test_rules_a_preset_turns_off_come_back_when_named(copy_of, capsys):
    root = copy_of("goose")
    (root / "migcheck.toml").write_text('preset = "goose"\nselect = ["missing-header", "safety"]\n', encoding="utf-8")
    code, out, err = run(capsys, "check", "--format", "json")
    got = findings(out)
    assert "missing-header migrations/20240101000000_create_widgets.sql:1" in got
    (root / "migcheck.toml").write_text('preset = "goose"\n[severity]\nchangelog-missing = "info"\n', encoding="utf-8")
    code, out, err = run(capsys, "check", "--format", "json")
    assert any(f.startswith("changelog-missing ") for f in findings(out))


def test_unknown_preset_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migcheck.toml").write_text('preset = "rails"\n', encoding="utf-8")
    code, out, err = run(capsys, "check", ".")
    assert code == 2 and "unknown preset 'rails'" in err and "golang-migrate" in err
    (tmp_path / "migcheck.toml").unlink()
    code, out, err = run(capsys, "check", "--preset", "rails", ".")
    assert code == 2 and "rails" in err


def test_preset_config_key_validation():
    with pytest.raises(config.ConfigError, match="unknown preset"):
        config.from_dict({"preset": 3}, root=Path("."))
    cfg = config.from_dict({"preset": "supabase"}, root=Path("."))
    assert cfg.migrations == ("supabase/migrations",)
    cfg = config.from_dict({"preset": "supabase", "migrations": ["db"]}, root=Path("."))
    assert cfg.migrations == ("db",)


# --- single-file runners: sections, positions, suppressions ------------------------------------


def test_goose_down_section_positions_are_the_files(copy_of, capsys):
    root = copy_of("goose")
    code, out, err = run(
        capsys, "check", "--preset", "goose", "--format", "json", "migrations/20240102000000_index_widgets.sql"
    )
    doc = json.loads(out)
    drop = [f for f in doc["findings"] if f["line"] == 7]
    assert drop and drop[0]["column"] == 1 and "DROP INDEX CONCURRENTLY" in drop[0]["message"]
    text = (root / "migrations/20240102000000_index_widgets.sql").read_text().splitlines()
    assert text[6].startswith("DROP INDEX CONCURRENTLY")
    kinds = sorted(f["kind"] for f in doc["files"])
    assert kinds == ["migration", "rollback"]


def test_a_suppression_in_the_down_section_covers_its_statement(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/20240101000000_idx.sql": """\
        -- +goose Up
        CREATE TABLE IF NOT EXISTS t (id bigint);

        -- +goose Down
        -- migcheck: ignore concurrently-in-transaction -- runs by hand, reviewed in #12
        DROP INDEX CONCURRENTLY IF EXISTS t_idx;
        DROP TABLE IF EXISTS t;
        """
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--preset", "goose", "--format", "json", "migrations")
    doc = json.loads(out)
    sup = [f for f in doc["findings"] if f["rule"] == "concurrently-in-transaction"]
    assert len(sup) == 1 and sup[0]["suppressed"] and sup[0]["line"] == 6
    assert not [f for f in doc["findings"] if f["rule"] == "unused-suppression"]


def test_goose_no_transaction_with_several_changes_is_not_atomic(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/00001_idx.sql": """\
        -- +goose NO TRANSACTION
        -- +goose Up
        CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);
        ALTER TABLE t ADD COLUMN IF NOT EXISTS b text;

        -- +goose Down
        ALTER TABLE t DROP COLUMN IF EXISTS b;
        DROP INDEX CONCURRENTLY IF EXISTS t_a;
        """
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "goose",
        "--format",
        "json",
        "--select",
        "missing-transaction,concurrently-in-transaction",
        "migrations",
    )
    doc = json.loads(out)
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("missing-transaction", 4), ("missing-transaction", 7)]
    assert "-- +goose NO TRANSACTION" in doc["findings"][0]["message"]


def test_dbmate_transaction_false_is_per_section(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "db/migrations/20240101000000_idx.sql": """\
        -- migrate:up transaction:false
        CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);

        -- migrate:down
        DROP INDEX CONCURRENTLY IF EXISTS t_a;
        """
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "dbmate",
        "--format",
        "json",
        "--select",
        "concurrently-in-transaction",
        "db/migrations",
    )
    doc = json.loads(out)
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("concurrently-in-transaction", 5)]
    assert "transaction:false" in doc["findings"][0]["help"]


def test_sqlx_marker_must_be_the_first_line(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/20240101000000_a.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n",
            "migrations/20240102000000_b.sql": "-- index b\n-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_b ON t (b);\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "check", "--preset", "sqlx", "--format", "json", "--select", "concurrently-in-transaction", "migrations"
    )
    assert findings(out) == {"concurrently-in-transaction migrations/20240102000000_b.sql:3"}


def test_golang_migrate_explicit_transaction_is_fine_and_alone_is_fine(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/000001_a.up.sql": "BEGIN;\nCREATE TABLE IF NOT EXISTS t (a int);\nCOMMIT;\n",
            "migrations/000001_a.down.sql": "DROP TABLE IF EXISTS t;\n",
            "migrations/000002_b.up.sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n",
            "migrations/000002_b.down.sql": "DROP INDEX CONCURRENTLY IF EXISTS t_a;\n",
            "migrations/2_c.up.sql": "SELECT 1;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "golang-migrate",
        "--format",
        "json",
        "--select",
        "missing-transaction,unbalanced-transaction,concurrently-in-transaction,duplicate-version",
        "migrations",
    )
    # golang-migrate parses versions as numbers: 2 and 000002 are one version
    assert findings(out) == {"duplicate-version migrations/2_c.up.sql:1"}


def test_flyway_versions_compare_as_numbers_and_undo_pairs(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "sql/V1.1__a.sql": "CREATE TABLE IF NOT EXISTS a (id int);\n",
            "sql/V1.01__b.sql": "CREATE TABLE IF NOT EXISTS b (id int);\n",
            "sql/U1.1__a.sql": "DROP TABLE IF EXISTS a;\n",
            "sql/V2__c.sql": "CREATE TABLE IF NOT EXISTS c (id int);\n",
            "sql/U3__x.sql": "DROP TABLE IF EXISTS x;\n",
            "sql/add_d.sql": "CREATE TABLE IF NOT EXISTS d (id int);\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "flyway",
        "--format",
        "json",
        "--select",
        "duplicate-version,orphan-rollback,file-naming",
        "sql",
    )
    assert findings(out) == {
        "duplicate-version sql/V1.1__a.sql:1",
        "orphan-rollback sql/U3__x.sql:1",
        "file-naming sql/add_d.sql:1",
    }


def test_flyway_runs_versions_in_number_order_not_name_order(tmp_path, monkeypatch, capsys):
    """V1_10 runs after V1_2 (Flyway compares versions part by part as numbers), though its name
    sorts first: the table V1_2 creates is new to V1_10 when both are in the change set, and V1_10's
    table is not new to V1_9."""
    write(
        tmp_path,
        {
            "sql/V1_1__base.sql": "CREATE TABLE base (id int);\n",  # (not in the change set)
            "sql/V1_2__create_t.sql": "CREATE TABLE t (id int);\n",
            "sql/V1_10__index_t.sql": "CREATE INDEX t_id ON t (id);\n",
            "sql/V1_9__index_u.sql": "CREATE INDEX u_id ON u (id);\n",
            "sql/V1_11__create_u.sql": "CREATE TABLE u (id int);\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "flyway",
        "--format",
        "json",
        "--select",
        "require-concurrent-index",
        "sql/V1_2__create_t.sql",
        "sql/V1_10__index_t.sql",
        "sql/V1_9__index_u.sql",
        "sql/V1_11__create_u.sql",
    )
    assert findings(out) == {"require-concurrent-index sql/V1_9__index_u.sql:1"}, err


def test_flyway_earlier_versions_are_read_in_number_order(tmp_path, monkeypatch, capsys):
    """Checking the whole directory, V1_10 learns from V1_2 (before it: 1.2 < 1.10) that the column
    it drops was generated, and so re-created from the same source loses nothing."""
    write(
        tmp_path,
        {
            "sql/V1_2__logs.sql": "CREATE TABLE logs (id int, msg text, "
            "fts tsvector GENERATED ALWAYS AS (to_tsvector('simple', msg)) STORED);\n",
            "sql/V1_10__fts.sql": "ALTER TABLE logs DROP COLUMN fts;\n"
            "ALTER TABLE logs ADD COLUMN fts tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english', msg)) STORED;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--preset", "flyway", "--format", "json", "--select", "drop-column", "sql")
    assert findings(out) == set(), err


def test_sqitch_verify_scripts_are_not_migrations(copy_of, capsys):
    copy_of("sqitch")
    code, out, err = run(capsys, "check", "--preset", "sqitch", "--format", "json", ".")
    paths = {f["path"] for f in json.loads(out)["files"]}
    assert not [p for p in paths if p.startswith("verify/")]
    assert {"deploy/widgets.sql", "revert/widgets.sql"} <= paths


def test_check_given_one_file_still_pairs_its_rollback(copy_of, capsys):
    copy_of("diesel")
    code, out, err = run(
        capsys, "check", "--preset", "diesel", "--format", "json", "migrations/2024-01-03-000000_create_gadgets/up.sql"
    )
    got = findings(out)
    assert len(got) == 1 and next(iter(got)).startswith(
        "rollback-incomplete migrations/2024-01-03-000000_create_gadgets/up.sql:"
    )


# --- verify on a runner's layout (a real PostgreSQL) -------------------------------------------


@pytest.mark.postgres
def test_verify_golang_migrate_pairs_up_and_down(tmp_path, monkeypatch, capsys):
    from migcheck.verify import cluster

    if not cluster.binaries_available():
        pytest.skip("no PostgreSQL server binaries found")
    write(
        tmp_path,
        {
            "migcheck.toml": 'preset = "golang-migrate"\n',
            "migrations/000001_create_widgets.up.sql": "CREATE TABLE IF NOT EXISTS widgets (id bigint PRIMARY KEY, name text);\n",
            "migrations/000001_create_widgets.down.sql": "DROP TABLE IF EXISTS widgets;\n",
            "migrations/000002_widget_count.up.sql": (
                "CREATE TABLE IF NOT EXISTS gadgets (id bigint PRIMARY KEY);\n"
                "CREATE OR REPLACE FUNCTION gadget_count() RETURNS bigint\n"
                "    LANGUAGE sql AS $$ SELECT count(*) FROM gadgets $$;\n"
            ),
            "migrations/000002_widget_count.down.sql": "DROP TABLE IF EXISTS gadgets;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    c = cluster.TempCluster()
    c.start()
    try:
        code, out, err = run(capsys, "verify", "--dsn", c.admin_conninfo(), "--format", "json")
    finally:
        c.stop()
    doc = json.loads(out)
    got = {(f["rule"], f["path"]) for f in doc["findings"]}
    assert got == {("rollback-mismatch", "migrations/000002_widget_count.up.sql")}, (out, err)
    assert "gadget_count" in doc["findings"][0]["message"]


def test_string_versions_stay_strings_where_the_runner_keeps_them(tmp_path, monkeypatch, capsys):
    """diesel and dbmate store the version as text: `1` and `01` are two versions there, while
    golang-migrate (above) reads both as the number 1."""
    write(
        tmp_path,
        {
            "migrations/1_a/up.sql": "CREATE TABLE IF NOT EXISTS a (id int);\n",
            "migrations/1_a/down.sql": "DROP TABLE IF EXISTS a;\n",
            "migrations/01_b/up.sql": "CREATE TABLE IF NOT EXISTS b (id int);\n",
            "migrations/01_b/down.sql": "DROP TABLE IF EXISTS b;\n",
            "migrations/01_c/up.sql": "CREATE TABLE IF NOT EXISTS c (id int);\n",
            "migrations/01_c/down.sql": "DROP TABLE IF EXISTS c;\n",
            "migrations/2_d/up.sql": "CREATE TABLE IF NOT EXISTS d (id int);\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "diesel",
        "--format",
        "json",
        "--select",
        "duplicate-version,missing-rollback-file",
        "migrations",
    )
    assert findings(out) == {
        "duplicate-version migrations/01_c/up.sql:1",
        "missing-rollback-file migrations/2_d/up.sql:1",
    }
    doc = json.loads(out)
    assert (
        "`migrations/2_d/down.sql` does not exist"
        in [f for f in doc["findings"] if f["rule"] == "missing-rollback-file"][0]["message"]
    )


def test_opted_out_file_sent_as_one_query_still_runs_in_one_transaction(tmp_path, monkeypatch, capsys):
    """dbmate (like sqlx, diesel, postgres-migrations) sends an opted-out section as one query:
    PostgreSQL runs a multi-statement query as one implicit transaction, so CONCURRENTLY must be
    alone there; goose runs statement by statement instead."""
    write(
        tmp_path,
        {
            "db/migrations/20240101000000_idx.sql": """\
        -- migrate:up transaction:false
        CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);
        CREATE INDEX CONCURRENTLY IF NOT EXISTS t_b ON t (b);

        -- migrate:down transaction:false
        DROP INDEX CONCURRENTLY IF EXISTS t_a;
        """
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "dbmate",
        "--format",
        "json",
        "--select",
        "concurrently-in-transaction,missing-transaction",
        "db/migrations",
    )
    doc = json.loads(out)
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [
        ("concurrently-in-transaction", 2),
        ("concurrently-in-transaction", 3),
    ]
    assert "one implicit transaction" in doc["findings"][0]["message"]


def test_refinery_names_versions_and_detection(tmp_path, monkeypatch, capsys):
    """refinery (rust-db/refinery, refinery_core util.rs): `[UV]<int>__<\\w+>.sql`, one version
    space for V and U, no down files; V<n>__ names are refinery in a Rust project, else Flyway."""
    write(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "x"\n',
            "migrations/V1__create_a.sql": "CREATE TABLE a (id int);\n",
            "migrations/U1__seed_a.sql": "INSERT INTO a VALUES (1);\n",  # the same version as V1
            "migrations/V1.1__fix_a.sql": "CREATE TABLE c (id int);\n",  # an i32 version only
            "migrations/V2__more-stuff.sql": "CREATE TABLE d (id int);\n",  # `\w+` names only
            "migrations/V3__index_a.sql": "--refinery:noTransaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--format", "json", "migrations")
    assert err.startswith('migcheck: detected refinery layout (set preset = "refinery"')
    assert findings(out) == {
        "duplicate-version migrations/V1__create_a.sql:1",
        "file-naming migrations/V1.1__fix_a.sql:1",
        "file-naming migrations/V2__more-stuff.sql:1",
    }
    (tmp_path / "Cargo.toml").unlink()
    code, out, err = run(capsys, "check", "--format", "json", "migrations")
    assert err.startswith("migcheck: detected Flyway layout")


def test_summary_counts_a_two_section_file_once(tmp_path, monkeypatch, capsys):
    """A goose file is checked as its up and its down section, but the user has one file."""
    from migcheck.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "00001_a.sql").write_text(
        "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"
    )
    assert main(["check", "--preset", "goose", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [f["kind"] for f in doc["files"]] == ["migration", "rollback"]
    assert doc["summary"]["files"] == 1
    assert main(["check", "--preset", "goose"]) == 0
    assert capsys.readouterr().out.endswith(" in 1 file\n")


# --- a preset that does not match the files: never a silent pass (issue 21) --------------------

GUIDELINE_FILES = {
    "migrations/20251022_001_add_leads.sql": "BEGIN;\nCREATE TABLE IF NOT EXISTS leads (id bigint);\nCOMMIT;\n",
    "migrations/20251022_002_drop_legacy.sql": "BEGIN;\nDROP TABLE legacy_leads;\nCOMMIT;\n",
    "migrations/rollback/20251022_001_rollback.sql": "BEGIN;\nDROP TABLE IF EXISTS leads;\nCOMMIT;\n",
}


def test_a_preset_that_does_not_match_the_files_reports_them(tmp_path, monkeypatch, capsys):
    """`--preset diesel` on guideline-named files: each file is one diesel never runs (file-naming),
    and the safety rules still read it; never `0 errors in 0 files`."""
    write(tmp_path, GUIDELINE_FILES)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--preset", "diesel", "--format", "json", "migrations")
    got = findings(out)
    assert code == 1, (out, err)
    assert {
        "file-naming migrations/20251022_001_add_leads.sql:1",
        "file-naming migrations/20251022_002_drop_legacy.sql:1",
        "file-naming migrations/rollback/20251022_001_rollback.sql:1",
        "drop-table migrations/20251022_002_drop_legacy.sql:2",
    } <= got
    doc = json.loads(out)
    assert doc["summary"]["files"] == 3
    naming = next(f for f in doc["findings"] if f["rule"] == "file-naming")
    assert "diesel never runs it" in naming["message"] and "`preset`" in naming["help"]


def test_a_file_named_on_the_command_line_is_always_checked(tmp_path, monkeypatch, capsys):
    write(tmp_path, GUIDELINE_FILES)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "check", "--preset", "diesel", "--format", "json", "migrations/20251022_002_drop_legacy.sql"
    )
    assert code == 1, (out, err)
    assert "drop-table migrations/20251022_002_drop_legacy.sql:2" in findings(out)


@pytest.mark.parametrize("name", [n for n in presets.NAMES if n != "guidelines"])
def test_no_preset_skips_a_file_it_does_not_recognise(name, tmp_path, monkeypatch, capsys):
    write(tmp_path, GUIDELINE_FILES)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--preset", name, "--format", "json", "migrations")
    assert code == 1 and "drop-table migrations/20251022_002_drop_legacy.sql:2" in findings(out), (name, out, err)
    assert json.loads(out)["summary"]["files"] == 3


# --- pop and popx: Go templates, dialects, autocommit, early COMMIT, fizz migrations -------------


def test_templates_render_in_place_and_findings_keep_the_files_positions(tmp_path, monkeypatch, capsys):
    from migcheck import gotemplate

    text = (
        'CREATE TABLE {{ index .Options "Namespace" }}.widgets (id bigint);\n'
        "{{ if .IsPostgreSQL }}CREATE INDEX w_id ON {{ identifier .Parameters.t }}_x (id);"
        "{{ else }}not sql{{ end }}\n{{- /* note */ -}}\n"
    )
    rendered, problem = gotemplate.render(text)
    assert problem is None and len(rendered) == len(text)
    assert [len(l) for l in rendered.split("\n")] == [len(l) for l in text.split("\n")]
    assert rendered.startswith("CREATE TABLE namespace") and ".widgets" in rendered and "not sql" not in rendered
    assert "ON t_" in rendered  # an identifier goes on: padded with underscores, one name
    quoted, _ = gotemplate.render('ALTER TABLE "{{ index .Options "Namespace" }}"."users" ADD COLUMN a int;')
    assert quoted.startswith('ALTER TABLE "namespace"') and '"."users"' not in quoted and '"users"' in quoted
    write(
        tmp_path,
        {
            "go.mod": "module x\nrequire github.com/gobuffalo/pop/v6 v6.1.1\n",
            "migrations/20240101000000_a.up.sql": (
                'CREATE TABLE IF NOT EXISTS {{ index .Options "Namespace" }}.t (a int);\n'
                "  CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON "
                '{{ index .Options "Namespace" }}.t (a);\n'
            ),
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "check", "--format", "json", "--select", "concurrently-in-transaction,parse-error", "migrations"
    )
    assert err.startswith("migcheck: detected gobuffalo pop layout")
    doc = json.loads(out)
    assert [(f["rule"], f["line"], f["column"]) for f in doc["findings"]] == [("concurrently-in-transaction", 2, 3)]
    assert "namespace.t" in doc["findings"][0]["message"] or "namespace .t" in doc["findings"][0]["help"]


def test_a_template_migcheck_cannot_render_is_one_finding_not_parse_errors(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/20240101000000_a.up.sql": (
                "CREATE TABLE a (id int);\n{{ range .Options }}\nCREATE TABLE {{ . }} (id int);\n{{ end }}\n"
                "ALTER TABLE a ADD COLUMN b int;\n"
            )
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "check", "--preset", "pop", "--format", "json", "--ignore", "missing-rollback-file", "migrations"
    )
    doc = json.loads(out)
    assert code == 1
    assert [(f["rule"], f["line"], f["column"]) for f in doc["findings"]] == [("unrendered-template", 2, 1)]
    assert "range" in doc["findings"][0]["message"]


def test_pop_early_commit_balances_and_what_does_not(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/20240101000000_ok.up.sql": "CREATE TYPE s AS ENUM ('a');\nCOMMIT;\nALTER TYPE s ADD VALUE 'b';\nBEGIN;\n",
            "migrations/20240102000000_nested.up.sql": "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n",
            "migrations/20240103000000_open_end.up.sql": "UPDATE t SET id = 1 WHERE id = 0;\nCOMMIT;\nVACUUM t;\n",
            "migrations/20240104000000_between.up.sql": "COMMIT;\nCREATE INDEX CONCURRENTLY t_id ON t (id);\nBEGIN;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "pop",
        "--format",
        "json",
        "--select",
        "unbalanced-transaction,concurrently-in-transaction",
        "migrations",
    )
    doc = json.loads(out)
    got = [(f["rule"], f["path"].split("/")[-1][:14] + ":" + str(f["line"])) for f in doc["findings"]]
    assert got == [
        ("unbalanced-transaction", "20240102000000:1"),
        ("unbalanced-transaction", "20240102000000:3"),
        ("unbalanced-transaction", "20240103000000:2"),
        ("concurrently-in-transaction", "20240103000000:3"),
        ("concurrently-in-transaction", "20240104000000:2"),
    ]
    between = doc["findings"][-1]
    assert "one implicit transaction" in between["message"] and "no way to opt out" in between["help"]


def test_other_databases_files_are_not_checked_and_said_once(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/20240101000000_a.up.sql": "CREATE TABLE a (id int) ENGINE=InnoDB;\n",  # MySQL: replaced
            "migrations/20240101000000_a.postgres.up.sql": "CREATE TABLE a (id int);\n",
            "migrations/20240101000000_a.mysql.up.sql": "CREATE TABLE a (id int) ENGINE=InnoDB;\n",
            "migrations/20240101000000_a.sqlite3.up.sql": "CREATE TABLE a (id INTEGER) STRICT;\n",
            "migrations/20240101000000_a.down.sql": "DROP TABLE a;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--preset", "popx", "--format", "json", "migrations")
    doc = json.loads(out)
    assert code == 0 and doc["findings"] == [], out
    assert sorted(f["path"] for f in doc["files"]) == [
        "migrations/20240101000000_a.down.sql",
        "migrations/20240101000000_a.postgres.up.sql",
    ]
    assert err.splitlines() == [
        "migcheck: not checked as PostgreSQL: 3 files the runner never runs on PostgreSQL (1 dialect-neutral, "
        "replaced on PostgreSQL by a `.postgres.` file of the same version; 1 for MySQL; 1 for SQLite)"
    ]
    # pre-commit passes the staged files one by one: another database's file is not read as PostgreSQL
    code, out, err = run(
        capsys, "check", "--preset", "popx", "--format", "json", "-q", "migrations/20240101000000_a.mysql.up.sql"
    )
    assert code == 0 and json.loads(out)["findings"] == [] and err == ""


def test_a_fizz_migration_split_in_parts_is_judged_as_one(copy_of, capsys):
    root = copy_of("popx")
    mdir = root / "persistence/sql/migrations"
    args = (
        "check",
        "--preset",
        "popx",
        "--format",
        "json",
        "--select",
        "rollback-incomplete,empty-rollback",
        "persistence/sql/migrations",
    )
    code, out, err = run(capsys, *args)
    assert not [f for f in findings(out) if "credentials" in f], out
    # the parts' downs together forget a table: one finding, on the unit's first reported down file
    (mdir / "20240102000000000002_credentials.down.sql").write_text("DROP TABLE identity_credential_notes;\n")
    code, out, err = run(capsys, *args)
    got = [f for f in json.loads(out)["findings"] if "credentials" in f["path"]]
    assert [(f["rule"], f["path"].rsplit("/", 1)[-1]) for f in got] == [
        ("rollback-incomplete", "20240102000000000003_credentials.down.sql")
    ]
    assert "`20240102000000000001_credentials.up.sql:1` creates table identity_credentials" in got[0]["message"]
    assert "4 rollback files of its migration (4 parts" in got[0]["message"]


def test_maragudk_is_told_from_golang_migrate_without_go_mod(tmp_path, monkeypatch, capsys):
    """harness/gitness: `0002_create_index_a.up.sql` and `0002_create_index_b.up.sql` are two
    versions (the whole name), which golang-migrate would refuse as duplicates."""
    write(
        tmp_path,
        {
            "migrate/postgres/0001_create_table_a.up.sql": "CREATE TABLE a (id int);\n",
            "migrate/postgres/0001_create_table_b.up.sql": "CREATE TABLE b (id int);\n",
            "migrate/postgres/0002_create_index_a.up.sql": "CREATE INDEX a_id ON a (id);\n",
            "migrate/postgres/0002_create_index_b.up.sql": "CREATE INDEX b_id ON b (id);\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--format", "json", "--select", "duplicate-version", "migrate/postgres")
    assert err.startswith("migcheck: detected maragudk/migrate layout")
    assert findings(out) == set()
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        "golang-migrate",
        "--format",
        "json",
        "--select",
        "duplicate-version",
        "migrate/postgres",
    )
    assert len(findings(out)) == 2


# --- no layout recognised: one finding, the layout's rules held back (issue 21) -----------------

NUMBERED_FILES = {  # a team's own runner: names no layout migcheck knows
    "db/changes/create_users.sql": "CREATE TABLE users (id bigint);\n",
    "db/changes/users_add_email.sql": "ALTER TABLE users ADD COLUMN email text;\n",
    "db/changes/users_drop_legacy.sql": "DROP TABLE legacy;\n",
    "db/changes/seed.v2.sql": "INSERT INTO users VALUES (1);\n",
}


def test_no_layout_recognised_is_said_once_and_the_layout_rules_wait(tmp_path, monkeypatch, capsys):
    write(tmp_path, NUMBERED_FILES)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--format", "json", "db/changes")
    doc = json.loads(out)
    rules = [f["rule"] for f in doc["findings"]]
    assert err == ""
    assert rules.count("unknown-layout") == 1
    layout_rules = {
        "file-naming",
        "missing-header",
        "missing-transaction",
        "missing-if-not-exists",
        "missing-if-exists",
        "changelog-missing",
        "duplicate-version",
        "missing-rollback-file",
    }
    assert not layout_rules & set(rules), rules
    assert "drop-table db/changes/users_drop_legacy.sql:1" in findings(out)  # safety and destructive rules run
    unknown = next(f for f in doc["findings"] if f["rule"] == "unknown-layout")
    assert unknown["path"] == "db/changes/create_users.sql" and unknown["line"] == 1
    assert "`<name>.sql` (3), `<name>.v2.sql` (1)" in unknown["message"]
    assert "`preset" in unknown["help"] and "`naming" in unknown["help"]
    # naming the layout brings the rules back, and the finding goes
    (tmp_path / "migcheck.toml").write_text('preset = "guidelines"\n', encoding="utf-8")
    code, out, err = run(capsys, "check", "--format", "json", "db/changes")
    rules = [f["rule"] for f in json.loads(out)["findings"]]
    assert "unknown-layout" not in rules and "file-naming" in rules and "missing-header" in rules


def test_a_few_misnamed_files_are_still_the_guidelines(tmp_path, monkeypatch, capsys):
    """Fewer than three files, or most of them named the guidelines' way: file-naming says what
    is wrong with each name, as before."""
    write(tmp_path, {"migrations/add_users.sql": "BEGIN;\nCREATE TABLE IF NOT EXISTS users (id bigint);\nCOMMIT;\n"})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--format", "json", "--select", "file-naming,unknown-layout", "migrations")
    assert findings(out) == {"file-naming migrations/add_users.sql:1"}


# --- rollbacks a runner does not require: said once per directory (issue 21) ---------------------

UPDOWN_NO_DOWNS = {
    "migrations/000001_a.up.sql": "CREATE TABLE IF NOT EXISTS a (id int);\n",
    "migrations/000002_b.up.sql": "CREATE TABLE IF NOT EXISTS b (id int);\n",
    "migrations/000003_c.up.sql": "CREATE TABLE IF NOT EXISTS c (id int);\n",
    "migrations/000003_c.down.sql": "DROP TABLE IF EXISTS c;\n",
}


def test_optional_rollbacks_are_reported_once_per_directory(tmp_path, monkeypatch, capsys):
    write(tmp_path, UPDOWN_NO_DOWNS)
    monkeypatch.chdir(tmp_path)
    args = (
        "check",
        "--preset",
        "golang-migrate",
        "--format",
        "json",
        "--select",
        "missing-rollback-file",
        "migrations",
    )
    code, out, err = run(capsys, *args)
    doc = json.loads(out)
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("migrations/000001_a.up.sql", 1)]
    assert "nor does 1 other migration" in doc["findings"][0]["message"] and "(2 of 3)" in doc["findings"][0]["message"]
    assert "`require-rollback = true`" in doc["findings"][0]["help"]
    # pre-commit passes one file: the finding goes on the first reported migration without a down
    code, out, err = run(capsys, *args[:-1], "migrations/000002_b.up.sql")
    assert findings(out) == {"missing-rollback-file migrations/000002_b.up.sql:1"}
    (tmp_path / "migcheck.toml").write_text("require-rollback = true\n", encoding="utf-8")
    code, out, err = run(capsys, *args)
    assert findings(out) == {
        "missing-rollback-file migrations/000001_a.up.sql:1",
        "missing-rollback-file migrations/000002_b.up.sql:1",
    }


def test_the_guidelines_still_require_every_rollback(tmp_path, monkeypatch, capsys):
    write(
        tmp_path,
        {
            "migrations/20251022_001_a.sql": "BEGIN;\nCREATE TABLE IF NOT EXISTS a (id int);\nCOMMIT;\n",
            "migrations/20251022_002_b.sql": "BEGIN;\nCREATE TABLE IF NOT EXISTS b (id int);\nCOMMIT;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    args = ("check", "--format", "json", "--select", "missing-rollback-file", "migrations")
    code, out, err = run(capsys, *args)
    assert findings(out) == {
        "missing-rollback-file migrations/20251022_001_a.sql:1",
        "missing-rollback-file migrations/20251022_002_b.sql:1",
    }
    (tmp_path / "migcheck.toml").write_text("require-rollback = false\n", encoding="utf-8")
    code, out, err = run(capsys, *args)
    assert findings(out) == {"missing-rollback-file migrations/20251022_001_a.sql:1"}


def test_require_rollback_must_be_a_boolean():
    with pytest.raises(config.ConfigError, match="'require-rollback' must be true or false"):
        config.from_dict({"require-rollback": "yes"}, root=Path("."))


# --- configuration found from the path being checked (issue 21) -------------------------------


def _app(root: Path, ignore: str) -> None:
    write(
        root,
        {
            "migcheck.toml": f'ignore = ["{ignore}"]\nchangelog = false\n',
            "migrations/20251022_001_drop_legacy.sql": (
                "-- MIGRATION: Drop legacy\n-- Purpose: x\n-- Impact: x\n-- Rollback: x\n-- Testing: x\n"
                "BEGIN;\nDROP TABLE IF EXISTS legacy;\nDELETE FROM leads WHERE id = 1;\nCOMMIT;\n"
            ),
            "migrations/rollback/20251022_001_rollback.sql": "BEGIN;\nSELECT 1;\nCOMMIT;\n",
        },
    )


def test_configuration_is_found_from_the_path_not_the_working_directory(tmp_path, monkeypatch, capsys):
    _app(tmp_path / "app", "drop-table")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, out, err = run(
        capsys, "check", "--format", "json", "--select", "drop-table,delete-statement", "../app/migrations"
    )
    assert findings(out) == {"delete-statement ../app/migrations/20251022_001_drop_legacy.sql:8"}, out
    code, out, err = run(
        capsys,
        "check",
        "--format",
        "json",
        "--select",
        "drop-table,delete-statement",
        str(tmp_path / "app/migrations/20251022_001_drop_legacy.sql"),
    )
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["delete-statement"]


def test_paths_under_different_configurations_are_checked_each_with_its_own(tmp_path, monkeypatch, capsys):
    _app(tmp_path / "one", "drop-table")
    _app(tmp_path / "two", "delete-statement")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--format",
        "json",
        "--select",
        "drop-table,delete-statement",
        "one/migrations",
        "two/migrations",
    )
    assert findings(out) == {
        "delete-statement one/migrations/20251022_001_drop_legacy.sql:8",
        "drop-table two/migrations/20251022_001_drop_legacy.sql:7",
    }
    assert json.loads(out)["summary"]["files"] == 4
    # --config applies to every path
    code, out, err = run(
        capsys,
        "check",
        "--format",
        "json",
        "--select",
        "drop-table,delete-statement",
        "--config",
        "one/migcheck.toml",
        "one/migrations",
        "two/migrations",
    )
    assert {f.split()[0] for f in findings(out)} == {"delete-statement"}


# --- `migcheck rules` and help texts in the runner's words (issue 21) -----------------------


def _enabled(out: str) -> set[str]:
    return {r["id"] for r in json.loads(out) if r["enabled"]}


def test_rules_shows_what_the_detected_or_given_preset_enables(copy_of, capsys):
    copy_of("diesel")
    code, out, err = run(capsys, "rules", "--format", "json")
    assert code == 0 and err.startswith("migcheck: detected diesel layout")
    enabled = _enabled(out)
    assert (
        "require-concurrent-index" in enabled
        and not {"missing-header", "mixed-changes", "missing-if-not-exists"} & enabled
    )
    code, out, err = run(capsys, "rules", "--format", "json", "--preset", "guidelines")
    assert {"missing-header", "mixed-changes", "missing-if-not-exists"} <= _enabled(out) and err == ""
    code, out, err = run(capsys, "rules", "--preset", "prisma")
    line = next(l for l in out.splitlines() if l.startswith("missing-rollback-file "))
    assert " no " in line


def test_mixed_changes_is_a_guideline_rule_off_under_runners_unless_selected(copy_of, capsys):
    root = copy_of("golang-migrate")
    (root / "migrations/000006_two_things.up.sql").write_text(
        "ALTER TABLE widgets ADD COLUMN colour text;\nALTER TABLE gadgets ADD COLUMN weight integer;\n"
    )
    (root / "migrations/000006_two_things.down.sql").write_text(
        "ALTER TABLE widgets DROP COLUMN colour;\nALTER TABLE gadgets DROP COLUMN weight;\n"
    )
    code, out, err = run(capsys, "check", "--preset", "golang-migrate", "--format", "json", "migrations")
    assert not [f for f in findings(out) if f.startswith("mixed-changes")]
    code, out, err = run(
        capsys, "check", "--preset", "golang-migrate", "--format", "json", "--select", "mixed-changes", "migrations"
    )
    assert findings(out) == {"mixed-changes migrations/000006_two_things.up.sql:2"}


@pytest.mark.parametrize(
    "preset, words",
    [
        ("diesel", "`run_in_transaction = false` in a `metadata.toml` beside the migration's up.sql"),
        ("goose", "`-- +goose NO TRANSACTION`"),
        ("popx", "`.autocommit.` in the file name"),
        ("golang-migrate", "alone in a migration file of its own"),
        ("maragudk", "no way to opt out"),
        ("guidelines", "without BEGIN/COMMIT"),
    ],
)
def test_concurrent_index_help_speaks_the_runners_language(preset, words, tmp_path, monkeypatch, capsys):
    name = {
        "diesel": "migrations/2024-01-01-000000_idx/up.sql",
        "popx": "migrations/20240101000000_idx.up.sql",
        "golang-migrate": "migrations/000001_idx.up.sql",
        "maragudk": "migrations/0001_idx.up.sql",
        "goose": "migrations/00001_idx.sql",
        "guidelines": "migrations/20251022_001_idx.sql",
    }[preset]
    body = "CREATE INDEX w_name ON widgets (name);\nDROP INDEX w_old;\n"
    write(tmp_path, {name: ("-- +goose Up\n" + body) if preset == "goose" else body})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys,
        "check",
        "--preset",
        preset,
        "--format",
        "json",
        "--select",
        "require-concurrent-index,require-concurrent-index-deletion",
        "migrations",
    )
    helps = [f["help"] for f in json.loads(out)["findings"]]
    assert len(helps) == 2 and all(words in h for h in helps), helps


# --- `migcheck new` in the project's layout (issue 21) ------------------------------------------

NOW = (2024, 5, 6, 7, 8, 9)


@pytest.fixture
def frozen(monkeypatch):
    import datetime

    from migcheck import authoring

    monkeypatch.setattr(authoring, "_now", lambda: datetime.datetime(*NOW, tzinfo=datetime.UTC))


@pytest.mark.parametrize(
    "name, written",
    [
        (
            "diesel",
            [
                "migrations/2024-05-06-070809_add_widget_colour/up.sql",
                "migrations/2024-05-06-070809_add_widget_colour/down.sql",
            ],
        ),
        (
            "golang-migrate",
            ["migrations/000006_add_widget_colour.up.sql", "migrations/000006_add_widget_colour.down.sql"],
        ),
        (
            "sqlx",
            [
                "migrations/20240506070809_add_widget_colour.up.sql",
                "migrations/20240506070809_add_widget_colour.down.sql",
            ],
        ),
        ("goose", ["migrations/20240506070809_add_widget_colour.sql"]),
        ("dbmate", ["db/migrations/20240506070809_add_widget_colour.sql"]),
        ("flyway", ["db/migration/V5__add_widget_colour.sql", "db/migration/U5__add_widget_colour.sql"]),
        ("refinery", ["migrations/V6__add_widget_colour.sql"]),
        ("postgres-migrations", ["migrations/0006-add-widget-colour.sql"]),
        ("supabase", ["supabase/migrations/20240506070809_add_widget_colour.sql"]),
        ("prisma", ["prisma/migrations/20240506070809_add_widget_colour/migration.sql"]),
        (
            "pop",
            [
                "migrations/20240506070809_add_widget_colour.up.sql",
                "migrations/20240506070809_add_widget_colour.down.sql",
            ],
        ),
        (
            "popx",
            [
                "persistence/sql/migrations/20240506070809000000_add_widget_colour.up.sql",
                "persistence/sql/migrations/20240506070809000000_add_widget_colour.down.sql",
            ],
        ),
        ("maragudk", ["migrations/0004_add_widget_colour.up.sql", "migrations/0004_add_widget_colour.down.sql"]),
    ],
)
def test_new_writes_the_next_migration_in_the_runners_layout(name, written, copy_of, capsys, frozen):
    copy_of(name)
    code, out, err = run(capsys, "new", "Add widget colour")
    assert code == 0, err
    assert out.splitlines() == written
    assert err.startswith(f"migcheck: detected {presets.get(name).title} layout")
    # the runner reads it as one of its migrations: no file-naming, nothing but the documented scaffold findings
    code, out, err = run(capsys, "check", "--preset", name, "--format", "json", *written)
    got = {f["rule"] for f in json.loads(out)["findings"]}
    assert got <= {"empty-migration", "empty-rollback"}, out
    assert all(json.loads(out)["files"]), out


def test_new_under_sqitch_says_to_use_sqitch_add(copy_of, capsys):
    copy_of("sqitch")
    code, out, err = run(capsys, "new", "add widget colour")
    assert code == 2 and "sqitch add" in err


def test_init_refuses_a_runners_layout(copy_of, capsys):
    copy_of("diesel")
    code, out, err = run(capsys, "init")
    assert code == 2 and "diesel" in err and "tracking" in err


def test_new_in_an_empty_project_of_a_pinned_preset(tmp_path, monkeypatch, capsys, frozen):
    (tmp_path / "migcheck.toml").write_text('preset = "prisma"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "new", "create widgets")
    assert (code, out, err) == (0, "prisma/migrations/20240506070809_create_widgets/migration.sql\n", "")


def test_maragudk_down_with_a_typo_in_its_name_is_a_near_miss(tmp_path, monkeypatch, capsys):
    """harness 0026: `0026_alter_repo_drop_job_id.up.sql` and `0026_alter_repo_drop_join_id.down.sql`."""
    write(
        tmp_path,
        {
            "migrations/0026_alter_repo_drop_job_id.up.sql": "ALTER TABLE repos DROP COLUMN repo_job_id;\n",
            "migrations/0026_alter_repo_drop_join_id.down.sql": "ALTER TABLE repos ADD COLUMN repo_job_id int;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "check", "--preset", "maragudk", "--format", "json", "--select", "orphan-rollback", "migrations"
    )
    (f,) = json.loads(out)["findings"]
    assert "did you mean 0026_alter_repo_drop_job_id" in f["message"]
    assert "rename it to `migrations/0026_alter_repo_drop_job_id.down.sql`" in f["help"]


def test_a_pop_placeholder_follows_its_siblings_through_the_cache(tmp_path, monkeypatch, capsys):
    """An empty dialect-neutral file is pop's no-op only beside other databases' files of its
    version: adding one changes the finding, with the cache on."""
    write(
        tmp_path,
        {
            "migrations/20240101000000_a.up.sql": "-- only for MySQL\n",
            "migrations/20240101000000_a.down.sql": "-- nothing\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    args = ("check", "--preset", "popx", "--format", "json", "--select", "empty-migration,empty-rollback", "migrations")
    code, out, err = run(capsys, *args)
    # (no empty-rollback: a down file has nothing to undo when its up file changes nothing, issue 20)
    assert {f.split()[0] for f in findings(out)} == {"empty-migration"}
    write(
        tmp_path,
        {
            "migrations/20240101000000_a.mysql.up.sql": "CREATE TABLE a (id int);\n",
            "migrations/20240101000000_a.mysql.down.sql": "DROP TABLE a;\n",
        },
    )
    code, out, err = run(capsys, *args)
    assert findings(out) == set(), out


def test_a_baseline_is_written_per_configuration(tmp_path, monkeypatch, capsys):
    _app(tmp_path / "one", "drop-table")
    _app(tmp_path / "two", "delete-statement")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "one/migrations", "two/migrations", "--write-baseline")
    assert code == 2 and "different configurations" in err
    code, out, err = run(capsys, "check", "one/migrations", "--write-baseline")
    assert (tmp_path / "one/migcheck-baseline.json").is_file(), err
    code, out, err = run(
        capsys,
        "check",
        "--format",
        "json",
        "--select",
        "drop-table,delete-statement",
        "one/migrations",
        "two/migrations",
    )
    doc = json.loads(out)
    assert findings(out) == {"drop-table two/migrations/20251022_001_drop_legacy.sql:7"}
    assert doc["summary"]["baselined"] == 1


# --- layout fixes from the real-world evaluation (issue 21, docs/real-world.md R2-R4) --------


def test_a_popx_migration_group_is_one_change_set(tmp_path, monkeypatch, capsys):
    """ory/keto `20210623162417000002_relationtuple.postgres.up.sql:2` (R4): popx runs the files whose
    versions share their first 14 digits as one migration; a table an earlier part created is new and
    empty for the later parts, so their index builds and locks are on a new table. A later migration
    (another 14-digit version) still sees it as existing."""
    write(
        tmp_path,
        {
            "migrations/20240101000000000000_rt.postgres.up.sql": "CREATE TABLE rt (nid uuid NOT NULL, obj text, sid text);\n",
            "migrations/20240101000000000000_rt.postgres.down.sql": "DROP TABLE rt;\n",
            "migrations/20240101000000000001_rt.postgres.up.sql": "CREATE INDEX rt_obj_idx ON rt (nid, obj);\n",
            "migrations/20240101000000000001_rt.postgres.down.sql": "DROP INDEX rt_obj_idx;\n",
            "migrations/20240101000000000002_rt.postgres.up.sql": "ALTER TABLE rt ADD CONSTRAINT rt_sid_len CHECK (length(sid) < 64);\n",
            "migrations/20240101000000000002_rt.postgres.down.sql": "ALTER TABLE rt DROP CONSTRAINT rt_sid_len;\n",
            "migrations/20240102000000000000_rt_sid.postgres.up.sql": "CREATE INDEX rt_sid_idx ON rt (sid);\n",
            "migrations/20240102000000000000_rt_sid.postgres.down.sql": "DROP INDEX rt_sid_idx;\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    args = (
        "check",
        "--preset",
        "popx",
        "--format",
        "json",
        "--select",
        "require-concurrent-index,require-lock-timeout,constraint-missing-not-valid",
    )
    code, out, err = run(capsys, *args, "migrations")
    assert findings(out) == {
        "require-concurrent-index migrations/20240102000000000000_rt_sid.postgres.up.sql:1",
        "require-lock-timeout migrations/20240102000000000000_rt_sid.postgres.up.sql:1",
    }, out
    # pre-commit passes one part: the earlier parts of its migration are still its change set
    code, out, err = run(capsys, *args, "migrations/20240101000000000001_rt.postgres.up.sql")
    assert findings(out) == set(), out


def test_sqitch_files_outside_its_script_directories_are_not_migrations(copy_of, capsys):
    """BeeeOn/server-db (R3): a sqitch project's pgTAP tests, saved queries and benchmarks are .sql
    files sqitch never runs; they are left out and counted once, never checked as migrations. A
    deploy script whose change sqitch.plan does not name never runs either: file-naming says so."""
    root = copy_of("sqitch")
    write(
        root,
        {
            "test/t001-widgets.sql": "BEGIN;\nSELECT plan(1);\nSELECT has_table('widgets');\nSELECT * FROM finish();\nROLLBACK;\n",
            "queries/widgets/delete.sql": "DELETE FROM widgets WHERE id = $1;\n",
            "perf/bulk.sql": "\\set n 1000\nINSERT INTO widgets SELECT g FROM generate_series(1, :n) g;\n",
            "deploy/sprockets.sql": "BEGIN;\nCREATE TABLE sprockets (id bigint);\nCOMMIT;\n",
            "revert/sprockets.sql": "BEGIN;\nDROP TABLE sprockets;\nCOMMIT;\n",
        },
    )
    code, out, err = run(capsys, "check", "--preset", "sqitch", "--format", "json", ".")
    doc = json.loads(out)
    assert findings(out) == expected("sqitch") | {"file-naming deploy/sprockets.sql:1"}, out
    naming = next(f for f in doc["findings"] if f["rule"] == "file-naming")
    assert "sqitch.plan" in naming["message"] and "sqitch add sprockets" in naming["help"]
    assert not [f["path"] for f in doc["files"] if f["path"].split("/")[0] in ("test", "queries", "perf")]
    assert [line for line in err.splitlines() if line.startswith(SKIP_NOTE)] == [
        f"{SKIP_NOTE} 3 files the runner never runs on PostgreSQL (3 in a sqitch project but outside its "
        "deploy/, revert/ and verify/ directories: not sqitch scripts)"
    ]
    # named on the command line: not checked either, and said (never a silent exit 0)
    code, out, err = run(capsys, "check", "--preset", "sqitch", "--format", "json", "queries/widgets/delete.sql")
    assert code == 0 and json.loads(out)["findings"] == []
    assert "1 in a sqitch project but outside its deploy/, revert/ and verify/ directories" in err
    # detected without a preset: the same
    code, out, err = run(capsys, "check", "--format", "json", ".")
    assert findings(out) == expected("sqitch") | {"file-naming deploy/sprockets.sql:1"}, out
    # the change added to the plan: the script runs now (the cache keys it on the plan too)
    with open(root / "sqitch.plan", "a", encoding="utf-8") as plan:
        plan.write("sprockets 2024-01-04T00:00:00Z Ann <ann@example.com> # Add sprockets.\n")
    code, out, err = run(capsys, "check", "--preset", "sqitch", "--format", "json", ".")
    assert findings(out) == expected("sqitch"), out


DBMATE_EMPTY_DOWNS = {
    "db/migrations/20240101000000_a.sql": "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\n",
    "db/migrations/20240102000000_b.sql": "-- migrate:up\nCREATE TABLE b (id int);\n\n-- migrate:down\n\n",
    "db/migrations/20240103000000_c.sql": "-- migrate:up\nCREATE TABLE c (id int);\n\n-- migrate:down\n-- nothing\n",
}


def test_dbmate_down_sections_left_empty_everywhere_are_said_once(tmp_path, monkeypatch, capsys):
    """supabase/postgres (R2): every file leaves `-- migrate:down` empty; dbmate runs (and rolls back)
    without one, as golang-migrate does without down files: one finding for the directory, a warning,
    with the key that requires them; `require-rollback = true` reports each file as an error."""
    write(tmp_path, DBMATE_EMPTY_DOWNS)
    monkeypatch.chdir(tmp_path)
    args = (
        "check",
        "--preset",
        "dbmate",
        "--format",
        "json",
        "--select",
        "empty-rollback,missing-rollback-file",
        "db/migrations",
    )
    code, out, err = run(capsys, *args)
    doc = json.loads(out)
    assert [(f["rule"], f["path"], f["line"], f["severity"]) for f in doc["findings"]] == [
        ("empty-rollback", "db/migrations/20240101000000_a.sql", 1, "warning")
    ], out
    message, help = doc["findings"][0]["message"], doc["findings"][0]["help"]
    assert "and so are the 2 other migrate:down sections of `db/migrations/` (all 3)" in message, message
    assert "once for the directory" in message and "`require-rollback = true`" in help
    assert code == 0
    # pre-commit passes one file: the finding goes on it
    code, out, err = run(capsys, *args[:-1], "db/migrations/20240102000000_b.sql")
    assert findings(out) == {"empty-rollback db/migrations/20240102000000_b.sql:1"}
    # a directory where the others have downs: the empty one is reported on its own
    write(
        tmp_path,
        {
            "db/migrations/20240102000000_b.sql": "-- migrate:up\nCREATE TABLE b (id int);\n"
            "-- migrate:down\nDROP TABLE b;\n",
            "db/migrations/20240103000000_c.sql": "-- migrate:up\nCREATE TABLE c (id int);\n"
            "-- migrate:down\nDROP TABLE c;\n",
        },
    )
    code, out, err = run(capsys, *args)
    doc = json.loads(out)
    assert [(f["rule"], f["path"]) for f in doc["findings"]] == [
        ("empty-rollback", "db/migrations/20240101000000_a.sql")
    ]
    assert doc["findings"][0]["message"] == "the `-- migrate:down` section is empty: running it undoes nothing"
    write(tmp_path, DBMATE_EMPTY_DOWNS)
    (tmp_path / "migcheck.toml").write_text("require-rollback = true\n", encoding="utf-8")
    code, out, err = run(capsys, *args)
    doc = json.loads(out)
    assert {(f["path"], f["severity"]) for f in doc["findings"]} == {(p, "error") for p in DBMATE_EMPTY_DOWNS}, out
    assert code == 1


def test_optional_rollbacks_are_warnings_unless_required(tmp_path, monkeypatch, capsys):
    """golang-migrate, goose, dbmate, pop, maragudk run and roll back without a down (golang-migrate
    reads a missing down file as an empty migration): a migration without one is a warning there;
    `require-rollback = true` makes each one an error, as the guidelines, diesel, sqitch and popx
    (which refuse an up without its down) have it."""
    write(tmp_path, UPDOWN_NO_DOWNS)
    monkeypatch.chdir(tmp_path)
    args = (
        "check",
        "--preset",
        "golang-migrate",
        "--format",
        "json",
        "--select",
        "missing-rollback-file",
        "migrations",
    )
    code, out, err = run(capsys, *args)
    doc = json.loads(out)
    assert [(f["path"], f["severity"]) for f in doc["findings"]] == [("migrations/000001_a.up.sql", "warning")]
    assert code == 0
    code, out, err = run(capsys, "rules", "--preset", "golang-migrate")
    assert [line.split()[1] for line in out.splitlines() if line.startswith("missing-rollback-file ")] == ["warning"]
    (tmp_path / "migcheck.toml").write_text("require-rollback = true\n", encoding="utf-8")
    code, out, err = run(capsys, *args)
    assert {f["severity"] for f in json.loads(out)["findings"]} == {"error"} and code == 1
    # the guidelines and the runners that require downs: an error, as before
    (tmp_path / "migcheck.toml").unlink()
    write(tmp_path, {"m/20240101000000000000_a.up.sql": "CREATE TABLE a (id int);\n"})
    code, out, err = run(
        capsys, "check", "--preset", "popx", "--format", "json", "--select", "missing-rollback-file", "m"
    )
    assert [f["severity"] for f in json.loads(out)["findings"]] == ["error"]


def test_goose_no_transaction_down_section_names_what_needs_the_marker(tmp_path, monkeypatch, capsys):
    """hatchet `20260216000002_v1_0_79_b_add_slot_indexes.sql:11`: `-- +goose NO TRANSACTION` covers
    both sections; the Up needs it (CONCURRENTLY), so the Down's message must not say that nothing
    in the file needs it: its changes are not atomic because of the Up's statement."""
    write(
        tmp_path,
        {
            "migrations/00001_slots.sql": """\
        -- +goose NO TRANSACTION
        -- +goose Up
        CREATE INDEX CONCURRENTLY IF NOT EXISTS slots_a_idx ON slots (a);

        -- +goose Down
        DROP INDEX IF EXISTS slots_a_idx;
        ALTER TABLE slots DROP COLUMN IF EXISTS b;
        """
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "check", "--preset", "goose", "--format", "json", "--select", "missing-transaction", "migrations"
    )
    got = json.loads(out)["findings"]
    assert [(f["path"], f["line"]) for f in got] == [("migrations/00001_slots.sql", 6)], out
    message, help = got[0]["message"], got[0]["help"]
    assert "nothing in it needs to" not in message and "Remove `-- +goose NO TRANSACTION`" not in help
    assert message.startswith("this `-- +goose Down` section runs without a transaction")
    assert "the `-- +goose Up` section's CREATE INDEX CONCURRENTLY" in message, message


def test_goose_no_transaction_for_a_validate_is_not_called_needless(tmp_path, monkeypatch, capsys):
    """hatchet `20260511174313_v1_0_108.sql:4`: the file opts out so that VALIDATE CONSTRAINT runs
    after the NOT VALID constraint's lock is released; the changes are still not atomic (a finding),
    but the marker is not one that 'nothing needs', in either section."""
    write(
        tmp_path,
        {
            "migrations/00001_payload.sql": """\
        -- +goose NO TRANSACTION
        -- +goose Up
        ALTER TABLE payload ADD CONSTRAINT payload_eid_nn CHECK (eid IS NOT NULL) NOT VALID;
        ALTER TABLE payload VALIDATE CONSTRAINT payload_eid_nn;

        -- +goose Down
        ALTER TABLE payload DROP CONSTRAINT IF EXISTS payload_eid_nn;
        ALTER TABLE payload DROP COLUMN IF EXISTS eid2;
        """
        },
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "check", "--preset", "goose", "--format", "json", "--select", "missing-transaction", "migrations"
    )
    got = json.loads(out)["findings"]
    assert [(f["path"], f["line"]) for f in got] == [
        ("migrations/00001_payload.sql", 3),
        ("migrations/00001_payload.sql", 7),
    ], out
    for f in got:
        assert "nothing in it needs to" not in f["message"] and "not atomic" in f["message"], f["message"]
        assert "VALIDATE CONSTRAINT (line 4)" in f["message"], f["message"]
        assert "ignore-file missing-transaction" in f["help"], f["help"]
