"""The pre-commit hook for real: `.pre-commit-hooks.yaml` installed by the pre-commit tool into its
own virtualenv, run on staged migrations in a temporary git repository.

pre-commit installs a hook from a git commit, so the working tree of this repository (what is
under test, committed or not) is copied into a temporary git repository and committed there;
that works the same on a developer's machine with uncommitted changes and in CI on a fresh clone.
Installing the hook needs the package index (pip installs migcheck's dependencies), nothing else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.precommit,
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
]

REPO = Path(__file__).resolve().parent.parent
# what pip needs to build and install migcheck from a checkout, and the hook definition
HOOK_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "src", "rules")
TIMEOUT = 900  # installing the hook's environment downloads pglast and click

GOOD = """\
-- =====================================================
-- MIGRATION: Add lead score
-- =====================================================
-- Purpose: Store a score per lead
-- Impact: New nullable column, no rewrite
-- Rollback: migrations/rollback/{version}_rollback.sql
-- Testing: Applied and rolled back on a copy of staging
-- =====================================================
BEGIN;
ALTER TABLE leads ADD COLUMN IF NOT EXISTS score_{version} integer;
COMMIT;
"""
ROLLBACK = "BEGIN;\nALTER TABLE leads DROP COLUMN IF EXISTS score_{version};\nCOMMIT;\n"
BAD = GOOD.replace("COMMIT;", "DROP TABLE leads_old;\nCOMMIT;")
CONFIG = """\
select = ["parse-error", "file-naming", "duplicate-version", "missing-header", "missing-transaction",
          "missing-rollback-file", "drop-table"]
changelog = false
"""


def _env() -> dict[str, str]:
    # nothing of an enclosing git hook or pre-commit run may leak in (GIT_INDEX_FILE, SKIP, ...)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT")) and k != "SKIP"}
    env.update(
        GIT_AUTHOR_NAME="migcheck tests",
        GIT_AUTHOR_EMAIL="tests@example.invalid",
        GIT_COMMITTER_NAME="migcheck tests",
        GIT_COMMITTER_EMAIL="tests@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple[Path, str]:
    """This repository's working tree, committed in a temporary repository: (path, commit)."""
    dest = tmp_path_factory.mktemp("hook") / "migcheck"
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".*cache*")
    for name in HOOK_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dest / name)
    assert (dest / ".pre-commit-hooks.yaml").is_file()
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "migcheck under test")
    return dest, git(dest, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    """One pre-commit store for the module: the hook's environment is installed once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = _env()
    env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")


def add_migration(root: Path, version: str, desc: str, text: str = GOOD, rollback: bool = True) -> str:
    rel = f"migrations/{version}_{desc}.sql"
    write(root, rel, text.format(version=version))
    if rollback:
        write(root, f"migrations/rollback/{version}_rollback.sql", ROLLBACK.format(version=version))
    return rel


@pytest.fixture
def project(tmp_path, hook_repo) -> Path:
    """A git repository with one committed migration and the example pre-commit configuration,
    pointed at the copy of this repository."""
    import yaml  # pre-commit depends on PyYAML

    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "migcheck.toml", CONFIG)
    add_migration(root, "20250101_001", "create_leads")
    path, rev = hook_repo
    config = yaml.safe_load((REPO / "ci-examples" / "pre-commit-config.yaml").read_text(encoding="utf-8"))
    (repo_entry,) = config["repos"]
    repo_entry["repo"], repo_entry["rev"] = str(path), rev
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first migration")
    return root


def output(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


def test_hook_definition():
    import yaml

    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "migcheck"
    assert hook["entry"] == "migcheck check --"  # file names are never options (issue 26)
    assert hook["language"] == "python"
    assert hook["types"] == ["sql"]
    assert hook["require_serial"] is True  # one process: one detection line, one summary (migcheck has its own pool)


def test_try_repo_fails_on_a_bad_migration(tmp_path, hook_repo):
    """`pre-commit try-repo`, the hook author's check, on a migration with a DROP TABLE."""
    root = tmp_path / "p"
    root.mkdir()
    git(root, "init", "-q")
    write(root, "migcheck.toml", CONFIG)
    bad = add_migration(root, "20250101_001", "drop_old", BAD)
    git(root, "add", "-A")
    proc = pre_commit(
        root, tmp_path / "home", "try-repo", str(hook_repo[0]), "migcheck", "--files", bad, "--color", "never"
    )
    out = output(proc)
    assert proc.returncode == 1, out
    assert "migcheck" in out and "Failed" in out
    assert f"{bad}:11:1: error[drop-table] DROP TABLE leads_old" in out


def test_passes_on_a_good_staged_migration(project, pre_commit_home):
    add_migration(project, "20250102_002", "add_score")
    git(project, "add", "-A")
    proc = pre_commit(project, pre_commit_home, "run", "--color", "never")
    out = output(proc)
    assert proc.returncode == 0, out
    assert "migcheck" in out and "Passed" in out


def test_fails_on_a_bad_staged_migration(project, pre_commit_home):
    bad = add_migration(project, "20250102_002", "drop_old", BAD)
    git(project, "add", "-A")
    proc = pre_commit(project, pre_commit_home, "run", "--color", "never")
    out = output(proc)
    assert proc.returncode == 1, out
    assert "Failed" in out
    assert f"{bad}:11:1: error[drop-table] DROP TABLE leads_old" in out


def test_cross_file_rules_see_the_unstaged_siblings(project, pre_commit_home):
    """pre-commit passes only the staged files: the committed migration and the committed
    rollback files are still read, so duplicate-version fires and missing-rollback-file does not."""
    # a rollback committed ahead of its migration
    write(project, "migrations/rollback/20250103_003_rollback.sql", ROLLBACK.format(version="20250103_003"))
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "rollback first")
    dup = add_migration(project, "20250101_001", "create_leads_again", rollback=False)
    later = add_migration(project, "20250103_003", "add_score", rollback=False)
    git(project, "add", dup, later)
    proc = pre_commit(project, pre_commit_home, "run", "--color", "never")
    out = output(proc)
    assert proc.returncode == 1, out
    assert (
        f"{dup}:1:1: error[duplicate-version]" in out and "`20250101_001_create_leads.sql` (first in path order)" in out
    ), out
    assert "missing-rollback-file" not in out, out
    # only the staged files are reported
    assert "20250101_001_create_leads.sql:" not in out


