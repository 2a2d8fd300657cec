"""Shared fixtures: every test gets its own kwizard workspace root, never the user's real one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def kwizard_root(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private workspace root for this test (KWIZARD_WORKDIR)."""
    root = tmp_path_factory.mktemp("kwroot")
    monkeypatch.setenv("KWIZARD_WORKDIR", str(root))
    return root


def kwizard_command(*args: str) -> list[str]:
    """argv that runs this checkout's kwizard (not whatever `kwizard` is on PATH)."""
    return [sys.executable, "-m", "kwizard", *args]


def kwizard_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env
