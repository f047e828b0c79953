"""The CI integrations as files users copy: ci-examples/*.yml and action.yml parse, and their
migcheck commands run for real against temporary git repositories (the scripts of the GitHub
Action and of the GitLab job are executed by bash, with `migcheck` on PATH)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")  # PyYAML comes with pre-commit, a test dependency

from migcheck.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "ci-examples"
needs_git = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                               reason="needs git and bash")

CONFIG = 'select = ["drop-table", "missing-transaction", "modified-migration"]\nchangelog = false\n'
OK = "BEGIN;\nCREATE TABLE IF NOT EXISTS t{n} (id bigint);\nCOMMIT;\n"
BAD = "BEGIN;\nDROP TABLE old_{n};\nCOMMIT;\n"


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_", "CI_"))}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1")
    env.update(extra)
    return env


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args], cwd=cwd,
                   env=_env(), check=True, capture_output=True)


def write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")


@pytest.fixture
def tools(tmp_path) -> Path:
    """A directory with `migcheck` and `python3` commands that run this interpreter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, args in (("migcheck", "-m migcheck"), ("python3", "")):
        p = bin_dir / name
        p.write_text(f'#!/bin/sh\nexec "{sys.executable}" {args} "$@"\n')
        p.chmod(0o755)
    return bin_dir


@pytest.fixture
def origin(tmp_path) -> Path:
    """A bare repository: `main` with an untouched (bad) migration and one the branch edits;
    `feature` adds a bad migration and edits the other."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    write(work, "migcheck.toml", CONFIG)
    write(work, "migrations/20250101_001_old.sql", BAD.format(n=1))
    write(work, "migrations/20250102_002_edited.sql", OK.format(n=2))
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "main")
    git(work, "checkout", "-q", "-b", "feature")
    write(work, "migrations/20250103_003_new.sql", BAD.format(n=3))
    write(work, "migrations/20250102_002_edited.sql", OK.format(n=2).replace("bigint", "integer"))
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "feature")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def clone(origin: Path, dest: Path, *args: str) -> Path:
    git(origin.parent, "clone", "-q", *args, "--branch", "feature", origin.as_uri(), str(dest))
    return dest


# --- pre-commit -----------------------------------------------------------------------------

def test_pre_commit_config_example(project):
    config = load(EXAMPLES / "pre-commit-config.yaml")
    (repo,) = config["repos"]
    assert repo["repo"] == "https://github.com/migcheck/migcheck"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"])
    (hook,) = repo["hooks"]
    (definition,) = load(REPO / ".pre-commit-hooks.yaml")
    assert hook["id"] == definition["id"] == "migcheck"
    files = re.compile(hook["files"])
    assert files.search("migrations/20250101_001_x.sql") and not files.search("db/seeds.sql")
    # the hook's command line, as pre-commit builds it: entry + args + the staged files
    write(project, "migcheck.toml", CONFIG)
    write(project, "migrations/20250101_001_x.sql", BAD.format(n=1))
    argv = shlex.split(definition["entry"]) + list(hook.get("args", [])) + ["migrations/20250101_001_x.sql"]
    assert argv[0] == "migcheck"
    assert main(argv[1:]) == 1


# --- GitHub -----------------------------------------------------------------------------------

def test_github_workflow_example():
    wf = load(EXAMPLES / "github-workflow.yml")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on
    (job,) = wf["jobs"].values()
    steps = job["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    use = next(s for s in steps if s.get("uses", "").startswith("migcheck/migcheck@"))
    inputs = load(REPO / "action.yml")["inputs"]
    assert set(use.get("with", {})) <= set(inputs)
    if str(use["with"].get("sarif", "false")).lower() == "true":
        assert job["permissions"]["security-events"] == "write"


def test_action_definition():
    action = load(REPO / "action.yml")
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    install = next(s for s in steps if s.get("id") == "install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert "pip install" in install["run"] and '"$ACTION_PATH"' in install["run"]
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["if"] == "inputs.sarif == 'true'"
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            # inputs reach scripts through env only: an expression in a script is an injection
            assert "${{" not in step["run"], step["name"]


class ActionRunner:
    """Runs the `run:` steps of action.yml the way a GitHub runner does (bash -eo pipefail, the
    step's env and working directory), with the expressions the action uses filled in."""

    def __init__(self, workspace: Path, tools: Path, temp: Path, inputs: dict[str, str]):
        self.action = load(REPO / "action.yml")
        self.inputs = {k: str(v.get("default", "")) for k, v in self.action["inputs"].items()}
        self.inputs["base-ref"] = ""  # the default is ${{ github.base_ref }}
        self.inputs.update(inputs)
        self.workspace, self.tools, self.temp = workspace, tools, temp
        self.context = {"github.action_path": str(REPO), "runner.temp": str(temp),
                        "steps.install.outputs.bin": str(tools / "migcheck"),
                        "steps.python.outputs.python-path": sys.executable}

    def expr(self, text: str) -> str:
        def value(m):
            key = m.group(1)
            if key.startswith("inputs."):
                return self.inputs[key[len("inputs."):]]
            return self.context[key]
        return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", value, str(text))

    def condition(self, cond: str | None) -> bool:
        if cond is None:
            return True
        m = re.fullmatch(r"inputs\.([\w-]+) (==|!=) '(.*)'", cond)
        assert m, f"unsupported condition in action.yml: {cond}"
        equal = self.inputs[m.group(1)] == m.group(3)
        return equal if m.group(2) == "==" else not equal

    def run(self, step_name: str) -> subprocess.CompletedProcess | None:
        step = next(s for s in self.action["runs"]["steps"] if s.get("name") == step_name)
        if not self.condition(step.get("if")):
            return None
        env = _env(GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(self.workspace), RUNNER_TEMP=str(self.temp),
                   PATH=f"{self.tools}{os.pathsep}{os.environ['PATH']}")
        env.update({k: self.expr(v) for k, v in step.get("env", {}).items()})
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        cwd = self.workspace / self.expr(step.get("working-directory", "."))
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@needs_git
def test_action_on_a_pull_request_from_a_shallow_checkout(origin, tools, tmp_path):
    # actions/checkout's default: one commit, one branch
    ws = clone(origin, tmp_path / "ws", "--depth", "1")
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    runner = ActionRunner(ws, tools, temp, {"base-ref": "main", "sarif": "true"})
    fetch = runner.run("Fetch the base branch")
    assert fetch.returncode == 0, fetch.stderr
    sarif_step = runner.run("SARIF for code scanning")
    assert sarif_step.returncode == 0, sarif_step.stderr  # findings do not fail this step
    doc = json.loads((temp / "migcheck.sarif").read_text())
    from test_sarif import validate

    validate(doc)
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} == {"drop-table", "modified-migration"}

    check = runner.run("migcheck check")
    assert check.returncode == 1, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert any(l.startswith("::error file=migrations/20250103_003_new.sql,line=2,col=1,") and
               "title=migcheck(drop-table)" in l for l in lines), check.stdout
    assert any(l.startswith("::error file=migrations/20250102_002_edited.sql,line=2,col=1,") and
               "title=migcheck(modified-migration)" in l for l in lines), check.stdout
    assert not any("20250101_001_old.sql" in l for l in lines)  # untouched by the pull request
    assert lines[-1] == "2 errors, 0 warnings in 2 files"


