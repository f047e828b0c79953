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
needs_git = pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None, reason="needs git and bash")

CONFIG = 'select = ["drop-table", "missing-transaction", "modified-migration"]\nchangelog = false\n'
OK = "BEGIN;\nCREATE TABLE IF NOT EXISTS t{n} (id bigint);\nCOMMIT;\n"
BAD = "BEGIN;\nDROP TABLE old_{n};\nCOMMIT;\n"


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_", "CI_"))}
    env.update(
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=_env(),
        check=True,
        capture_output=True,
    )


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
        self.inputs["github-token"] = ""  # the default is ${{ github.token }}
        self.inputs.update(inputs)
        self.workspace, self.tools, self.temp = workspace, tools, temp
        self.extra_env: dict[str, str] = {}  # what the runner sets besides (GITHUB_EVENT_PATH, ...)
        self.context = {
            "github.action_path": str(REPO),
            "runner.temp": str(temp),
            "steps.install.outputs.bin": str(tools / "migcheck"),
            "steps.python.outputs.python-path": sys.executable,
        }

    def expr(self, text: str) -> str:
        def value(m):
            key = m.group(1)
            if key.startswith("inputs."):
                return self.inputs[key[len("inputs.") :]]
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
        env = _env(
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=str(self.workspace),
            RUNNER_TEMP=str(self.temp),
            PATH=f"{self.tools}{os.pathsep}{os.environ['PATH']}",
        )
        env.update(self.extra_env)
        env.update({k: self.expr(v) for k, v in step.get("env", {}).items()})
        script = self.temp / "step.sh"
        script.write_text(step["run"])
        cwd = self.workspace / self.expr(step.get("working-directory", "."))
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )


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
    assert any(
        l.startswith("::error file=migrations/20250103_003_new.sql,line=2,col=1,") and "title=migcheck(drop-table)" in l
        for l in lines
    ), check.stdout
    assert any(
        l.startswith("::error file=migrations/20250102_002_edited.sql,line=2,col=1,")
        and "title=migcheck(modified-migration)" in l
        for l in lines
    ), check.stdout
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


