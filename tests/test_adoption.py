"""Adopting migcheck on a repository with history: the baseline (`check --write-baseline`), and
the configuration's `exclude`, `extend-exclude` and `per-file-ignores`."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from migcheck.cli import main

REPO = Path(__file__).resolve().parent.parent

# Migrations as teams wrote them before any linter: no header, no transaction, no IF [NOT] EXISTS,
# destructive statements, the same flaw many times in one file.
LEGACY = [
    "CREATE TABLE accounts_{n} (id serial PRIMARY KEY, email varchar(255));\nCREATE INDEX ON accounts_{n} (email);\n",
    "ALTER TABLE accounts_{m} ADD COLUMN note text;\nALTER TABLE accounts_{m} ADD COLUMN score int NOT NULL DEFAULT 0;\n",
    "BEGIN;\nDROP TABLE old_{n};\nDELETE FROM accounts_{m};\nCOMMIT;\n",
    "UPDATE accounts_{m} SET note = 'x';\nUPDATE accounts_{m} SET note = 'x';\n",
    "BEGIN;\nALTER TABLE accounts_{m} RENAME COLUMN note TO remark;\nCREATE INDEX idx_{n} ON accounts_{m} (remark);\nCOMMIT;\n",
    "CREAT TABLE broken_{n} (id int);\n",
]
NEW_BAD = "BEGIN;\nDROP TABLE accounts_1;\nCOMMIT;\n"
HEADER = textwrap.dedent("""\
    -- =====================================================
    -- MIGRATION: Add the audit table
    -- =====================================================
    -- Purpose: Keep an audit trail of account changes.
    -- Impact: New table only.
    -- Rollback: rollback/{v}_rollback.sql drops it.
    -- Testing: Applied twice and rolled back on staging.
    -- =====================================================
    """)
GOOD = (
    "BEGIN;\nSET LOCAL lock_timeout = '5s';\nCREATE TABLE IF NOT EXISTS audit_{n} (id bigint PRIMARY KEY);\n"
    "ALTER TABLE audit_{n} ENABLE ROW LEVEL SECURITY;\nCOMMIT;\n"
)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def legacy_repo(root: Path, count: int = 36) -> Path:
    """A repository with ``count`` old migrations (some with rollbacks) and a CHANGELOG."""
    mig = root / "migrations"
    (mig / "rollback").mkdir(parents=True)
    for i in range(1, count + 1):
        version = f"2023{(i - 1) // 28 + 1:02d}{(i - 1) % 28 + 1:02d}_{i:03d}"
        body = LEGACY[i % len(LEGACY)].format(n=i, m=max(i - 1, 1))
        (mig / f"{version}_legacy_change_{i}.sql").write_text(body)
        if i % 3:
            (mig / "rollback" / f"{version}_rollback.sql").write_text(f"DROP TABLE accounts_{i};\n")
    (root / "CHANGELOG.md").write_text("# Changelog\n")
    return mig


def add_new(root: Path, version: str, body: str, rollback: bool = True) -> Path:
    p = root / "migrations" / f"{version}_add_audit_table.sql"
    p.write_text(HEADER.format(v=version) + "\n" + body)
    if rollback:
        (root / "migrations" / "rollback" / f"{version}_rollback.sql").write_text(
            "BEGIN;\nDROP TABLE IF EXISTS audit_1;\nCOMMIT;\n"
        )
    with open(root / "CHANGELOG.md", "a") as fh:
        fh.write(f"- {version}: add the audit table\n")
    return p


def findings(capsys, *argv):
    code, out, err = run(capsys, "check", "--format", "json", *argv)
    return code, json.loads(out), err


# --- the baseline ------------------------------------------------------------------------


def test_legacy_repository_passes_after_write_baseline_and_a_new_bad_migration_fails_alone(project, capsys):
    legacy_repo(project)
    code, doc, _ = findings(capsys)
    assert code == 1 and len(doc["findings"]) > 200  # what a first run on years of history looks like
    before = len([f for f in doc["findings"] if not f["suppressed"]])

    code, out, err = run(capsys, "check", "--write-baseline")
    assert code == 0
    assert err == f"migcheck: wrote {before} findings to migcheck-baseline.json\n"
    assert out == f"0 errors, 0 warnings in 60 files ({before} baselined)\n"
    written = json.loads((project / "migcheck-baseline.json").read_text())
    assert written["version"] == 1 and len(written["findings"]) == before
    assert set(written["findings"][0]) == {"path", "rule", "fingerprint", "line", "message"}

    code, out, err = run(capsys, "check")
    assert (code, err) == (0, "")
    assert out == f"0 errors, 0 warnings in 60 files ({before} baselined)\n"

    add_new(project, "20240101_037", NEW_BAD.replace("BEGIN;\n", "BEGIN;\nSET LOCAL lock_timeout = '5s';\n"))
    code, doc, err = findings(capsys)
    assert code == 1 and err == ""
    assert {(f["path"], f["rule"]) for f in doc["findings"]} == {
        ("migrations/20240101_037_add_audit_table.sql", "drop-table"),
        ("migrations/20240101_037_add_audit_table.sql", "missing-if-exists"),
        ("migrations/rollback/20240101_037_rollback.sql", "rollback-incomplete"),
    }  # it does not restore the table
    assert doc["summary"]["baselined"] == before and doc["summary"]["stale"] == 0


def test_a_finding_stays_baselined_when_lines_move_and_other_statements_change(project, capsys):
    mig = legacy_repo(project, count=6)
    run(capsys, "check", "--write-baseline")
    target = mig / "20230102_002_legacy_change_2.sql"  # BEGIN; DROP TABLE old_2; DELETE FROM accounts_1; COMMIT;
    text = target.read_text()
    assert "DROP TABLE old_2;" in text
    # lines above it, an edit to another statement of the file, CRLF line endings
    target.write_bytes(
        ("-- a comment\n\n\n" + text.replace("DELETE FROM accounts_1;", "DELETE  FROM accounts_1\n  ;"))
        .replace("\n", "\r\n")
        .encode()
    )
    code, doc, err = findings(capsys)
    assert (code, err, doc["findings"]) == (0, "", [])
    # a second DROP TABLE of the same text is new: the baseline had one
    target.write_text(text.replace("COMMIT;", "DROP TABLE old_2;\nCOMMIT;"))
    code, doc, _ = findings(capsys)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("drop-table", 4), ("missing-if-exists", 4)]
    # an edit to the statement itself makes its findings new (and the rollback's, which names the table)
    target.write_text(text.replace("DROP TABLE old_2;", "DROP TABLE old_two;"))
    code, doc, _ = findings(capsys)
    assert sorted(f["rule"] for f in doc["findings"]) == [
        "drop-table",
        "missing-if-exists",
        "require-lock-timeout",
        "rollback-incomplete",
    ]
    assert doc["summary"]["stale"] == 4  # the entries of the old statement


def test_a_fixed_finding_is_stale_then_drops_out_on_rewrite(project, capsys):
    mig = legacy_repo(project, count=6)
    run(capsys, "check", "--write-baseline")
    entries = json.loads((project / "migcheck-baseline.json").read_text())["findings"]
    target = mig / "20230101_001_legacy_change_1.sql"
    fixed = [e for e in entries if e["rule"] == "missing-header" and e["path"].endswith(target.name)]
    assert len(fixed) == 1
    # the header added above the statements: every other finding of the file moves down 9 lines
    target.write_text(HEADER.format(v="20230101_001") + "\n" + target.read_text())
    code, out, err = run(capsys, "check")
    assert code == 0
    assert err == (
        "migcheck: 1 entry of migcheck-baseline.json matches no finding any more (fixed, or the "
        "statement changed): `migcheck check --write-baseline` drops them\n"
    )
    assert out == f"0 errors, 0 warnings in 10 files ({len(entries) - 1} baselined)\n"
    code, out, err = run(capsys, "check", "--write-baseline")
    after = json.loads((project / "migcheck-baseline.json").read_text())["findings"]
    assert {e["fingerprint"] for e in entries} - {e["fingerprint"] for e in after} == {fixed[0]["fingerprint"]}
    assert len(after) == len(entries) - 1
    assert run(capsys, "check")[2] == ""  # nothing stale


def test_rewriting_for_some_files_or_rules_keeps_the_other_entries(project, capsys):
    legacy_repo(project, count=6)
    run(capsys, "check", "--write-baseline")
    entries = json.loads((project / "migcheck-baseline.json").read_text())["findings"]
    one = "migrations/20230101_001_legacy_change_1.sql"
    code, _, err = run(capsys, "check", one, "--select", "missing-if-not-exists", "--write-baseline")
    assert code == 0 and err == (
        f"migcheck: wrote 2 findings to migcheck-baseline.json (and kept {len(entries) - 2} "
        "of files or rules this run did not check)\n"
    )
    assert json.loads((project / "migcheck-baseline.json").read_text())["findings"] == entries
    # the entries of files outside the run are never stale, unless the file is gone
    assert run(capsys, "check", one)[:3:2] == (0, "")
    gone = "migrations/20230102_002_legacy_change_2.sql"
    (project / gone).unlink()
    code, _, err = run(capsys, "check", one)
    stale = sum(e["path"] == gone for e in entries)
    assert (code, err) == (
        0,
        f"migcheck: {stale} entries of migcheck-baseline.json match no finding any more (fixed, "
        "or the statement changed): `migcheck check --write-baseline` drops them\n",
    )
    run(capsys, "check", one, "--write-baseline")
    after = json.loads((project / "migcheck-baseline.json").read_text())["findings"]
    assert after == [e for e in entries if e["path"] != gone]


def test_baseline_options_and_config(project, capsys):
    legacy_repo(project, count=6)
    (project / "migcheck.toml").write_text('baseline = "ci/accepted.json"\n')
    (project / "ci").mkdir()
    code, _, err = run(capsys, "check", "--write-baseline")
    assert code == 0 and err.startswith("migcheck: wrote ") and "ci/accepted.json" in err
    assert (project / "ci" / "accepted.json").is_file() and not (project / "migcheck-baseline.json").exists()
    assert run(capsys, "check")[0] == 0
    # from a subdirectory, the configuration's baseline still applies (paths relative to it)
    sub = project / "migrations"
    import os

    os.chdir(sub)
    code, out, _ = run(capsys, "check")
    assert code == 0 and "baselined" in out
    os.chdir(project)
    assert run(capsys, "check", "--no-baseline")[0] == 1
    # an explicit file
    code, _, err = run(capsys, "check", "--write-baseline=other.json")
    assert code == 0 and "other.json" in err and (project / "other.json").is_file()
    # turned off
    (project / "migcheck.toml").write_text("baseline = false\n")
    assert run(capsys, "check")[0] == 1
    code, _, err = run(capsys, "check", "--write-baseline")
    assert (code, err) == (
        2,
        "migcheck: error: `baseline = false` in the configuration: name the file to write, "
        "--write-baseline=FILE.json\n",
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "not valid JSON"),
        ('{"version": 2, "findings": []}', "not a migcheck baseline"),
        ('{"version": 1, "findings": [{"path": 1}]}', "not a migcheck baseline"),
    ],
)
def test_a_broken_baseline_is_a_usage_error(project, capsys, content, message):
    legacy_repo(project, count=2)
    (project / "migcheck-baseline.json").write_text(content)
    code, out, err = run(capsys, "check")
    assert code == 2 and out == ""
    assert err.startswith("migcheck: error: ") and message in err and err.count("\n") == 1


def test_write_baseline_value_must_be_a_json_file(project, capsys):
    legacy_repo(project, count=2)
    code, _, err = run(capsys, "check", "--write-baseline", "migrations")
    assert code == 2
    assert "'migrations' is not a .json file" in err and "migcheck check migrations --write-baseline" in err
    code, _, err = run(capsys, "check", "migrations", "--write-baseline")
    assert code == 0 and (project / "migcheck-baseline.json").is_file()


def test_baseline_with_diff_on_a_pull_request(project, capsys):
    """The CI recipe: --diff on pull requests, where the baseline applies to the changed files too
    (a legacy rollback edited above its findings), and the entries of the unchanged files are
    neither reported nor stale."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    from test_diff import git

    mig = legacy_repo(project, count=6)
    run(capsys, "check", "--write-baseline")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    add_new(project, "20240101_007", GOOD.format(n=1))
    legacy_rollback = mig / "rollback" / "20230101_001_rollback.sql"
    legacy_rollback.write_text("-- keep: the table is recreated by hand\n\n" + legacy_rollback.read_text())
    code, out, err = run(capsys, "check", "--diff", "main")
    assert (code, err) == (0, "")
    assert out == "0 errors, 0 warnings in 3 files (2 baselined)\n"  # the rollback's two, moved down


