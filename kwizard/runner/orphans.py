"""Find and stop ansible processes left behind by a kwizard that was killed (kill -9, power loss…).

ansible-runner starts ansible-playbook in its own session with SIGHUP ignored, so it outlives a killed
kwizard and would keep changing hosts while a resumed run starts. Every process it starts carries
`AWX_ISOLATED_DATA_DIR=<artifact dir>` in its environment; under the cluster lock no live kwizard owns
such a process for that cluster, so any found is an orphan. Linux only (/proc); elsewhere a no-op.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def orphans(artifacts_dir: Path) -> list[int]:
    """Pids of processes started by ansible-runner for runs below `artifacts_dir`."""
    marker = f"AWX_ISOLATED_DATA_DIR={artifacts_dir}/".encode()
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "environ").read_bytes():
                found.append(int(entry.name))
    return sorted(found)


def kill_orphans(artifacts_dir: Path) -> list[int]:
    """SIGKILL every orphan of `artifacts_dir`; returns their pids."""
    pids = orphans(artifacts_dir)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return pids
