"""`--format gitlab`: a GitLab Code Quality report, checked against the fields GitLab requires
(https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format): description,
check_name, fingerprint (unique per issue), severity (info, minor, major, critical, blocker),
location.path and location.lines.begin."""

from __future__ import annotations

import json

import jsonschema
import pytest
from test_cli import write

from migcheck.cli import main

# the required subset of the Code Climate issue format that GitLab reads, as a JSON schema
CODE_QUALITY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "not": {"pattern": "^(/|\\./|\\.\\./)"}},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


@pytest.fixture
def proj(project):
    (project / "migcheck.toml").write_text(
        'select = ["drop-table", "missing-if-exists", "sequence-gap", "parse-error"]\nchangelog = false\n'
        '[severity]\n"sequence-gap" = "info"\n'
    )
    write(
        project,
        "migrations/20251022_001_bad.sql",
        "BEGIN;\nDROP TABLE a;\nDROP TABLE a;\nCREAT INDEX i ON a (x);\n"
        "-- migcheck: ignore drop-table -- approved in review #3\nDROP TABLE IF EXISTS b;\nCOMMIT;\n",
    )
    write(project, "migrations/20251022_003_next.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    return project


def gitlab(capsys, *argv):
    code = main(["check", "--format", "gitlab", *argv])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


def test_report_has_the_required_fields_and_unique_fingerprints(proj, capsys):
    code, issues = gitlab(capsys)
    assert code == 1
    jsonschema.validate(issues, CODE_QUALITY)
    assert [
        (i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues
    ] == [
        ("drop-table", "major", "migrations/20251022_001_bad.sql", 2),
        ("missing-if-exists", "minor", "migrations/20251022_001_bad.sql", 2),
        ("drop-table", "major", "migrations/20251022_001_bad.sql", 3),
        ("missing-if-exists", "minor", "migrations/20251022_001_bad.sql", 3),
        ("parse-error", "major", "migrations/20251022_001_bad.sql", 4),
        ("sequence-gap", "info", "migrations/20251022_003_next.sql", 1),
    ]  # the suppressed DROP TABLE is left out
    assert len({i["fingerprint"] for i in issues}) == len(issues)  # two identical statements: two issues
    assert (
        issues[0]["description"].startswith("DROP TABLE a deletes the table") and "(help: " in issues[0]["description"]
    )


def test_fingerprints_are_stable_when_lines_move(proj, capsys):
    _, before = gitlab(capsys)
    p = proj / "migrations/20251022_001_bad.sql"
    p.write_text("-- moved\n" + p.read_text())
    _, after = gitlab(capsys)
    assert [i["fingerprint"] for i in after] == [i["fingerprint"] for i in before]
    assert [i["location"]["lines"]["begin"] for i in after][:5] == [3, 3, 4, 4, 5]


def test_paths_relative_to_the_project_dir(proj, capsys, monkeypatch):
    monkeypatch.setenv("CI_PROJECT_DIR", str(proj.parent))
    _, issues = gitlab(capsys)
    jsonschema.validate(issues, CODE_QUALITY)
    assert issues[0]["location"]["path"] == f"{proj.name}/migrations/20251022_001_bad.sql"


def test_clean_project_is_an_empty_list(project, capsys):
    (project / "migcheck.toml").write_text('select = ["drop-table"]\n')
    write(project, "migrations/20251022_001_ok.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    assert gitlab(capsys) == (0, [])
