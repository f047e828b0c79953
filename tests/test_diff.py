"""`check --diff REF` in real temporary git repositories: only added and modified migrations are
checked, cross-file rules still see the whole directory, and `modified-migration` reports the
migrations of REF that were edited or deleted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from migcheck.cli import main

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "migcheck tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "migcheck tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}

CONFIG = """\
select = ["drop-table", "missing-transaction", "missing-rollback-file", "duplicate-version", "modified-migration"]
changelog = false
"""

CLEAN = "BEGIN;\nCREATE TABLE IF NOT EXISTS {name} (id bigint);\nCOMMIT;\n"
ROLLBACK = "BEGIN;\nDROP TABLE IF EXISTS {name};\nCOMMIT;\n"


def git(root: Path, *args: str) -> str:
    env = dict(os.environ, **GIT_ENV)
    proc = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def migration(root: Path, version: str, desc: str, body: str | None = None, rollback: bool = True) -> None:
    write(root, f"migrations/{version}_{desc}.sql", body if body is not None else CLEAN.format(name=desc))
    if rollback:
        write(root, f"migrations/rollback/{version}_rollback.sql", ROLLBACK.format(name=desc))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(project):
    """main: three migrations (one with a DROP TABLE, untouched on the branch); the branch
    `feature` adds, edits and deletes; main moves on after the branch point."""
    git(project, "init", "-q")
    write(project, "migcheck.toml", CONFIG)
    # untouched, and bad: must not be reported, since it is not part of the change
    migration(project, "20250101_001", "create_leads", "BEGIN;\nDROP TABLE leads_old;\nCOMMIT;\n")
    migration(
        project,
        "20250102_002",
        "add_score",
        "BEGIN;\n-- score of a lead\nALTER TABLE leads ADD COLUMN IF NOT EXISTS score int;\nCOMMIT;\n",
    )
    migration(project, "20250103_003", "create_notes")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "main")
    git(project, "checkout", "-q", "-b", "feature")
    # main moves on: a migration only on main is not "deleted" on the branch (merge base)
    git(project, "checkout", "-q", "main")
    migration(project, "20250106_006", "main_only")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "main moves on")
    git(project, "checkout", "-q", "feature")
    # committed on the branch: an added migration (bad) and an edited one
    migration(project, "20250104_004", "drop_old", "BEGIN;\nDROP TABLE old_stuff;\nCOMMIT;\n")
    write(
        project,
        "migrations/20250102_002_add_score.sql",
        "BEGIN;\n-- score of a lead\nALTER TABLE leads ADD COLUMN IF NOT EXISTS score bigint;\nCOMMIT;\n",
    )
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "feature")
    # uncommitted: a deleted migration, an untracked one without rollback, a staged one
    git(project, "rm", "-q", "migrations/20250103_003_create_notes.sql")
    migration(project, "20250105_005", "untracked", rollback=False)
    migration(project, "20250107_007", "staged")
    git(project, "add", "migrations/20250107_007_staged.sql", "migrations/rollback/20250107_007_rollback.sql")
    return project


def findings(out: str) -> list[tuple[str, str, int, int]]:
    doc = json.loads(out)
    return [(f["rule"], f["path"], f["line"], f["column"]) for f in doc["findings"]]


def test_diff_checks_added_and_modified_only(repo, capsys):
    code, out, err = run(capsys, "check", "--diff", "main", "--format", "json")
    assert err == ""
    assert code == 1
    doc = json.loads(out)
    assert sorted(f["path"] for f in doc["files"]) == [
        "migrations/20250102_002_add_score.sql",  # modified (committed)
        "migrations/20250104_004_drop_old.sql",  # added (committed)
        "migrations/20250105_005_untracked.sql",  # untracked
        "migrations/20250107_007_staged.sql",  # staged
        "migrations/rollback/20250104_004_rollback.sql",
        "migrations/rollback/20250107_007_rollback.sql",
    ]
    assert findings(out) == [
        ("modified-migration", "migrations/20250102_002_add_score.sql", 3, 1),
        ("modified-migration", "migrations/20250103_003_create_notes.sql", 1, 1),
        ("drop-table", "migrations/20250104_004_drop_old.sql", 2, 1),
        # the rollback of 005 is looked for among the siblings: it does not exist
        ("missing-rollback-file", "migrations/20250105_005_untracked.sql", 1, 1),
    ]
    modified, deleted = doc["findings"][0], doc["findings"][1]
    assert "already existed at main (merge base" in modified["message"]
    assert "first change at line 3" in modified["message"]
    assert "git restore --source" in modified["help"]
    assert "was deleted since" in deleted["message"]
    # the deleted path is reported although it no longer exists, and is not a checked file
    assert not (repo / deleted["path"]).exists()


def test_without_diff_everything_is_checked_and_nothing_is_modified(repo, capsys):
    code, out, _ = run(capsys, "check", "--format", "json")
    rules = {f[0] for f in findings(out)}
    assert "modified-migration" not in rules
    assert ("drop-table", "migrations/20250101_001_create_leads.sql", 2, 1) in findings(out)


def test_cross_file_rules_see_unchanged_siblings(repo, capsys):
    # an added migration that reuses the version of an untouched one
    migration(repo, "20250101_001", "dup_of_first", rollback=False)
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    dup = [f for f in json.loads(out)["findings"] if f["rule"] == "duplicate-version"]
    assert [(f["path"], f["line"]) for f in dup] == [("migrations/20250101_001_dup_of_first.sql", 1)]
    assert "20250101_001_create_leads.sql" in dup[0]["message"]
    # its rollback file is the untouched sibling's: no missing-rollback-file for it
    paths = {(f[0], f[1]) for f in findings(out)}
    assert ("missing-rollback-file", "migrations/20250101_001_dup_of_first.sql") not in paths


def test_untouched_explicit_file_is_not_reported(repo, capsys):
    code, out, _ = run(
        capsys, "check", "--diff", "main", "--format", "json", "migrations/20250101_001_create_leads.sql"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["findings"] == [] and doc["files"] == []


def test_diff_against_the_branch_itself_only_sees_uncommitted_changes(repo, capsys):
    code, out, _ = run(capsys, "check", "--diff", "HEAD", "--format", "json")
    assert sorted(f["path"] for f in json.loads(out)["files"]) == [
        "migrations/20250105_005_untracked.sql",
        "migrations/20250107_007_staged.sql",
        "migrations/rollback/20250107_007_rollback.sql",
    ]
    assert ("modified-migration", "migrations/20250103_003_create_notes.sql", 1, 1) in findings(out)


def test_mode_change_only_is_not_an_edit(repo, capsys):
    os.chmod(repo / "migrations/20250101_001_create_leads.sql", 0o755)
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert not [f for f in findings(out) if f[1].endswith("20250101_001_create_leads.sql")]


def test_renamed_migration_is_deleted_plus_added(repo, capsys):
    git(repo, "mv", "migrations/20250101_001_create_leads.sql", "migrations/20250101_001_create_lead.sql")
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    got = findings(out)
    assert ("modified-migration", "migrations/20250101_001_create_leads.sql", 1, 1) in got
    # the new name is checked like any added file
    assert ("drop-table", "migrations/20250101_001_create_lead.sql", 2, 1) in got


def test_deleted_rollback_file_is_not_reported(repo, capsys):
    git(repo, "rm", "-q", "migrations/rollback/20250101_001_rollback.sql")
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert not [f for f in findings(out) if "rollback/20250101_001" in f[1]]


def test_suppressed_with_a_reason(repo, capsys):
    write(
        repo,
        "migrations/20250102_002_add_score.sql",
        "-- migcheck: ignore-file modified-migration -- never deployed, checked with the release log\n"
        "BEGIN;\nALTER TABLE leads ADD COLUMN IF NOT EXISTS score bigint;\nCOMMIT;\n",
    )
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    mm = [f for f in json.loads(out)["findings"] if f["path"].endswith("002_add_score.sql")]
    assert [(f["rule"], f["suppressed"]) for f in mm] == [("modified-migration", True)]


def test_from_a_subdirectory(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo / "migrations")
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    got = findings(out)
    assert ("modified-migration", "20250102_002_add_score.sql", 3, 1) in got
    assert ("modified-migration", "20250103_003_create_notes.sql", 1, 1) in got
    assert ("drop-table", "20250104_004_drop_old.sql", 2, 1) in got
    assert not [f for f in got if "20250101_001" in f[1]]


def test_paths_through_a_symbolic_link(repo, capsys, tmp_path_factory):
    """git names files by their real path; a path given through a link to the repository is
    still recognised as the same file."""
    link = tmp_path_factory.mktemp("elsewhere") / "link"
    link.symlink_to(repo, target_is_directory=True)
    code, out, err = run(capsys, "check", "--diff", "main", "--format", "json", str(link / "migrations"))
    assert err == ""
    got = {(rule, Path(path).name) for rule, path, _, _ in findings(out)}
    assert got == {
        ("modified-migration", "20250102_002_add_score.sql"),
        ("modified-migration", "20250103_003_create_notes.sql"),
        ("drop-table", "20250104_004_drop_old.sql"),
        ("missing-rollback-file", "20250105_005_untracked.sql"),
    }


def test_text_output_names_the_deleted_file(repo, capsys):
    code, out, _ = run(capsys, "check", "--diff", "main")
    assert (
        "migrations/20250103_003_create_notes.sql:1:1: error[modified-migration] migration "
        "20250103_003_create_notes.sql already existed at main" in out
    )


# --- errors -------------------------------------------------------------------------------


def _one_line_error(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_not_a_git_repository(project, capsys, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.parent))
    write(project, "migcheck.toml", CONFIG)
    migration(project, "20250101_001", "a")
    err = _one_line_error(capsys, "check", "--diff", "main")
    assert err.startswith("migcheck: error: --diff needs a git repository"), err


def test_unknown_ref(repo, capsys):
    err = _one_line_error(capsys, "check", "--diff", "origin/nope")
    assert err == "migcheck: error: --diff: unknown git ref 'origin/nope'"
    git(repo, "remote", "add", "origin", "https://example.invalid/x.git")
    err = _one_line_error(capsys, "check", "--diff", "origin/nope")
    assert err == "migcheck: error: --diff: unknown git ref 'origin/nope' (fetch it first: `git fetch origin nope`)"
    assert _one_line_error(capsys, "check", "--diff=-x") == "migcheck: error: --diff: '-x' is not a git ref"


def test_no_common_ancestor(repo, capsys):
    git(repo, "checkout", "-q", "--orphan", "other")
    git(repo, "commit", "-q", "-m", "unrelated")
    err = _one_line_error(capsys, "check", "--diff", "main")
    assert err == "migcheck: error: --diff: 'main' and HEAD have no common ancestor"


def test_shallow_clone_hint(repo, capsys, tmp_path_factory, monkeypatch):
    git(repo, "commit", "-q", "-m", "wip")
    clone = tmp_path_factory.mktemp("shallow") / "c"
    git(repo, "clone", "-q", "--depth", "1", "--branch", "feature", "--no-single-branch", repo.as_uri(), str(clone))
    monkeypatch.chdir(clone)
    err = _one_line_error(capsys, "check", "--diff", "origin/main")
    assert "no common ancestor (this clone is shallow" in err and "fetch-depth: 0" in err


def test_git_plumbing_is_not_imported_without_diff(repo):
    code = (
        "import sys; from migcheck.cli import main; main(['check', '--format', 'json']); "
        "print([m for m in ('migcheck.gitdiff', 'migcheck.report.sarif_report', "
        "'migcheck.report.github_report') if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout + proc.stderr