@needs_git
def test_action_on_a_push_checks_everything(origin, tools, tmp_path):
    ws = clone(origin, tmp_path / "ws", "--depth", "1")
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    runner = ActionRunner(ws, tools, temp, {"args": "--fail-on warning", "paths": "migrations"})
    assert runner.run("Fetch the base branch") is None  # no base branch on a push
    assert runner.run("SARIF for code scanning") is None  # sarif defaults to false
    check = runner.run("migcheck check")
    assert check.returncode == 1, check.stderr
    files = {re.search(r"file=([^,]+)", l).group(1) for l in check.stdout.splitlines() if l.startswith("::")}
    assert files == {"migrations/20250101_001_old.sql", "migrations/20250103_003_new.sql"}


# --- GitLab -----------------------------------------------------------------------------------

@needs_git
def test_gitlab_job(origin, tools, tmp_path):
    ci = load(EXAMPLES / "gitlab-ci.yml")
    job = ci["migcheck"]
    assert str(job["variables"]["GIT_DEPTH"]) == "0"
    assert any("merge_request_event" in r["if"] for r in job["rules"])
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert any("pip install" in line for line in job["before_script"])
    commands = [line for line in job["script"] if "migcheck check" in line]
    assert commands and all("--diff" in c for c in commands)

    # the job's script, as the runner runs it (one shell, stop at the first failing line)
    ws = clone(origin, tmp_path / "ws", "--single-branch")
    env = _env(CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main", CI_PIPELINE_SOURCE="merge_request_event",
               PATH=f"{tools}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(["bash", "-e", "-c", "\n".join(job["script"])], cwd=ws, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the findings fail the job
    assert "migrations/20250103_003_new.sql:2:1: error[drop-table]" in proc.stdout  # the log
    findings = json.loads((ws / "migcheck.json").read_text())["findings"]
    assert {(f["rule"], f["path"]) for f in findings} == {
        ("drop-table", "migrations/20250103_003_new.sql"),
        ("modified-migration", "migrations/20250102_002_edited.sql")}
    report = json.loads((ws / "gl-code-quality-report.json").read_text())
    assert len(report) == 2
    for issue in report:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] == "major"
        assert issue["location"]["path"].startswith("migrations/") and issue["location"]["lines"]["begin"] >= 1


@needs_git
def test_gitlab_job_stops_on_a_usage_error(origin, tools, tmp_path):
    job = load(EXAMPLES / "gitlab-ci.yml")["migcheck"]
    ws = clone(origin, tmp_path / "ws", "--single-branch")
    (ws / "migcheck.toml").write_text("bogus = 1\n")
    env = _env(CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main", PATH=f"{tools}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(["bash", "-e", "-c", "\n".join(job["script"])], cwd=ws, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "migcheck: error:" in proc.stderr and "bogus" in proc.stderr
