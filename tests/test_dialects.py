"""Other SQL dialects through sqlglot (docs/dialects.md): the MySQL and SQLite fixture projects,
exact positions, the rule filter, the config key, and the default path's independence of sqlglot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migcheck import cli, dialects, registry
from migcheck import config as config_mod

HERE = Path(__file__).resolve().parent
PROJECTS = HERE / "fixtures" / "dialects"
_EXPECT = re.compile(r"--[ \t]*expect(-suppressed)?(?:@(\d+))?:[ \t]*([a-z0-9, \t-]+?)[ \t]*$")


def _copy(name: str, tmp_path: Path) -> Path:
    root = tmp_path / name
    shutil.copytree(PROJECTS / name, root)
    return root


def _expected(root: Path) -> set[tuple[str, int, str, bool]]:
    """The `-- expect:` comments of the project's files (tests/fixtures/README.md)."""
    out = set()
    for path in sorted(root.rglob("*.sql")):
        rel = path.relative_to(root).as_posix()
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = _EXPECT.search(line)
            if m:
                target = int(m.group(2)) if m.group(2) else i
                for rid in re.split(r"[\s,]+", m.group(3).strip()):
                    out.add((rel, target, rid, bool(m.group(1))))
    return out


def _check(root: Path, monkeypatch, capsys, *args: str) -> tuple[int, dict, str]:
    monkeypatch.chdir(root)
    rc = cli.main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    return rc, json.loads(out), err


def _findings(data: dict) -> set[tuple[str, int, str, bool]]:
    return {(f["path"], f["line"], f["rule"], f["suppressed"]) for f in data["findings"]}


def _one(data: dict, path: str, line: int, rule: str) -> dict:
    found = [f for f in data["findings"] if f["path"] == path and f["line"] == line and f["rule"] == rule]
    assert len(found) == 1, (path, line, rule, data["findings"])
    return found[0]


# --- the fixture projects -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mysql", "sqlite"])
def test_fixture_project(name, tmp_path, monkeypatch, capsys):
    root = _copy(name, tmp_path)
    rc, data, err = _check(root, monkeypatch, capsys)
    expected = _expected(root)
    got = _findings(data)
    assert got == expected, f"missing: {sorted(expected - got)}\nunexpected: {sorted(got - expected)}"
    assert rc == 1
    # one note per run, on stderr, naming the dialect (not one per file)
    notes = [line for line in err.splitlines() if line.startswith("migcheck: dialect")]
    assert len(notes) == 1 and f"dialect {name}" in notes[0], err
    assert "Falling back" not in err  # sqlglot's own warnings do not leak


@pytest.mark.parametrize("name", ["mysql", "sqlite"])
def test_clean_migration_and_its_rollback_are_clean(name, tmp_path, monkeypatch, capsys):
    root = _copy(name, tmp_path)
    rc, data, _ = _check(
        root,
        monkeypatch,
        capsys,
        "migrations/20250101_001_create_leads.sql",
        "migrations/rollback/20250101_001_rollback.sql",
    )
    assert data["findings"] == [] and rc == 0
    kinds = {f["path"]: (f["kind"], f["statements"]) for f in data["files"]}
    assert kinds["migrations/rollback/20250101_001_rollback.sql"][0] == "rollback"