def test_json_summary_has_baselined_and_stale_only_with_a_baseline(project, capsys):
    legacy_repo(project, count=2)
    _, doc, _ = findings(capsys)
    assert set(doc["summary"]) == {"files", "errors", "warnings", "infos", "suppressed"}
    run(capsys, "check", "--write-baseline")
    _, doc, _ = findings(capsys)
    assert doc["summary"]["baselined"] > 0 and doc["summary"]["stale"] == 0 and doc["findings"] == []


# --- exclude, extend-exclude, per-file-ignores ----------------------------------------------


def test_exclude_and_extend_exclude_keep_files_out_of_the_report_not_out_of_the_project(project, capsys):
    mig = legacy_repo(project, count=6)
    (project / "migcheck.toml").write_text(
        'exclude = ["migrations/2023010[1-3]*", "migrations/rollback/2023010[1-3]*"]\n'
        'extend-exclude = ["*_legacy_change_5.sql"]\nchangelog = false\n'
    )
    code, doc, err = findings(capsys)
    paths = {f["path"] for f in doc["findings"]}
    assert paths == {
        "migrations/20230104_004_legacy_change_4.sql",
        "migrations/20230106_006_legacy_change_6.sql",
        "migrations/rollback/20230104_004_rollback.sql",
        "migrations/rollback/20230105_005_rollback.sql",
    }
    assert doc["summary"]["files"] == 4  # 6 migrations + 4 rollbacks, 6 excluded
    # the excluded migrations are still the new one's neighbours: its duplicate version is found
    add_new(project, "20230105_005", GOOD.format(n=1), rollback=False)
    (project / "migrations" / "20230105_005_add_audit_table.sql").rename(mig / "20230105_005_x_dup.sql")
    _, doc, _ = findings(capsys)
    assert ("duplicate-version", "migrations/20230105_005_x_dup.sql") in {
        (f["rule"], f["path"]) for f in doc["findings"]
    }
    # a file named on the command line that is excluded: said on stderr, not checked
    code, out, err = run(capsys, "check", "migrations/20230101_001_legacy_change_1.sql")
    assert code == 0 and out == "0 errors, 0 warnings in 0 files\n"
    assert err == (
        "migcheck: migrations/20230101_001_legacy_change_1.sql: excluded by `exclude`/`extend-exclude` "
        "in the configuration, not checked\n"
    )


