"""The code holds to its own lint: ruff's rules and formatter, and mypy over the engine, the files and
the shared analysis (the schema model among it). The configuration is pyproject.toml's
``[tool.ruff]`` and ``[tool.mypy]``; this test runs them the way a contributor does, so a change that
breaks them fails here as it would in review."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_lint_is_clean():
    r = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_is_applied():
    r = _run("ruff", "format", "--no-cache", "--check", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_on_the_engine_and_the_analysis():
    r = _run("mypy", "--no-incremental")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success" in r.stdout, r.stdout
