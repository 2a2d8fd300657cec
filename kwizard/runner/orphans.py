"""Find and stop ansible processes of a run by the marker in their environment.

ansible-runner starts ansible-playbook in its own session with SIGHUP ignored; the guard
(kwizard.runner.guard) binds it and its ssh processes to kwizard's life. This is the second line: every
process of a run carries `AWX_ISOLATED_DATA_DIR=<artifact dir>` in its environment; under the cluster
lock no live kwizard owns such a process for that cluster, so any found at the start of a run is an
orphan (left by a kwizard older than the guard, or by a lost guard), and any found for a run that has
ended is a leftover. Linux only (/proc); elsewhere a no-op.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def orphans(artifacts_dir: Path) -> list[int]:
    """Pids of processes started by ansible-runner for runs below `artifacts_dir`."""
    return _marked(artifacts_dir, parent=None)


def children_of_run(data_dir: Path) -> list[int]:
    """This process's own children that belong to the run in `data_dir` (the run's guard)."""
    return _marked(data_dir, parent=os.getpid())


def _marked(directory: Path, parent: int | None) -> list[int]:
    marker = f"AWX_ISOLATED_DATA_DIR={directory}/".encode()
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        with contextlib.suppress(OSError):
            if parent is not None and _parent(entry) != parent:
                continue
            if marker in (entry / "environ").read_bytes():
                found.append(int(entry.name))
    return sorted(found)


def _parent(entry: Path) -> int:
    stat = (entry / "stat").read_bytes()
    # The command name (field 2) may hold spaces and parentheses: the fields go on after the last ')'.
    return int(stat[stat.rfind(b")") + 2 :].split()[1])


def kill_orphans(artifacts_dir: Path) -> list[int]:
    """SIGKILL every orphan of `artifacts_dir`; returns their pids."""
    pids = orphans(artifacts_dir)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return pids
