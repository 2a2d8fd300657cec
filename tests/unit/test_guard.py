"""The guard (kwizard.runner.guard) with real processes: nothing it started outlives it or its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kwizard.runner import guard
from tests.processes import alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guard is for Linux")


def wait_for_file(path: Path, seconds: float = 10.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text().endswith("\n"):
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def gone_within(pids: list[int], seconds: float) -> list[int]:
    """The pids of `pids` still running after `seconds` (polled)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.02)
    return [pid for pid in pids if alive(pid)]


# A command that daemonises a grandchild (new session, as ssh's ControlPersist master does), writes
# both pids, then works on.
DAEMONISING = "setsid sleep 301 </dev/null >/dev/null 2>&1 & echo $$ $! > {pids}; sleep 302"


def test_killed_parent_takes_the_command_and_its_daemon_along(tmp_path: Path) -> None:
    """The guard's parent (kwizard) is SIGKILLed: the command and its daemonised grandchild are gone
    within 2 s."""
    pids = tmp_path / "pids"
    command = ["sh", "-c", DAEMONISING.format(pids=pids)]
    # The stand-in for kwizard: starts the guard and waits, like a runner thread.
    parent_code = (
        "import os, subprocess, sys\n"
        f"subprocess.run([sys.executable, '-I', '-S', {guard.__file__!r}, '--parent', str(os.getpid()),"
        f" '--', *{command!r}])"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    try:
        shell, daemon = (int(word) for word in wait_for_file(pids).split())
        assert alive(shell) and alive(daemon)
        # The background child runs setsid a moment after $! is known: wait (bounded) until it has.
        deadline = time.monotonic() + 10
        while os.getsid(daemon) == os.getsid(shell) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.getsid(daemon) != os.getsid(shell)  # really out of the command's session
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert gone_within([shell, daemon], 2.0) == []
    finally:
        parent.kill()
        parent.wait(timeout=10)


def test_output_and_exit_code_pass_through_unchanged() -> None:
    command = ["sh", "-c", "echo out; echo err >&2; exit 7"]
    done = subprocess.run(guard.guarded(command), capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (7, "out\n", "err\n")
    killed = subprocess.run(guard.guarded(["sh", "-c", "kill -9 $$"]), timeout=30)
    assert killed.returncode == -signal.SIGKILL  # a command killed by a signal: the guard dies the same way


def test_daemons_are_stopped_when_the_command_ends(tmp_path: Path) -> None:
    """Like an ssh ControlPersist master after ansible-playbook ends: stopped with the run."""
    pids = tmp_path / "pids"
    script = "setsid sleep 303 </dev/null >/dev/null 2>&1 & echo $$ $! > " + str(pids)
    started = time.monotonic()
    done = subprocess.run(guard.guarded(["sh", "-c", script]), timeout=30)
    assert done.returncode == 0
    _, daemon = (int(word) for word in pids.read_text().split())
    assert not alive(daemon)
    assert time.monotonic() - started < 5


def test_sigint_is_forwarded_and_sigterm_stops_everything(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    trapping = "trap 'exit 42' INT; echo $$ > " + str(pids) + "; while :; do sleep 0.1; done"
    polite = subprocess.Popen(guard.guarded(["sh", "-c", trapping]))
    wait_for_file(pids)
    polite.send_signal(signal.SIGINT)
    assert polite.wait(timeout=10) == 42  # the command's own answer to SIGINT, passed through

    pids.unlink()
    firm = subprocess.Popen(guard.guarded(["sh", "-c", DAEMONISING.format(pids=pids)]))
    shell, daemon = (int(word) for word in wait_for_file(pids).split())
    assert guard.stop(firm.pid) is True
    firm.wait(timeout=10)
    assert gone_within([shell, daemon], 2.0) == []


def test_a_parent_already_gone_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    done = subprocess.run(guard.guarded(["touch", str(marker)], parent=1), timeout=30)
    assert done.returncode == guard.EXIT_PARENT_GONE
    assert not marker.exists()
