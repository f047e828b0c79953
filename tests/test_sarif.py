"""`--format sarif`: SARIF 2.1.0, valid against the official schema (vendored in tests/schemas),
with what GitHub code scanning (codeql-action/upload-sarif) needs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import jsonschema
import pytest

from migcheck import __version__, docs, registry
from migcheck.cli import main
from migcheck.engine import InternalError, Result
from migcheck.model import Finding
from migcheck.report import render

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
# RFC 3986 URI-reference: no spaces, quotes or other characters that must be percent-encoded
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")


def validate(doc: dict) -> None:
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    errors = sorted(cls(SCHEMA, format_checker=cls.FORMAT_CHECKER).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def sarif(capsys, *argv) -> tuple[int, dict]:
    code = main(["check", "--format", "sarif", *argv])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


@pytest.fixture
def proj(project):
    """Findings of every severity, a suppressed finding, a parse error, a file name with a space."""
    (project / "migcheck.toml").write_text(
        'select = ["drop-table", "missing-if-exists", "missing-transaction", "sequence-gap", "parse-error"]\n'
        "changelog = false\n"
        '[severity]\n"sequence-gap" = "info"\n'
    )
    write(
        project,
        "migrations/20251022_001_bad.sql",
        "BEGIN;\nALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;\nCREAT INDEX idx ON leads (score);\n"
        "-- migcheck: ignore drop-table -- approved in review #12: replaced by leads_v2\n"
        "DROP TABLE leads_old;\nCOMMIT;\n",
    )
    write(project, "migrations/20251022_003_gap.sql", "BEGIN;\nDROP TABLE IF EXISTS t;\nCOMMIT;\n")
    write(project, "migrations/odd name %.sql", "DROP TABLE x;\n")
    return project


def results_by_rule(doc):
    return {r["ruleId"]: r for r in doc["runs"][0]["results"]}


def test_valid_sarif_with_every_severity_suppressions_and_a_parse_error(proj, capsys):
    code, doc = sarif(capsys, "migrations")
    assert code == 1
    validate(doc)
    assert doc["version"] == "2.1.0"
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    levels = {r["level"] for r in run["results"]}
    assert levels == {"error", "warning", "note"}
    by_rule = {}
    for r in run["results"]:
        by_rule.setdefault(r["ruleId"], []).append(r)
    assert by_rule["sequence-gap"][0]["level"] == "note"  # info -> note
    assert by_rule["missing-if-exists"][0]["level"] == "warning"
    parse = by_rule["parse-error"][0]
    assert parse["level"] == "error"
    assert parse["message"]["text"].startswith('syntax error at or near "CREAT"\nhelp: ')
    assert parse["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 1}
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(suppressed) == 1 and suppressed[0]["ruleId"] == "drop-table"
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "approved in review #12: replaced by leads_v2"}
    ]
    # the unsuppressed DROP TABLE in the oddly named file
    (loc,) = [
        r["locations"][0]["physicalLocation"]
        for r in by_rule["drop-table"]
        if "odd" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    ]
    assert loc["artifactLocation"] == {"uri": "migrations/odd%20name%20%25.sql", "uriBaseId": "%SRCROOT%"}
    # end_column is exclusive, like SARIF's endColumn: `DROP TABLE x` is 12 characters
    assert loc["region"] == {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 13}
    assert unquote(loc["artifactLocation"]["uri"]) == "migrations/odd name %.sql"


def test_locations_uris_and_base(proj, capsys):
    _, doc = sarif(capsys, "migrations")
    run = doc["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    assert Path(unquote(urlparse(base).path)) == proj
    for r in run["results"]:
        assert len(r["locations"]) == 1
        art = r["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art["uriBaseId"] == "%SRCROOT%"
        assert _URI_CHARS.match(art["uri"]) and not art["uri"].startswith("/")
        assert (proj / unquote(art["uri"])).is_file()
        region = r["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


def test_one_descriptor_per_rule_with_its_doc(proj, capsys):
    _, doc = sarif(capsys, "migrations")
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "migcheck" and driver["semanticVersion"] == __version__
    rules = driver["rules"]
    all_rules = registry.load()
    assert [r["id"] for r in rules] == sorted(all_rules)
    for d in rules:
        rule = all_rules[d["id"]]
        assert d["shortDescription"]["text"] == rule.summary
        assert d["helpUri"] == f"https://github.com/migcheck/migcheck/blob/main/rules/{rule.id}.md"
        assert 0 < len(d["fullDescription"]["text"]) <= 1024  # GitHub's limit
        text = docs.read(rule.id)
        if text is None:  # a rule whose doc is still missing (test_docs.py fails for it)
            assert d["help"] == {"text": rule.summary}
            continue
        what = docs.sections(text).get("What it does", "").strip() or rule.summary
        assert d["fullDescription"]["markdown"] == what
        assert d["help"]["markdown"].strip() == text.split("\n", 1)[1].strip()  # the doc without its title
        assert "```" not in d["help"]["text"] and "## " not in d["help"]["text"]
        assert d["properties"]["tags"] == [rule.group]
    # severities and enabled follow the configuration
    by_id = {d["id"]: d for d in rules}
    assert by_id["sequence-gap"]["defaultConfiguration"] == {"level": "note", "enabled": True}
    assert by_id["drop-table"]["defaultConfiguration"] == {"level": "error", "enabled": True}
    assert by_id["truncate"]["defaultConfiguration"]["enabled"] is False  # not selected
    # every result points at its descriptor
    for r in doc["runs"][0]["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_clean_project_has_an_empty_results_array(project, capsys):
    (project / "migcheck.toml").write_text('select = ["drop-table"]\n')
    write(project, "migrations/20251022_001_ok.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    code, doc = sarif(capsys, "migrations")
    assert code == 0
    validate(doc)
    assert doc["runs"][0]["results"] == []  # upload-sarif requires the array


def test_deleted_path_and_file_outside_the_working_directory(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "x.sql"
    findings = [
        Finding("modified-migration", "error", "migrations/20250101_001_gone.sql", 1, 1, "deleted", "restore it"),
        Finding("drop-table", "error", str(outside), 2, 3, "m", "h", 4, 1),
        Finding("drop-table", "warning", "migrations/a.sql", 5, 9, "m", "h", 5, 2),  # end before start
    ]
    result = Result(findings, [], [InternalError("drop-table", "migrations/a.sql", "KeyError: 'x' (drop_table.py:3)")])
    doc = json.loads(render("sarif", result, {}))
    validate(doc)
    locs = [r["locations"][0]["physicalLocation"] for r in doc["runs"][0]["results"]]
    assert locs[0]["artifactLocation"] == {"uri": "migrations/20250101_001_gone.sql", "uriBaseId": "%SRCROOT%"}
    assert locs[1]["artifactLocation"] == {"uri": outside.as_uri()}
    assert locs[1]["region"] == {"startLine": 2, "startColumn": 3, "endLine": 4, "endColumn": 1}
    assert locs[2]["region"] == {"startLine": 5, "startColumn": 9, "endLine": 5}
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert inv["toolExecutionNotifications"][0]["level"] == "error"
    assert "drop-table" in inv["toolExecutionNotifications"][0]["message"]["text"]


def test_paths_relative_to_github_workspace(proj, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_WORKSPACE", str(proj.parent))
    _, doc = sarif(capsys, "migrations")
    validate(doc)
    run = doc["runs"][0]
    assert Path(unquote(urlparse(run["originalUriBaseIds"]["%SRCROOT%"]["uri"]).path)) == proj.parent
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert f"{proj.name}/migrations/20251022_003_gap.sql" in uris


def test_diff_findings_validate(project, capsys):
    """A finding on a deleted path (modified-migration) is still a valid result."""
    import shutil

    if shutil.which("git") is None:
        pytest.skip("needs git")
    from test_diff import git as run_git

    def git(*args):
        run_git(project, *args)

    (project / "migcheck.toml").write_text('select = ["modified-migration"]\n')
    write(project, "migrations/20250101_001_a.sql", "BEGIN;\nSELECT 1;\nCOMMIT;\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "x")
    (project / "migrations/20250101_001_a.sql").unlink()
    code, doc = sarif(capsys, "--diff", "main")
    assert code == 1
    validate(doc)
    (r,) = doc["runs"][0]["results"]
    assert r["ruleId"] == "modified-migration"
    assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "migrations/20250101_001_a.sql"


def test_partial_fingerprints_survive_moved_lines_and_stay_valid(proj, capsys):
    _, doc = sarif(capsys, "migrations")
    validate(doc)
    results = doc["runs"][0]["results"]
    prints = [r["partialFingerprints"]["migcheck/v1"] for r in results]
    assert all(re.fullmatch(r"[0-9a-f]{32}", p) for p in prints) and len(set(prints)) == len(prints)
    # lines inserted above every finding of a file: the same fingerprints, at other lines
    p = proj / "migrations/20251022_001_bad.sql"
    p.write_text("-- a note\n\n" + p.read_text())
    _, moved = sarif(capsys, "migrations")
    validate(moved)
    key = lambda r: (r["ruleId"], r["partialFingerprints"]["migcheck/v1"])  # noqa: E731
    assert sorted(map(key, moved["runs"][0]["results"])) == sorted(map(key, results))
    lines = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in moved["runs"][0]["results"]
        if "bad" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    }
    assert min(lines) >= 3
