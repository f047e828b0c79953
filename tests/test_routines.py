"""Statements run through the functions a migration defines and calls (migcheck.routines), and
dynamic SQL (issue 26: a DROP TABLE in a called function passed with exit 0)."""

from __future__ import annotations

from migcheck.cli import main

MIGRATION = """BEGIN;
CREATE FUNCTION purge() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS customers;
END
$$;
SELECT purge();
COMMIT;
"""


def _project(tmp_path, sql):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "20250101_001_purge.sql").write_text(sql)
    (tmp_path / "migcheck.toml").write_text('select = ["drop-table", "dynamic-sql"]\n')


def test_a_drop_table_in_a_called_function_fails_the_check_at_the_call_naming_the_function(
    tmp_path, monkeypatch, capsys
):
    _project(tmp_path, MIGRATION)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert (
        "20250101_001_purge.sql:7:1: error[drop-table] DROP TABLE customers (run by function purge() defined at line 2, called here)"
        in out
    )


def test_a_function_only_defined_is_not_run(tmp_path, monkeypatch, capsys):
    _project(tmp_path, MIGRATION.replace("SELECT purge();\n", ""))
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache"]) == 0


def test_dynamic_sql_is_reported_as_not_checked_never_as_nothing(tmp_path, monkeypatch, capsys):
    _project(tmp_path, "BEGIN;\nDO $$ BEGIN EXECUTE 'DR' || 'OP TABLE x'; END $$;\nCOMMIT;\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--fail-on", "info"]) == 1
    out = capsys.readouterr().out
    assert "info[dynamic-sql]" in out and "no rule checked" in out