def gitlab_script(ws: Path, tools: Path, **env) -> subprocess.CompletedProcess:
    """The job's script, as the runner runs it (one shell, stop at the first failing line)."""
    job = load(EXAMPLES / "gitlab-ci.yml")["migcheck"]
    return subprocess.run(
        ["bash", "-e", "-c", "\n".join(job["script"])],
        cwd=ws,
        env=_env(PATH=f"{tools}{os.pathsep}{os.environ['PATH']}", **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


@needs_git
def test_gitlab_job(origin, tools, tmp_path):
    ci = load(EXAMPLES / "gitlab-ci.yml")
    job = ci["migcheck"]
    assert str(job["variables"]["GIT_DEPTH"]) == "0"
    assert any("merge_request_event" in r["if"] for r in job["rules"])
    assert any("CI_DEFAULT_BRANCH" in r["if"] for r in job["rules"])
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert any("pip install" in line for line in job["before_script"])
    assert any("--format gitlab" in line for line in job["script"])

    # a merge request: only its migrations
    ws = clone(origin, tmp_path / "ws", "--single-branch")
    proc = gitlab_script(
        ws, tools, CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main", CI_PIPELINE_SOURCE="merge_request_event"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the findings fail the job
    assert "migrations/20250103_003_new.sql:2:1: error[drop-table]" in proc.stdout  # the log
    assert "  2 | DROP TABLE old_3;" in proc.stdout  # with the statement
    report = json.loads((ws / "gl-code-quality-report.json").read_text())
    import jsonschema
    from test_gitlab_format import CODE_QUALITY

    jsonschema.validate(report, CODE_QUALITY)
    assert {(i["check_name"], i["location"]["path"]) for i in report} == {
        ("drop-table", "migrations/20250103_003_new.sql"),
        ("modified-migration", "migrations/20250102_002_edited.sql"),
    }
    assert {i["severity"] for i in report} == {"major"}


@needs_git
def test_gitlab_job_on_the_default_branch_with_a_baseline(origin, tools, tmp_path, monkeypatch):
    ws = clone(origin, tmp_path / "ws", "--single-branch")
    env = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}
    assert gitlab_script(ws, tools, **env).returncode == 1  # the old findings: the first day
    monkeypatch.chdir(ws)
    assert main(["check", "--write-baseline", "--no-cache"]) == 0
    proc = gitlab_script(ws, tools, **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((ws / "gl-code-quality-report.json").read_text()) == []
    assert "0 errors, 0 warnings in 3 files (2 baselined)" in proc.stdout


@needs_git
def test_gitlab_job_stops_on_a_usage_error(origin, tools, tmp_path):
    ws = clone(origin, tmp_path / "ws", "--single-branch")
    (ws / "migcheck.toml").write_text("bogus = 1\n")
    proc = gitlab_script(ws, tools, CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main")
    assert proc.returncode == 2
    assert "migcheck: error:" in proc.stderr and "bogus" in proc.stderr


# --- the pull request comment (action/pr_comment.py) against a stand-in for the GitHub API ---------


class FakeGitHub:
    """The three REST calls the comment script makes, answered from memory; every request logged."""

    def __init__(self, comments=(), fail: dict | None = None):
        import http.server
        import threading

        self.comments = [dict(c) for c in comments]
        self.requests: list[tuple[str, str, dict | None]] = []
        self.fail = fail or {}  # method -> HTTP status
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, body=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((self.command, self.path, body))
                assert self.headers["Authorization"] == "Bearer t0ken"
                if self.command in fake.fail:
                    return self._reply(fake.fail[self.command], {"message": "Resource not accessible by integration"})
                m = re.fullmatch(r"/repos/o/r/issues/(\d+)/comments\?per_page=100&page=(\d+)", self.path)
                if self.command == "GET" and m:
                    page = int(m.group(2))
                    return self._reply(200, fake.comments[(page - 1) * 100 : page * 100])
                if self.command == "POST" and re.fullmatch(r"/repos/o/r/issues/\d+/comments", self.path):
                    fake.comments.append({"id": 1000 + len(fake.comments), "body": body["body"]})
                    return self._reply(201, fake.comments[-1])
                m = re.fullmatch(r"/repos/o/r/issues/comments/(\d+)", self.path)
                if self.command == "PATCH" and m:
                    c = next(c for c in fake.comments if c["id"] == int(m.group(1)))
                    c["body"] = body["body"]
                    return self._reply(200, c)
                return self._reply(404, {"message": "Not Found"})

            do_GET = do_POST = do_PATCH = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


REPORT = "<!-- migcheck:report -->\n## migcheck: 1 error, 0 warnings in 1 migration\n\n### body\n"
EMPTY_REPORT = (
    "<!-- migcheck:report -->\n## migcheck: 0 errors, 0 warnings in 0 migrations\n\nNo migration file was checked.\n"
)


def comment(tmp_path, api: FakeGitHub | None, report: str = REPORT, event: dict | None = None):
    """Run action/pr_comment.py as the action's step does; (exit code, stdout, job summary)."""
    (tmp_path / "report.md").write_text(report)
    (tmp_path / "event.json").write_text(
        json.dumps(
            event if event is not None else {"pull_request": {"number": 7, "head": {"repo": {"full_name": "o/r"}}}}
        )
    )
    summary_file = tmp_path / "summary.md"
    env = _env(
        REPORT=str(tmp_path / "report.md"),
        GITHUB_TOKEN="t0ken",
        GITHUB_REPOSITORY="o/r",
        GITHUB_EVENT_PATH=str(tmp_path / "event.json"),
        GITHUB_STEP_SUMMARY=str(summary_file),
        GITHUB_API_URL=api.url if api else "http://127.0.0.1:9",
    )
    proc = subprocess.run(
        [sys.executable, str(REPO / "action" / "pr_comment.py")], env=env, capture_output=True, text=True, timeout=60
    )
    return proc.returncode, proc.stdout, summary_file.read_text() if summary_file.exists() else ""


@pytest.fixture
def github():
    servers = []

    def make(**kw):
        servers.append(FakeGitHub(**kw))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def test_comment_is_posted_once_then_updated(tmp_path, github):
    api = github(comments=[{"id": 1, "body": "LGTM"}])
    code, out, summary = comment(tmp_path, api)
    assert (code, summary) == (0, "")
    assert [(m, p) for m, p, _ in api.requests] == [
        ("GET", "/repos/o/r/issues/7/comments?per_page=100&page=1"),
        ("POST", "/repos/o/r/issues/7/comments"),
    ]
    assert api.comments[-1]["body"] == REPORT
    # the next push: the same comment is edited, nothing new is posted
    api.requests.clear()
    code, out, _ = comment(tmp_path, api, REPORT.replace("1 error", "2 errors"))
    assert [(m, p) for m, p, _ in api.requests] == [
        ("GET", "/repos/o/r/issues/7/comments?per_page=100&page=1"),
        ("PATCH", "/repos/o/r/issues/comments/1001"),
    ]
    assert len(api.comments) == 2 and "2 errors" in api.comments[1]["body"] and api.comments[0]["body"] == "LGTM"
    assert "updated the report comment on pull request #7" in out


def test_comment_found_on_a_later_page(tmp_path, github):
    api = github(comments=[{"id": i, "body": f"comment {i}"} for i in range(150)] + [{"id": 999, "body": REPORT}])
    comment(tmp_path, api)
    assert [(m, p) for m, p, _ in api.requests][-1] == ("PATCH", "/repos/o/r/issues/comments/999")
    assert len(api.comments) == 151


def test_no_comment_for_a_pull_request_without_migrations(tmp_path, github):
    api = github()
    code, out, _ = comment(tmp_path, api, EMPTY_REPORT)
    assert code == 0 and [m for m, _, _ in api.requests] == ["GET"] and "no comment" in out
    # ... but an earlier report is brought up to date
    api = github(comments=[{"id": 5, "body": REPORT}])
    comment(tmp_path, api, EMPTY_REPORT)
    assert api.comments[0]["body"] == EMPTY_REPORT


def test_fork_and_push_go_to_the_job_summary(tmp_path, github):
    api = github()
    fork = {"pull_request": {"number": 7, "head": {"repo": {"full_name": "someone/r"}}}}
    code, out, summary = comment(tmp_path, api, event=fork)
    assert (code, summary, api.requests) == (0, REPORT, [])
    assert "::notice title=migcheck::a pull request from a fork" in out
    (tmp_path / "summary.md").unlink()
    code, out, summary = comment(tmp_path, api, event={"ref": "refs/heads/main"})
    assert (code, summary, api.requests, out) == (0, REPORT, [], "")


def test_no_permission_falls_back_to_the_job_summary(tmp_path, github):
    api = github(fail={"POST": 403})
    code, out, summary = comment(tmp_path, api)
    assert code == 0 and summary == REPORT
    assert "HTTP 403" in out and "pull-requests: write" in out
    # an API that cannot be reached: a warning, the summary, and the job goes on
    code, out, summary = comment(tmp_path, None)
    assert code == 0 and "::warning title=migcheck::commenting on pull request #7 failed" in out


def test_the_script_knows_the_reports_marker_and_empty_text():
    from migcheck.report import markdown_report

    script = (REPO / "action" / "pr_comment.py").read_text()
    assert f'MARKER = "{markdown_report.MARKER}"' in script
    from migcheck.engine import Result

    empty = markdown_report.render(Result([], [], []))
    assert re.search(r'EMPTY = "([^"]+)"', script).group(1) in empty


@needs_git
def test_action_writes_the_markdown_report_and_comments(origin, tools, tmp_path, github):
    ws = clone(origin, tmp_path / "ws", "--depth", "1")
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    runner = ActionRunner(ws, tools, temp, {"base-ref": "main", "github-token": "t0ken"})
    assert runner.run("Fetch the base branch").returncode == 0
    md = runner.run("Markdown report")
    assert md.returncode == 0, md.stderr  # findings do not fail this step
    report = (temp / "migcheck.md").read_text()
    assert report.startswith("<!-- migcheck:report -->\n## migcheck: 2 errors, 0 warnings in 2 migrations")
    assert "### ❌ `migrations/20250103_003_new.sql`" in report and "20250101_001_old" not in report
    api = github()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "head": {"repo": {"full_name": "o/r"}}}}))
    runner.extra_env = {"GITHUB_API_URL": api.url, "GITHUB_REPOSITORY": "o/r", "GITHUB_EVENT_PATH": str(event)}
    posted = runner.run("Comment on the pull request")
    assert posted.returncode == 0, posted.stdout + posted.stderr
    assert api.comments == [{"id": 1000, "body": report}]
    # off with an input
    off = ActionRunner(ws, tools, temp, {"base-ref": "main", "comment": "false"})
    assert off.run("Markdown report") is None and off.run("Comment on the pull request") is None
