"""The habits ruff users bring to `migcheck check`: --output-file, --statistics, --exit-zero,
--show-source, --color / FORCE_COLOR, `-` for stdin with --stdin-filename, progress on a
terminal, "did you mean" for a misspelled option or value."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from test_cli import run, write

BAD = """\
BEGIN;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;
DROP TABLE leads_old;
DROP TABLE
  leads_older;
COMMIT;
"""


@pytest.fixture
def proj(project):
    (project / "migcheck.toml").write_text(
        'select = ["drop-table", "missing-if-exists", "missing-transaction", "missing-header"]\nchangelog = false\n'
    )
    write(project, "migrations/20251022_001_bad.sql", BAD)
    return project


def test_output_file(proj, capsys):
    code, out, err = run(capsys, "check", "--output-file", "report.txt")
    assert (code, out, err) == (1, "", "")
    expected = run(capsys, "check")[1]
    assert (proj / "report.txt").read_text() == expected
    assert run(capsys, "check", "-o", "r.json", "--format", "json")[0] == 1
    assert json.loads((proj / "r.json").read_text())["summary"]["errors"] == 3
    # no colour in a file unless asked
    run(capsys, "check", "-o", "c.txt", "--color", "always")
    assert "\x1b[" in (proj / "c.txt").read_text()
    code, out, err = run(capsys, "check", "-o", "missing-dir/x.txt")
    assert code == 2 and err.startswith("migcheck: error: cannot write the report to missing-dir/x.txt:")


def test_statistics(proj, capsys):
    from migcheck import registry

    catalog = registry.load()
    code, out, err = run(capsys, "check", "--statistics")
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"2  drop-table         error        {catalog['drop-table'].summary}",
        f"2  missing-if-exists  warning  [*] {catalog['missing-if-exists'].summary}",
        f"1  missing-header     error    [*] {catalog['missing-header'].summary}",
        "",
        "3 errors, 2 warnings in 1 file",
        "[*] fixable with `migcheck check --fix`",
    ]
    code, out, _ = run(capsys, "check", "--statistics", "--format", "json")
    assert json.loads(out) == [
        {
            "rule": "drop-table",
            "severity": "error",
            "count": 2,
            "summary": catalog["drop-table"].summary,
            "fixable": False,
        },
        {
            "rule": "missing-if-exists",
            "severity": "warning",
            "count": 2,
            "summary": catalog["missing-if-exists"].summary,
            "fixable": True,
        },
        {
            "rule": "missing-header",
            "severity": "error",
            "count": 1,
            "summary": catalog["missing-header"].summary,
            "fixable": True,
        },
    ]
    code, _, err = run(capsys, "check", "--statistics", "--format", "sarif")
    assert code == 2 and "--statistics prints text or JSON" in err


def test_exit_zero(proj, capsys):
    code, out, _ = run(capsys, "check", "--exit-zero")
    assert code == 0 and "3 errors, 2 warnings in 1 file" in out
    assert run(capsys, "check", "--exit-zero", "--select", "nope")[0] == 2


def test_show_source(proj, capsys):
    code, out, err = run(capsys, "check", "--show-source", "--select", "drop-table,missing-header")
    help_drop = (
        "  help: Make sure no code still uses the table and a backup exists; once reviewed, record the approval "
        "on the line above: `-- migcheck: ignore drop-table -- <who approved, why>`.\n"
    )
    drop = (
        "DROP TABLE {} deletes the table and every row in it; the guidelines require review of destructive statements"
    )
    assert out.startswith(
        "migrations/20251022_001_bad.sql:1:1: error[missing-header] the file has no header block (MIGRATION, "
        "Purpose, Impact, Rollback, Testing) before its first statement\n"
        "  help: Start the file"
    )  # a file-level finding: no source under it
    assert out[out.index("migrations/20251022_001_bad.sql:3:1:") :] == (
        f"migrations/20251022_001_bad.sql:3:1: error[drop-table] {drop.format('leads_old')}\n"
        "    |\n"
        "  3 | DROP TABLE leads_old;\n"
        "    | ^^^^^^^^^^^^^^^^^^^^\n"
        + help_drop
        + f"migrations/20251022_001_bad.sql:4:1: error[drop-table] {drop.format('leads_older')}\n"
        "    |\n"
        "  4 | DROP TABLE\n"
        "  5 |   leads_older;\n" + help_drop + "\n3 errors, 0 warnings in 1 file\n"
    )
    assert code == 1 and err == ""


def test_color_choices_and_force_color(proj, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert "\x1b[" not in run(capsys, "check")[1]
    assert "\x1b[" in run(capsys, "check", "--color", "always")[1]
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in run(capsys, "check")[1]
    assert "\x1b[" not in run(capsys, "check", "--color", "never")[1]
    assert "\x1b[" not in run(capsys, "check", "--no-color")[1]
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert "\x1b[" in run(capsys, "check")[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run(capsys, "check")[1]
    assert "\x1b[" in run(capsys, "check", "--color", "always")[1]
    code, _, err = run(capsys, "check", "--color", "always", "--no-color")
    assert (code, err) == (2, "migcheck: error: --no-color and --color always contradict each other\n")


def test_stdin_with_a_file_name_uses_the_layout(proj, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"BEGIN;\nDROP TABLE x;\nCOMMIT;\n")))
    code, out, err = run(
        capsys,
        "check",
        "-",
        "--stdin-filename",
        "migrations/20251022_001_bad.sql",
        "--select",
        "drop-table,duplicate-version",
    )
    assert (code, err) == (1, "")
    assert out.startswith("migrations/20251022_001_bad.sql:2:1: error[drop-table] DROP TABLE x deletes")
    assert (proj / "migrations/20251022_001_bad.sql").read_text() == BAD  # the disk's file is not read or written
    # a new file that is not on disk yet: its neighbours are read (its version is taken)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"SELECT 1;\n")))
    code, out, _ = run(
        capsys, "check", "--stdin-filename", "migrations/20251022_001_other.sql", "--select", "duplicate-version"
    )
    assert code == 1 and "migrations/20251022_001_other.sql:1:1: error[duplicate-version]" in out


def test_stdin_without_a_name(proj, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"DROP TABLE x;\n")))
    code, out, err = run(capsys, "check", "-", "--select", "drop-table,file-naming,missing-rollback-file")
    assert (code, err) == (1, "")
    assert out.splitlines()[0].startswith("-:1:1: error[drop-table]")
    assert "file-naming" not in out and "missing-rollback-file" not in out  # no name, no layout
    code, _, err = run(capsys, "check", "-", "migrations")
    assert code == 2 and "`-` (stdin) is checked alone" in err
    code, _, err = run(capsys, "check", "-", "--fix")
    assert code == 2 and "not on stdin" in err


def test_progress_only_on_a_terminal(proj, capsys, monkeypatch):
    for i in range(2, 12):
        write(proj, f"migrations/20251022_{i:03d}_m.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    monkeypatch.setattr("migcheck.engine.POOL_MIN_FILES", 4)
    monkeypatch.setattr("migcheck.parallel.PROGRESS_EVERY", 1)
    code, _, err = run(capsys, "check", "--jobs", "1", "--no-cache")
    assert err == ""  # not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    code, out, err = run(capsys, "check", "--jobs", "1", "--no-cache")
    assert "\rchecking 11/11 files" in err.replace("\x1b[K", "") and err.endswith("\r\x1b[K")
    assert "checking" not in out
    code, _, err = run(capsys, "check", "--jobs", "1", "--quiet", "--no-cache")
    assert err == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["check", "--formt", "json"], "No such option '--formt'. Did you mean '--format'?"),
        (["check", "--exitzero"], "Did you mean '--exit-zero'?"),
        (["check", "--format", "markdwn"], "Did you mean 'markdown'?"),
        (["check", "--fail-on", "warnings"], "Did you mean 'warning'?"),
        (["check", "--color", "alway"], "Did you mean 'always'?"),
    ],
)
def test_did_you_mean(project, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


NEW = (
    "--output-file",
    "--statistics",
    "--exit-zero",
    "--show-source",
    "--color",
    "--stdin-filename",
    "--write-baseline",
    "--no-baseline",
    "gitlab",
    "markdown",
)


def test_help_and_readme_list_every_new_option(capsys):
    code, out, _ = run(capsys, "check", "--help")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for opt in NEW:
        assert opt in out, opt
        assert f"`{opt}" in readme or f"|{opt}" in readme, opt
    for key in ("exclude", "extend-exclude", "per-file-ignores", "baseline"):
        assert f"\n{key} = " in readme or f"`{key}`" in readme, key
    assert "## Adopting migcheck on an existing repository" in readme