def test_mysql_exact_positions(tmp_path, monkeypatch, capsys):
    root = _copy("mysql", tmp_path)
    _, data, _ = _check(root, monkeypatch, capsys)
    notes = "migrations/20250102_002_lead_notes.sql"
    # after a comment on the same line: the DELETE's own first token
    f = _one(data, notes, 10, "delete-without-where")
    assert (f["column"], f["end_line"], f["end_column"]) == (16, 10, 38)
    f = _one(data, notes, 16, "unparsed-statement")
    assert (f["column"], f["end_line"], f["end_column"]) == (1, 16, 24)
    assert f["message"].startswith("LOCK TABLES leads ... was not parsed")
    f = _one(data, notes, 8, "drop-column")
    assert "legacy_flag" in f["message"] and f["column"] == 1
    # the parser's position and message, and the statement after it still checked
    typo = "migrations/20250104_004_drop_backup.sql"
    f = _one(data, typo, 7, "parse-error")
    assert (
        f["column"] == 13
        and f["message"] == "syntax error (mysql): Invalid expression / Unexpected token at or near `IF`"
    )
    assert "so mysql can parse it" in f["help"]
    _one(data, typo, 8, "drop-table")
    # the suppression comment (found by the dialect's tokenizer) covers the next statement
    f = _one(data, notes, 20, "drop-table")
    assert f["suppressed"] and f["reason"].startswith("approved by the DBA")


def test_sqlite_exact_positions(tmp_path, monkeypatch, capsys):
    root = _copy("sqlite", tmp_path)
    _, data, _ = _check(root, monkeypatch, capsys)
    notes = "migrations/20250102_002_lead_notes.sql"
    f = _one(data, notes, 13, "unparsed-statement")  # the trigger and its BEGIN ... END body: one statement
    assert (f["column"], f["end_line"], f["end_column"]) == (1, 16, 4)
    assert "BEGIN ... END" in f["message"]
    f = _one(data, notes, 6, "missing-transaction")
    assert f["column"] == 1
    f = _one(data, "migrations/20250104_004_drop_backup.sql", 7, "parse-error")
    assert f["column"] == 54 and f["message"] == "syntax error (sqlite): Expecting ) at or near `PRIMARY KEY`"


def test_positions_with_crlf_and_non_ascii(tmp_path, monkeypatch, capsys):
    (tmp_path / "migcheck.toml").write_text('dialect = "mysql"\nselect = ["delete-without-where", "drop-table"]\n')
    mig = tmp_path / "migrations"
    mig.mkdir()
    text = "-- Übersicht: naïve café\r\nSELECT 'ü€'; DELETE FROM `tàble`;\r\n\r\n  DROP TABLE t;\r\n"
    (mig / "20250101_001_x.sql").write_bytes(text.encode("utf-8"))
    _, data, _ = _check(tmp_path, monkeypatch, capsys)
    got = {(f["rule"], f["line"], f["column"], f["end_line"], f["end_column"]) for f in data["findings"]}
    assert got == {("delete-without-where", 2, 14, 2, 33), ("drop-table", 4, 3, 4, 15)}


def test_tsql_go_batches_and_transactions(tmp_path, monkeypatch, capsys):
    (tmp_path / "migcheck.toml").write_text(
        'dialect = "tsql"\nselect = ["drop-table", "missing-if-exists", "unbalanced-transaction", "missing-if-not-exists"]\n'
    )
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "20250101_001_x.sql").write_text(
        "BEGIN TRANSACTION;\nCREATE TABLE t (id INT);\nGO\nDROP TABLE u;\nCOMMIT TRANSACTION;\nGO\n", encoding="utf-8"
    )
    _, data, _ = _check(tmp_path, monkeypatch, capsys)
    got = {(f["rule"], f["line"], f["column"]) for f in data["findings"]}
    # T-SQL has DROP TABLE IF EXISTS (2016+) but no CREATE TABLE IF NOT EXISTS: only the first is asked for
    assert got == {("drop-table", 4, 1), ("missing-if-exists", 4, 1)}


# --- which rules run ---------------------------------------------------------------------------


def test_mysql_missing_transaction_runs_only_when_selected(tmp_path, monkeypatch, capsys):
    root = _copy("mysql", tmp_path)
    target = "migrations/20250103_003_add_source.sql"
    _, data, err = _check(root, monkeypatch, capsys, target)
    assert not any(f["rule"] == "missing-transaction" for f in data["findings"])
    assert "does not make DDL atomic" in err
    _, data, _ = _check(root, monkeypatch, capsys, "--select", "missing-transaction", target)
    assert {(f["rule"], f["line"], f["column"]) for f in data["findings"]} == {("missing-transaction", 6, 1)}


