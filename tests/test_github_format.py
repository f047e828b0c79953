"""`--format github`: workflow commands as the GitHub runner parses them, plus the summary line."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from migcheck.cli import main
from migcheck.model import Finding
from migcheck.report.github_report import annotation, escape_data, escape_property


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# The runner's parser (actions/runner ActionCommand.TryParseV2 and its unescaping), to check
# that what we print reads back as what we meant.
_UNESCAPE_DATA = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_UNESCAPE_PROPERTY = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))


def _unescape(text, table):
    for token, value in table:
        text = text.replace(token, value)
    return text


def parse_command(line: str):
    assert line.startswith("::")
    end = line.index("::", 2)
    cmd_info, data = line[2:end], line[end + 2 :]
    command, _, props_text = cmd_info.partition(" ")
    props = {}
    for pair in filter(None, props_text.split(",")):
        key, _, value = pair.partition("=")
        props[key] = _unescape(value, _UNESCAPE_PROPERTY)
    return command, props, _unescape(data, _UNESCAPE_DATA)


@pytest.fixture
def proj(project):
    (project / "migcheck.toml").write_text(
        'select = ["parse-error", "drop-table", "missing-if-exists", "sequence-gap"]\n'
        'changelog = false\n[severity]\n"sequence-gap" = "info"\n'
    )
    write(
        project,
        "migrations/20251022_001_bad.sql",
        textwrap.dedent("""\
        BEGIN;
        CREAT INDEX idx ON leads (score);
        -- migcheck: ignore drop-table -- approved in review #12
        DROP TABLE IF EXISTS leads_old;
        DROP TABLE
          leads_older;
        COMMIT;
        """),
    )
    write(project, "migrations/20251022_003_next.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    return project


def test_exact_output(proj, capsys):
    code, out, err = run(capsys, "check", "--format", "github", "migrations")
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0] == (
        "::error file=migrations/20251022_001_bad.sql,line=2,col=1,title=migcheck(parse-error)::"
        'syntax error at or near "CREAT"%0Ahelp: Fix the statement so PostgreSQL can parse it; migcheck checked '
        "the statements around it, but this one is unchecked and would fail on deploy."
    )
    # a finding on one line has its end; one that spans lines is marked at its first token
    assert lines[1].startswith(
        "::error file=migrations/20251022_001_bad.sql,line=5,col=1,title=migcheck(drop-table)::"
        "DROP TABLE leads_older deletes the table"
    )
    assert lines[2].startswith(
        "::warning file=migrations/20251022_001_bad.sql,line=5,col=1,title=migcheck(missing-if-exists)::"
    )
    assert lines[3].startswith(
        "::notice file=migrations/20251022_003_next.sql,line=1,col=1,title=migcheck(sequence-gap)::"
    )
    # the suppressed DROP TABLE is not printed; the plain summary line ends the output
    assert len(lines) == 5
    assert lines[4] == "2 errors, 1 warning in 2 files (1 info, 1 suppressed)"


def test_every_line_parses_back(proj, capsys):
    _, out, _ = run(capsys, "check", "--format", "github", "migrations")
    for line in out.splitlines()[:-1]:
        command, props, data = parse_command(line)
        assert command in ("error", "warning", "notice")
        assert set(props) <= {"file", "line", "col", "endLine", "endColumn", "title"}
        assert props["file"].startswith("migrations/") and re.fullmatch(r"migcheck\([a-z0-9-]+\)", props["title"])
        assert "\nhelp: " in data


def test_same_line_finding_has_end_line_and_column():
    f = Finding("drop-table", "error", "m/x.sql", 3, 5, "msg", "help", 3, 20)
    assert (
        annotation(f)
        == "::error file=m/x.sql,line=3,col=5,endLine=3,endColumn=20,title=migcheck(drop-table)::msg%0Ahelp: help"
    )
    multi = Finding("drop-table", "warning", "m/x.sql", 3, 5, "msg", "", 6, 2)
    assert annotation(multi) == "::warning file=m/x.sql,line=3,col=5,title=migcheck(drop-table)::msg"


def test_escaping():
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("a%b\r\n:c,d") == "a%25b%0D%0A%3Ac%2Cd"
    f = Finding("drop-table", "info", "dir,with:odd%/x.sql", 1, 1, "50% of rows: a,b\nsecond line", "h")
    line = annotation(f)
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::notice file=dir%2Cwith%3Aodd%25/x.sql,line=1,col=1,")
    command, props, data = parse_command(line)
    assert command == "notice"
    assert props["file"] == "dir,with:odd%/x.sql"
    assert data == "50% of rows: a,b\nsecond line\nhelp: h"


def test_auto_selected_in_github_actions(proj, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out, _ = run(capsys, "check", "migrations")
    assert out.startswith("::error file=migrations/20251022_001_bad.sql,line=2,col=1,")
    # an explicit --format wins
    _, out, _ = run(capsys, "check", "--format", "text", "migrations")
    assert out.startswith("migrations/20251022_001_bad.sql:2:1: error[parse-error]")


def test_quiet_prints_only_failing_annotations(proj, capsys):
    _, out, _ = run(capsys, "check", "--format", "github", "--quiet", "migrations")
    lines = out.splitlines()
    assert [parse_command(l)[0] for l in lines] == ["error", "error"]


def test_clean_project_prints_the_summary_only(project, capsys):
    (project / "migcheck.toml").write_text('select = ["drop-table"]\n')
    write(project, "migrations/20251022_001_ok.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    code, out, _ = run(capsys, "check", "--format", "github", "migrations")
    assert code == 0
    assert out == "0 errors, 0 warnings in 1 file\n"


def test_paths_relative_to_the_workspace(proj, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(proj.parent))
    _, out, _ = run(capsys, "check", "--format", "github", "migrations")
    assert out.startswith(f"::error file={proj.name}/migrations/20251022_001_bad.sql,line=2,")
    # outside the workspace: the path as migcheck shows it
    monkeypatch.setenv("GITHUB_WORKSPACE", str(proj / "elsewhere"))
    _, out, _ = run(capsys, "check", "--format", "github", "migrations")
    assert out.startswith("::error file=migrations/20251022_001_bad.sql,line=2,")
