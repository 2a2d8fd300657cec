"""Run kwizard as a user does: `python -m kwizard ...` in a subprocess, with its own workdir and HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_kwizard(
    workdir: Path, *args: str, home: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`kwizard ARGS` with KWIZARD_WORKDIR=workdir (and HOME=home), bounded to `timeout` seconds, no stdin."""
    env = {**os.environ, "KWIZARD_WORKDIR": str(workdir), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    env.pop("KUBECONFIG", None)
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "kwizard", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
