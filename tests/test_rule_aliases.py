"""Other tools' rule ids (squawk's) as aliases, and "did you mean" for an unknown id: `--select`,
`--ignore`, the configuration's `select` / `ignore` / `severity`, `explain` and suppression
comments (registry.SQUAWK, registry.expand, registry.unknown)."""

import json

import pytest
from test_cli import run, write

from migcheck import registry

ROBUST = """\
BEGIN;
SET LOCAL lock_timeout = '5s';
CREATE TABLE leads_archive (id bigint PRIMARY KEY);
ALTER TABLE leads DROP CONSTRAINT leads_email_key;
COMMIT;
"""


def rules_of(out: str, suppressed: bool = False) -> list[str]:
    return sorted(f["rule"] for f in json.loads(out)["findings"] if f["suppressed"] == suppressed)


@pytest.fixture
def robust(project):
    (project / "migcheck.toml").write_text("changelog = false\n")
    write(project, "migrations/20251022_001_x.sql", ROBUST)
    return project


def test_a_squawk_id_expands_to_every_rule_it_stands_for():
    assert registry.expand("prefer-robust-stmts") == ("missing-if-not-exists", "missing-if-exists")
    assert registry.expand("renaming-column") == ("rename-column",)
    assert registry.expand("drop-table") == ("drop-table",)
    assert registry.expand("no-such-rule") == ()
    # one rule: resolve gives it; several: resolve cannot pick one
    assert registry.resolve("renaming-column") == "rename-column"
    assert registry.resolve("prefer-robust-stmts") is None


def test_every_squawk_id_maps_to_existing_rules():
    rules = registry.load()
    for squawk_id, ours in registry.SQUAWK.items():
        assert ours and all(r in rules for r in ours), (squawk_id, ours)


def test_select_with_a_squawk_id_runs_all_its_rules(robust, capsys):
    code, out, err = run(capsys, "check", "--format", "json", "--select", "prefer-robust-stmts", "migrations")
    assert code == 0, err  # both are warnings
    assert rules_of(out) == ["missing-if-exists", "missing-if-not-exists"]


def test_ignore_with_a_squawk_id_drops_all_its_rules(robust, capsys):
    code, out, err = run(
        capsys,
        "check",
        "--format",
        "json",
        "--select",
        "missing-if-exists,missing-if-not-exists,drop-object",
        "--ignore",
        "prefer-robust-stmts",
        "migrations",
    )
    assert rules_of(out) == ["drop-object"], err


def test_config_select_ignore_and_severity_expand_a_squawk_id(robust, capsys):
    (robust / "migcheck.toml").write_text(
        'changelog = false\nselect = ["prefer-robust-stmts", "drop-object"]\n'
        'severity = {"prefer-robust-stmts" = "error"}\n'
    )
    code, out, err = run(capsys, "check", "--format", "json", "migrations")
    found = {f["rule"]: f["severity"] for f in json.loads(out)["findings"]}
    assert found == {"missing-if-not-exists": "error", "missing-if-exists": "error", "drop-object": "warning"}, err
    assert code == 1
    (robust / "migcheck.toml").write_text(
        'changelog = false\nselect = ["prefer-robust-stmts", "drop-object"]\nignore = ["prefer-robust-stmts"]\n'
    )
    code, out, err = run(capsys, "check", "--format", "json", "migrations")
    assert rules_of(out) == ["drop-object"], err


