import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch):
    """Tests never see the developer's colour or CI settings."""
    for var in ("NO_COLOR", "GITHUB_ACTIONS", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A temporary project directory that is also the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