def test_postgres_only_rules_are_skipped(tmp_path, monkeypatch, capsys):
    cfg = config_mod.from_dict({"dialect": "mysql"}, root=tmp_path)
    enabled = set(cfg.enabled_rules())
    assert enabled <= dialects.NEUTRAL
    assert {"drop-table", "delete-without-where", "missing-if-exists", "unparsed-statement", "parse-error"} <= enabled
    for pg_only in (
        "require-concurrent-index",
        "rls-disabled",
        "prefer-timestamptz",
        "rollback-incomplete",
        "require-lock-timeout",
        "mixed-changes",
        "concurrently-in-transaction",
    ):
        assert pg_only in registry.load() and pg_only not in enabled, pg_only
    # even when selected by name: they would read PostgreSQL's tree, which is not there
    cfg = config_mod.from_dict(
        {"dialect": "mysql", "select": ["require-concurrent-index", "drop-table"]}, root=tmp_path
    )
    assert set(cfg.enabled_rules()) >= {"drop-table"} and "require-concurrent-index" not in cfg.enabled_rules()
    # a statement PostgreSQL's lock rules would report is not reported for MySQL
    (tmp_path / "migcheck.toml").write_text('dialect = "mysql"\nchangelog = false\n')
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "20250101_001_x.sql").write_text(
        "-- MIGRATION: x\n-- Purpose: p\n-- Impact: i\n-- Rollback: r\n-- Testing: t\n"
        "CREATE TABLE IF NOT EXISTS t (created TIMESTAMP);\nCREATE INDEX ix ON t (created);\n"
    )
    (tmp_path / "migrations" / "rollback").mkdir()
    (tmp_path / "migrations" / "rollback" / "20250101_001_rollback.sql").write_text("DROP TABLE IF EXISTS t;\n")
    rc, data, _ = _check(tmp_path, monkeypatch, capsys)
    assert data["findings"] == [] and rc == 0


def test_idempotency_only_asks_for_forms_the_dialect_has():
    assert dialects.has_form("postgres", "ADD COLUMN", "IF NOT EXISTS")
    assert not dialects.has_form("mysql", "ADD COLUMN", "IF NOT EXISTS")
    assert not dialects.has_form("mysql", "CREATE INDEX", "IF NOT EXISTS")
    assert dialects.has_form("sqlite", "CREATE INDEX", "IF NOT EXISTS")
    assert not dialects.has_form("sqlite", "CREATE VIEW", "OR REPLACE")
    assert not dialects.has_form("bigquery", "DROP TABLE", "IF EXISTS")  # not listed: no claims


def test_rules_command_shows_the_dialect_filter(tmp_path, monkeypatch, capsys):
    (tmp_path / "migcheck.toml").write_text('dialect = "sqlite"\n')
    monkeypatch.chdir(tmp_path)
    assert cli.main(["rules", "--format", "json"]) == 0
    rows = {r["id"]: r["enabled"] for r in json.loads(capsys.readouterr().out)}
    assert rows["drop-table"] and rows["missing-transaction"] and not rows["require-concurrent-index"]


def test_quiet_has_no_note(tmp_path, monkeypatch, capsys):
    root = _copy("sqlite", tmp_path)
    monkeypatch.chdir(root)
    cli.main(["check", "-q", "migrations/20250101_001_create_leads.sql"])
    assert capsys.readouterr().err == ""


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["mysqll", "oracle-9", ""])
def test_unknown_dialect_is_a_config_error(value, tmp_path, monkeypatch, capsys):
    (tmp_path / "migcheck.toml").write_text(f'dialect = "{value}"\n')
    (tmp_path / "migrations").mkdir()
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check"]) == 2
    err = capsys.readouterr().err
    assert "dialect" in err and "Traceback" not in err
    if value:
        assert f'unknown dialect "{value}"' in err and "mysql" in err and "sqlite" in err and "tsql" in err