def test_only_sql_files_run_the_hook(project, pre_commit_home):
    write(project, "README.md", "# notes\n")
    git(project, "add", "README.md")
    proc = pre_commit(project, pre_commit_home, "run", "--color", "never")
    out = output(proc)
    assert proc.returncode == 0, out
    assert "(no files to check)" in out and "Skipped" in out


def test_run_on_named_files(project, pre_commit_home):
    """`pre-commit run --files` (what CI runs on a branch) with a file that has no rollback."""
    rel = add_migration(project, "20250104_004", "no_rollback", rollback=False)
    git(project, "add", "-A")
    proc = pre_commit(project, pre_commit_home, "run", "--color", "never", "--files", rel)
    out = output(proc)
    assert proc.returncode == 1, out
    assert f"{rel}:1:1: error[missing-rollback-file]" in out


def test_a_file_name_that_looks_like_an_option_stays_a_file_name(project, pre_commit_home):
    """A staged `--config=evil.sql` beside a staged `evil.sql` holding TOML that turns every rule
    off: before, click read the name as `--config evil.sql` and the bad migration passed. (The
    hook without `files:`, as a project that keeps its migrations at the root has it.)"""
    import yaml

    cfg = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    del cfg["repos"][0]["hooks"][0]["files"]
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    write(project, "evil.sql", 'select = ["sequence-gap"]\nignore = ["parse-error"]\n')
    write(project, "--config=evil.sql", "SELECT 1;\n")
    bad = add_migration(project, "20250102_002", "drop_old", BAD)
    git(project, "add", "-A")
    proc = pre_commit(project, pre_commit_home, "run", "--color", "never")
    out = output(proc)
    assert proc.returncode == 1, out
    assert f"{bad}:11:1: error[drop-table] DROP TABLE leads_old" in out
    assert "--config=evil.sql:1:1:" in out  # checked as a file


def test_options_in_the_entry_before_the_double_dash(project, pre_commit_home):
    """The documented way to pass options: the user's own `entry:` ending in `--`."""
    import yaml

    cfg = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    cfg["repos"][0]["hooks"][0]["entry"] = "migcheck check --fail-on warning --"
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    write(project, "migcheck.toml", CONFIG.replace('"drop-table"]', '"drop-table", "sequence-gap"]'))
    add_migration(project, "20250102_005", "add_score")  # skips 002-004: sequence-gap, a warning
    git(project, "add", "-A")
    proc = pre_commit(project, pre_commit_home, "run", "--color", "never")
    out = output(proc)
    assert proc.returncode == 1, out
    assert "warning[sequence-gap]" in out


def test_all_files_gives_one_detection_line_and_one_summary(tmp_path, hook_repo, pre_commit_home):
    """`pre-commit run --all-files` on a large diesel repository: pre-commit would start one hook
    process per slice of the files (one per CPU), each printing its own detection line and its own
    partial summary; with require_serial there is one of each."""
    import yaml

    root = tmp_path / "diesel"
    root.mkdir()
    git(root, "init", "-q")
    for i in range(1, 41):
        d = f"migrations/2024-01-01-{i:06d}_create_t{i}"
        write(root, f"{d}/up.sql", f"CREATE TABLE t{i} (id bigint PRIMARY KEY);\n")
        write(root, f"{d}/down.sql", f"DROP TABLE t{i};\n")
    path, rev = hook_repo
    config = {"repos": [{"repo": str(path), "rev": rev, "hooks": [{"id": "migcheck"}]}]}
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "migrations")
    proc = pre_commit(root, pre_commit_home, "run", "--all-files", "--color", "never", "--verbose")
    out = output(proc)
    assert proc.returncode == 0, out
    assert out.count("migcheck: detected diesel layout") == 1, out
    assert out.count(" in 80 files") == 1 and out.count(" files\n") == 1, out