def test_exclude_a_directory_by_name(project, capsys):
    legacy_repo(project, count=3)
    (project / "migrations" / "legacy").mkdir()
    (project / "migrations" / "legacy" / "x.sql").write_text("DROP TABLE x;\n")
    (project / "migcheck.toml").write_text('exclude = ["legacy"]\nchangelog = false\n')
    _, doc, _ = findings(capsys)
    assert not any("legacy/" in f["path"] for f in doc["findings"])


def test_per_file_ignores(project, capsys):
    legacy_repo(project, count=6)
    (project / "migcheck.toml").write_text(
        textwrap.dedent("""\
        changelog = false
        [per-file-ignores]
        "2023*" = ["convention", "missing-rollback-file"]
        "migrations/rollback" = ["missing-if-exists"]
        """)
    )
    _, doc, _ = findings(capsys)
    rules = {(f["rule"], f["path"].split("/")[1]) for f in doc["findings"]}
    assert not any(
        r in ("missing-header", "missing-transaction", "missing-rollback-file", "file-naming") for r, _ in rules
    )
    assert ("missing-if-exists", "rollback") not in rules
    assert ("drop-table", "20230102_002_legacy_change_2.sql") in rules  # safety rules still apply
    # a suppression of an ignored rule is not reported as unused
    p = project / "migrations" / "20230101_001_legacy_change_1.sql"
    p.write_text("-- migcheck: ignore-file missing-header -- predates the guidelines\n" + p.read_text())
    _, doc, _ = findings(capsys)
    assert not any(f["rule"] == "unused-suppression" for f in doc["findings"])


@pytest.mark.parametrize(
    "toml, message",
    [
        ('exclude = "migrations/old"\n', "'exclude' must be a list of glob patterns"),
        ('extend-exclude = ["/abs/path"]\n', "relative to the configuration file"),
        ('[per-file-ignores]\n"x.sql" = ["drop-tabel"]\n', "unknown rule id 'drop-tabel'"),
        ('per-file-ignores = ["x"]\n', "'per-file-ignores' must be a table of glob = [rule ids]"),
        ("baseline = 3\n", "'baseline' must be the path of the baseline file"),
    ],
)
def test_bad_adoption_config_exits_2(project, capsys, toml, message):
    (project / "migcheck.toml").write_text(toml)
    (project / "migrations").mkdir()
    code, _, err = run(capsys, "check")
    assert code == 2 and message in err and err.count("\n") == 1


def test_examples_baseline_round_trip(project, capsys):
    shutil.copytree(REPO / "examples", project / "examples")
    code, out, _ = run(capsys, "check", "examples/migrations", "--write-baseline")
    assert code == 0 and out == "0 errors, 0 warnings in 13 files (1 suppressed, 29 baselined)\n"