def test_dialect_must_be_a_string(tmp_path):
    with pytest.raises(config_mod.ConfigError, match="'dialect' must be a dialect name"):
        config_mod.from_dict({"dialect": 3}, root=tmp_path)


def test_dialect_names_are_normalised(tmp_path):
    assert config_mod.from_dict({"dialect": "MySQL"}, root=tmp_path).dialect == "mysql"
    assert config_mod.from_dict({"dialect": "postgresql"}, root=tmp_path).dialect == "postgres"
    assert config_mod.from_dict({}, root=tmp_path).dialect == "postgres"


def test_missing_sqlglot_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sqlglot.dialects", None)  # import fails as if not installed
    with pytest.raises(config_mod.ConfigError, match=r"pip install 'migcheck\[dialects\]'"):
        config_mod.from_dict({"dialect": "mysql"}, root=tmp_path)


def test_explicit_postgres_is_the_default(tmp_path, monkeypatch, capsys):
    """`dialect = "postgres"` is exactly the default path (pglast), findings and all."""
    mig = tmp_path / "migrations"
    mig.mkdir()
    sample = HERE / "fixtures" / "rules" / "drop-table.sql"
    shutil.copy(sample, mig / "20250101_001_drop.sql")
    (tmp_path / "migcheck.toml").write_text("changelog = false\n")
    rc1, default, err1 = _check(tmp_path, monkeypatch, capsys)
    (tmp_path / "migcheck.toml").write_text('changelog = false\ndialect = "postgres"\n')
    rc2, explicit, err2 = _check(tmp_path, monkeypatch, capsys)
    assert default == explicit and rc1 == rc2 == 1 and err1 == err2 == ""
    assert any(f["rule"] == "drop-table" for f in default["findings"])


# --- the default path does not import sqlglot ---------------------------------------------------

_PROBE = """
import sys
from migcheck import cli
cli.main(["check", "--format", "json", sys.argv[1]])
print("SQLGLOT", any(m == "sqlglot" or m.startswith("sqlglot.") for m in sys.modules), file=sys.stderr)
"""


@pytest.mark.parametrize("dialect, imported", [(None, False), ("postgres", False), ("mysql", True)])
def test_sqlglot_is_imported_only_for_other_dialects(dialect, imported, tmp_path):
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "20250101_001_x.sql").write_text("BEGIN;\nCREATE TABLE IF NOT EXISTS t (id int);\nCOMMIT;\n")
    (tmp_path / "migcheck.toml").write_text(f'dialect = "{dialect}"\n' if dialect else "changelog = false\n")
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, "migrations"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert f"SQLGLOT {imported}" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "dialect, sql, joined",
    [
        ("mysql", "UPDATE a JOIN b ON a.id = b.a_id SET a.x = b.x;", False),  # the join has its condition
        ("sqlite", "UPDATE a SET x = b.x FROM b;", True),  # UPDATE ... FROM: the WHERE is the join condition
    ],
)
def test_update_join_message(dialect, sql, joined, tmp_path, monkeypatch, capsys):
    (tmp_path / "migcheck.toml").write_text(f'dialect = "{dialect}"\nselect = ["update-without-where"]\n')
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "20250101_001_x.sql").write_text(sql + "\n")
    _, data, _ = _check(tmp_path, monkeypatch, capsys)
    (f,) = data["findings"]
    assert f["rule"] == "update-without-where" and (f["line"], f["column"]) == (1, 1)
    assert ("joined with no condition" in f["message"]) is joined


def test_locks_command_refuses_other_dialects(tmp_path, monkeypatch, capsys):
    root = _copy("mysql", tmp_path)
    monkeypatch.chdir(root)
    assert cli.main(["locks", "migrations/20250102_002_lead_notes.sql"]) == 2
    err = capsys.readouterr().err
    assert "models PostgreSQL's locks" in err and "mysql" in err
