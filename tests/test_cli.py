"""The command line through main(argv): exact output and exit codes (CONVENTIONS.md)."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from migcheck import __version__, registry
from migcheck.cli import main

BAD = """\
BEGIN;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
CREAT INDEX idx ON leads (score);
SELECT 1;
DROP TABLE leads_old;
COMMIT;
"""


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def proj(project):
    (project / "migcheck.toml").write_text(
        'select = ["parse-error", "drop-table", "missing-transaction", "unbalanced-transaction"]\nchangelog = false\n'
    )
    write(project, "migrations/20251022_001_bad.sql", BAD)
    return project


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_exact(proj, capsys):
    code, out, err = run(capsys, "check", "migrations")
    assert code == 1
    assert err == ""
    assert out == textwrap.dedent("""\
        migrations/20251022_001_bad.sql:3:1: error[parse-error] syntax error at or near "CREAT"
          help: Fix the statement so PostgreSQL can parse it; migcheck checked the statements around it, but this one is unchecked and would fail on deploy.
        migrations/20251022_001_bad.sql:5:1: error[drop-table] DROP TABLE leads_old deletes the table and every row in it; the guidelines require review of destructive statements
          help: Make sure no code still uses the table and a backup exists; once reviewed, record the approval on the line above: `-- migcheck: ignore drop-table -- <who approved, why>`.

        2 errors, 0 warnings in 1 file
        """)


def test_quiet_prints_findings_only(proj, capsys):
    code, out, _ = run(capsys, "check", "--quiet", "migrations")
    assert code == 1
    assert out.splitlines() == [
        'migrations/20251022_001_bad.sql:3:1: error[parse-error] syntax error at or near "CREAT"',
        "migrations/20251022_001_bad.sql:5:1: error[drop-table] DROP TABLE leads_old deletes the table and every row "
        "in it; the guidelines require review of destructive statements",
    ]


def test_json_output_shape(proj, capsys):
    code, out, _ = run(capsys, "check", "--format", "json", "migrations")
    assert code == 1
    doc = json.loads(out)
    assert list(doc) == ["version", "findings", "files", "summary"]
    assert doc["version"] == 1
    assert [(f["rule"], f["line"], f["column"]) for f in doc["findings"]] == [
        ("parse-error", 3, 1),
        ("drop-table", 5, 1),
    ]
    f = doc["findings"][1]
    assert list(f) == [
        "rule",
        "severity",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "help",
        "suppressed",
    ]
    assert f["path"] == "migrations/20251022_001_bad.sql"
    assert (f["end_line"], f["end_column"]) == (5, 21)
    assert f["suppressed"] is False
    assert doc["files"] == [{"path": "migrations/20251022_001_bad.sql", "kind": "migration", "statements": 5}]
    assert doc["summary"] == {"files": 1, "errors": 2, "warnings": 0, "infos": 0, "suppressed": 0}


def test_json_suppressed_finding_has_reason(project, capsys):
    (project / "migcheck.toml").write_text('select = ["drop-table"]\n')
    write(
        project,
        "migrations/20251022_001_x.sql",
        "BEGIN;\n-- migcheck: ignore drop-table -- approved in #12\nDROP TABLE a;\nCOMMIT;\n",
    )
    code, out, _ = run(capsys, "check", "--format", "json", "migrations")
    assert code == 0
    doc = json.loads(out)
    assert doc["findings"][0]["suppressed"] is True
    assert doc["findings"][0]["reason"] == "approved in #12"
    assert doc["summary"]["suppressed"] == 1 and doc["summary"]["errors"] == 0


def test_clean_exits_zero(project, capsys):
    (project / "migcheck.toml").write_text('select = ["drop-table", "missing-transaction"]\n')
    write(project, "migrations/20251022_001_ok.sql", "BEGIN;\nCREATE TABLE IF NOT EXISTS t (id int);\nCOMMIT;\n")
    code, out, _ = run(capsys, "check", "migrations")
    assert code == 0
    assert out == "0 errors, 0 warnings in 1 file\n"


def test_no_paths_uses_configured_directories(project, capsys):
    (project / "migcheck.toml").write_text('migrations = ["db/migrations"]\nselect = ["drop-table"]\n')
    write(project, "db/migrations/20251022_001_x.sql", "BEGIN;\nDROP TABLE a;\nCOMMIT;\n")
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert out.startswith("db/migrations/20251022_001_x.sql:2:1: error[drop-table]")


def test_fail_on_warning_and_info(project, capsys):
    (project / "migcheck.toml").write_text('select = ["unused-suppression", "drop-table"]\n')
    write(
        project,
        "migrations/20251022_001_x.sql",
        "BEGIN;\n-- migcheck: ignore drop-table -- reviewed\nSELECT 1;\nCOMMIT;\n",
    )
    assert run(capsys, "check", "migrations")[0] == 0
    assert run(capsys, "check", "--fail-on", "warning", "migrations")[0] == 1
    assert run(capsys, "check", "--fail-on", "info", "migrations")[0] == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["check", "--bogus"], "migcheck: error: No such option '--bogus'."),
        (
            ["check", "--select", "drop-tables", "x"],
            "migcheck: error: --select: unknown rule id 'drop-tables' (see `migcheck rules`)",
        ),
        (
            ["check", "--ignore", "nope", "x"],
            "migcheck: error: --ignore: unknown rule id 'nope' (see `migcheck rules`)",
        ),
        (["check", "does/not/exist.sql"], "migcheck: error: path not found: does/not/exist.sql"),
        (["check", "--format", "xml", "x"], "migcheck: error: Invalid value for '--format'"),
        (["explain", "no-such-rule"], "migcheck: error: unknown rule id 'no-such-rule' (see `migcheck rules`)"),
        (["frobnicate"], "migcheck: error: No such command 'frobnicate'."),
    ],
)
def test_usage_errors_exit_2_with_one_line(project, capsys, argv, message):
    (project / "x").mkdir()
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(message), err


@pytest.mark.parametrize(
    "toml, message",
    [
        ("colour = true\n", "unknown key 'colour'"),
        ("select = 3\n", "'select' must be a list of rule ids"),
        ('select = ["drop-tabel"]\n', "unknown rule id 'drop-tabel'"),
        ('severity = {"drop-table" = "fatal"}\n', "'severity.drop-table' must be one of error, warning, info"),
        ('fail-on = "never"\n', "'fail-on' must be one of error, warning, info"),
        ('sequence = "daily"\n', '\'sequence\' must be "global" or "per-day"'),
        ('postgres-version = "15"\n', "'postgres-version' must be a major version number"),
        ("this is not toml\n", "not valid TOML"),
        ('naming = "^(?P<date>\\\\d{8})"\n', "'naming' needs the named groups"),
    ],
)
def test_bad_config_exits_2(project, capsys, toml, message):
    (project / "migcheck.toml").write_text(toml)
    write(project, "migrations/20251022_001_x.sql", "SELECT 1;\n")
    code, out, err = run(capsys, "check", "migrations")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert message in err


def test_pyproject_config_found_walking_up(project, capsys, monkeypatch):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.migcheck]\nselect = ["drop-table"]\n')
    write(project, "db/migrations/20251022_001_x.sql", "DROP TABLE a;\n")
    monkeypatch.chdir(project / "db")
    code, out, _ = run(capsys, "check", "migrations")
    assert code == 1
    assert "[drop-table]" in out and "missing-transaction" not in out


def test_explicit_config_overrides_search(project, capsys):
    (project / "migcheck.toml").write_text('select = ["drop-table"]\n')
    (project / "other.toml").write_text('select = ["missing-transaction"]\n')
    write(project, "migrations/20251022_001_x.sql", "DROP TABLE a;\n")
    code, out, _ = run(capsys, "check", "--config", "other.toml", "migrations")
    assert "[missing-transaction]" in out and "[drop-table]" not in out


def test_severity_override(project, capsys):
    (project / "migcheck.toml").write_text('select = ["drop-table"]\nseverity = {"drop-table" = "warning"}\n')
    write(project, "migrations/20251022_001_x.sql", "BEGIN;\nDROP TABLE a;\nCOMMIT;\n")
    code, out, _ = run(capsys, "check", "migrations")
    assert code == 0
    assert "warning[drop-table]" in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out == f"migcheck {__version__}\n"


def test_rules_lists_every_rule(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "severity", "group", "enabled", "summary"]
    listed = {line.split()[0] for line in lines[1:]}
    assert listed == set(registry.load())


def test_explain_prints_the_doc(capsys):
    code, out, _ = run(capsys, "explain", "drop-table")
    assert code == 0
    assert out.startswith("# drop-table\n") and "## Use instead" in out


def test_colour_only_on_a_terminal_without_no_color(proj, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _, out, _ = run(capsys, "check", "migrations")
    assert "\x1b[" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "check", "migrations")
    assert "\x1b[" not in out
    monkeypatch.delenv("NO_COLOR")
    _, out, _ = run(capsys, "check", "--no-color", "migrations")
    assert "\x1b[" not in out


def test_internal_error_in_a_rule_keeps_other_findings(proj, capsys, monkeypatch):
    def boom(f, ctx):
        raise ValueError("kaboom")
        yield  # pragma: no cover

    rules = dict(registry.load())
    rules["exploding-rule"] = registry.Rule("exploding-rule", "error", "syntax", "test", "file", func=boom)
    monkeypatch.setattr(registry, "_RULES", rules)
    (proj / "migcheck.toml").write_text('select = ["drop-table", "exploding-rule"]\n')
    code, out, err = run(capsys, "check", "migrations")
    assert code == 2
    assert "error[drop-table]" in out
    assert err.startswith(
        "migcheck: internal error in rule exploding-rule on migrations/20251022_001_bad.sql: ValueError: kaboom"
    )


def test_python_dash_m_works(proj):
    r = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", "--select", "drop-table", "migrations"],
        cwd=proj,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    assert "error[drop-table]" in r.stdout


def test_locks_view_exact(project, capsys):
    write(
        project,
        "migrations/20251022_001_x.sql",
        "SET lock_timeout = '5s';\nBEGIN;\nCREATE TABLE notes (id int, lead_id int REFERENCES leads (id));\n"
        "CREATE INDEX i ON notes (id);\nALTER TABLE leads ADD COLUMN u uuid DEFAULT gen_random_uuid();\n"
        "ALTER TABLE leads ALTER COLUMN email SET NOT NULL;\nCREATE TABLE tags (id int);\nCOMMIT;\n",
    )
    code, out, err = run(capsys, "locks", "migrations")
    assert code == 0 and err == ""
    assert out == textwrap.dedent("""\
        migrations/20251022_001_x.sql
          3:1  CREATE TABLE
            leads: SHARE ROW EXCLUSIVE -- existing table: blocks writes (INSERT, UPDATE, DELETE); reads go on
              referenced by a foreign key of the new table
          4:1  CREATE INDEX
            notes: SHARE (scan) -- table created in this file (line 3): no one else can hold it
              CREATE INDEX builds the index while holding the lock
          5:1  ALTER TABLE
            leads: ACCESS EXCLUSIVE (rewrite) -- existing table: blocks everything: reads and writes queue behind it
              ADD COLUMN u with a volatile DEFAULT computes it for every row
          6:1  ALTER TABLE
            leads: ACCESS EXCLUSIVE (scan) -- existing table: blocks everything: reads and writes queue behind it
              SET NOT NULL on email scans every row (skipped since PostgreSQL 12 when a validated CHECK (... IS NOT NULL) exists)
          7:1  CREATE TABLE  -- no lock on an existing table
        """)
    code, out, _ = run(capsys, "locks", "--format", "json", "migrations")
    doc = json.loads(out)
    assert doc[0]["statements"][2]["locks"][0] == {
        "relation": "leads",
        "mode": "ACCESS EXCLUSIVE",
        "rewrite": True,
        "scan": False,
        "new_table": False,
        "origin": "existing",
        "empty": None,
        "blocks": "everything: reads and writes queue behind it",
        "note": "ADD COLUMN u with a volatile DEFAULT computes it for every row",
    }


def test_locks_view_shows_the_schema_model(project, capsys):
    write(
        project,
        "migrations/20251020_001_history.sql",
        "BEGIN;\nCREATE TABLE IF NOT EXISTS leads (id int PRIMARY KEY, email text, score int);\n"
        "ALTER TABLE leads ADD CONSTRAINT leads_email_nn CHECK (email IS NOT NULL);\nCOMMIT;\n",
    )
    write(
        project,
        "migrations/20251021_001_notes.sql",
        "BEGIN;\nCREATE TABLE IF NOT EXISTS notes (id int, body text);\nCOMMIT;\n",
    )
    write(
        project,
        "migrations/20251022_001_x.sql",
        "BEGIN;\nCREATE INDEX i ON notes (body);\nALTER TABLE leads ALTER COLUMN email SET NOT NULL;\n"
        "ALTER TABLE leads ALTER COLUMN score TYPE bigint, ALTER COLUMN score SET NOT NULL;\n"
        "TRUNCATE audit;\nCREATE INDEX j ON audit (at);\nCOMMIT;\n",
    )
    # the two newest files given one by one: the change set (as pre-commit passes them)
    code, out, err = run(capsys, "locks", "migrations/20251021_001_notes.sql", "migrations/20251022_001_x.sql")
    assert code == 0 and err == ""
    x = out.split("migrations/20251022_001_x.sql\n")[1]
    assert textwrap.dedent(x) == textwrap.dedent("""\
          2:1  CREATE INDEX
            notes: SHARE (scan) -- table created in this change set (migrations/20251021_001_notes.sql:2): the running application does not use it yet
              CREATE INDEX builds the index while holding the lock
          3:1  ALTER TABLE
            leads: ACCESS EXCLUSIVE -- existing table: blocks everything: reads and writes queue behind it
              SET NOT NULL on email: the validated CHECK leads_email_nn proves it, so PostgreSQL skips the scan (12+)
          4:1  ALTER TABLE
            leads: ACCESS EXCLUSIVE (rewrite) -- existing table: blocks everything: reads and writes queue behind it
              ALTER COLUMN score TYPE rewrites the table and its indexes unless the change is binary-coercible (e.g. varchar(n) to text); SET NOT NULL on score: checked while the same statement rewrites the table: no scan of its own
          5:1  TRUNCATE
            audit: ACCESS EXCLUSIVE -- existing table: blocks everything: reads and writes queue behind it
              TRUNCATE
          6:1  CREATE INDEX
            audit: SHARE (scan) -- existing table, provably empty (every row was deleted on line 5 (TRUNCATE)): blocks writes (INSERT, UPDATE, DELETE); reads go on
              CREATE INDEX builds the index while holding the lock
        """)
    code, out, _ = run(
        capsys, "locks", "--format", "json", "migrations/20251021_001_notes.sql", "migrations/20251022_001_x.sql"
    )
    doc = json.loads(out)
    first = doc[1]["statements"][0]["locks"][0]
    assert (first["origin"], first["new_table"]) == ("change set", True)
    assert (
        first["empty"] == "created in this change set (migrations/20251021_001_notes.sql:2) and nothing inserted since"
    )
    assert doc[1]["statements"][4]["locks"][0]["empty"] == "every row was deleted on line 5 (TRUNCATE)"
    # the whole directory: the history is checked, notes is an existing table
    code, out, _ = run(capsys, "locks", "migrations")
    assert "notes: SHARE (scan) -- existing table: blocks writes" in out


def test_ctrl_c_exits_130(proj, capsys, monkeypatch):
    from migcheck import engine

    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "check", interrupted)
    code, out, err = run(capsys, "check", "migrations")
    assert (code, out) == (130, "") and err.strip() == "migcheck: interrupted"


def test_a_group_in_select_brings_its_default_rules_and_an_off_rule_needs_its_id(project, capsys):
    """`select = ["safety"]` (as the README's example spells the default set) must not switch on the
    safety rules that are off by default (require-statement-timeout would fire on every migration);
    naming one by id does."""
    write(
        project,
        "migrations/20251022_001_x.sql",
        "BEGIN;\nSET lock_timeout = '2s';\nALTER TABLE leads DROP COLUMN IF EXISTS a;\nCOMMIT;\n",
    )
    (project / "migcheck.toml").write_text('select = ["safety"]\nchangelog = false\n')
    code, out, err = run(capsys, "rules", "--format", "json")
    enabled = {r["id"] for r in json.loads(out) if r["enabled"]}
    assert "drop-column" in enabled and "require-statement-timeout" not in enabled
    assert not registry.load()["require-statement-timeout"].enabled
    (project / "migcheck.toml").write_text('select = ["safety", "require-statement-timeout"]\nchangelog = false\n')
    code, out, err = run(capsys, "rules", "--format", "json")
    enabled = {r["id"] for r in json.loads(out) if r["enabled"]}
    assert {"drop-column", "require-statement-timeout"} <= enabled