def test_explain_a_squawk_id_explains_each_mapped_rule(capsys):
    code, out, err = run(capsys, "explain", "prefer-robust-stmts")
    assert code == 0, err
    assert out.startswith(
        "squawk's `prefer-robust-stmts` is covered by migcheck's `missing-if-not-exists`, `missing-if-exists`.\n"
    )
    assert "\n# missing-if-not-exists\n" in out and "\n# missing-if-exists\n" in out
    code, out, _ = run(capsys, "explain", "renaming-column")
    assert code == 0 and out.startswith("squawk's `renaming-column` is covered by migcheck's `rename-column`.\n")
    assert "# rename-column\n" in out
    code, out, _ = run(capsys, "explain", "drop-table")  # our own id: the doc alone
    assert out.startswith("# drop-table\n")


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["check", "--select", "drop-tabel", "x"],
            "migcheck: error: --select: unknown rule id 'drop-tabel' (see `migcheck rules`); did you mean `drop-table`?",
        ),
        (
            ["check", "--ignore", "prefer-robust-stmt", "x"],
            "migcheck: error: --ignore: unknown rule id 'prefer-robust-stmt' (see `migcheck rules`); "
            "did you mean `prefer-robust-stmts`?",
        ),
        (
            ["check", "--select", "safty", "x"],
            "migcheck: error: --select: unknown rule id 'safty' (see `migcheck rules`); did you mean `safety`?",
        ),
        (
            ["explain", "renaming-colum"],
            "migcheck: error: unknown rule id 'renaming-colum' (see `migcheck rules`); did you mean `renaming-column`?",
        ),
        (
            ["check", "--select", "zzzzzz", "x"],
            "migcheck: error: --select: unknown rule id 'zzzzzz' (see `migcheck rules`)\n",
        ),
    ],
)
def test_unknown_id_says_did_you_mean(project, capsys, argv, message):
    (project / "x").mkdir()
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(message), err


@pytest.mark.parametrize(
    "toml, message",
    [
        (
            'select = ["ban-drop-colum"]\n',
            "'select': unknown rule id 'ban-drop-colum' (see `migcheck rules`); did you mean `ban-drop-column`?",
        ),
        ('ignore = ["drop-tabel"]\n', "did you mean `drop-table`?"),
        (
            'severity = {"drop-tabel" = "error"}\n',
            "'severity': unknown rule id 'drop-tabel' (see `migcheck rules`); did you mean `drop-table`?",
        ),
    ],
)
def test_unknown_id_in_config_says_did_you_mean(project, capsys, toml, message):
    (project / "migcheck.toml").write_text(toml)
    write(project, "migrations/20251022_001_x.sql", "SELECT 1;\n")
    code, out, err = run(capsys, "check", "migrations")
    assert code == 2 and out == ""
    assert message in err, err


def test_unknown_id_in_a_suppression_comment_says_did_you_mean(project, capsys):
    (project / "migcheck.toml").write_text('changelog = false\nselect = ["drop-table", "unknown-rule"]\n')
    write(
        project,
        "migrations/20251022_001_x.sql",
        "BEGIN;\n-- migcheck: ignore drop-tabel -- replaced by v2, approved in #12\nDROP TABLE IF EXISTS t;\nCOMMIT;\n",
    )
    code, out, _ = run(capsys, "check", "--format", "json", "migrations")
    unknown = [f for f in json.loads(out)["findings"] if f["rule"] == "unknown-rule"]
    assert len(unknown) == 1 and unknown[0]["line"] == 2
    assert "'drop-tabel'" in unknown[0]["message"] and "did you mean `drop-table`?" in unknown[0]["message"]


def test_a_suppression_with_a_squawk_id_covers_all_its_rules_and_is_used_once(project, capsys):
    (project / "migcheck.toml").write_text(
        'changelog = false\nselect = ["missing-if-not-exists", "missing-if-exists", "unused-suppression"]\n'
    )
    write(
        project,
        "migrations/20251022_001_x.sql",
        "BEGIN;\n-- migcheck: ignore prefer-robust-stmts -- created once by the release script\n"
        "CREATE TABLE leads_archive (id bigint PRIMARY KEY);\nCOMMIT;\n",
    )
    code, out, err = run(capsys, "check", "--format", "json", "migrations")
    doc = json.loads(out)
    assert [(f["rule"], f["suppressed"]) for f in doc["findings"]] == [("missing-if-not-exists", True)], err
    assert code == 0


def test_per_file_ignores_expand_a_squawk_id(robust, capsys):
    (robust / "migcheck.toml").write_text(
        'changelog = false\nselect = ["missing-if-exists", "missing-if-not-exists", "drop-object"]\n'
        '[per-file-ignores]\n"migrations/*" = ["prefer-robust-stmts"]\n'
    )
    code, out, err = run(capsys, "check", "--format", "json", "migrations")
    assert rules_of(out) == ["drop-object"], err
