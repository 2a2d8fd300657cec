"""Ctrl-C in a headless kwizard, as a user presses it: the fixture command line as its own process, SIGINT
while a task runs, and the journal read as written.

state.json is read directly, not through RunJournal.load, which would settle a `running` left behind into
`interrupted` and hide exactly the failure these helpers look for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kwizard.engine.journal import last_run, read_events
from kwizard.engine.state import RunState
from kwizard.paths import Workspace
from kwizard.runner.orphans import orphans

REPO = Path(__file__).resolve().parents[1]
SLEEP_TASK = "Sleep for a long time"  # tests/fixtures/playbooks/runner-sleep.yml


def start_fixture(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The kwizard command line with the fixture phase table, as its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fixture_phases", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "160", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # progress and the summary go to stdout, errors to stderr: one stream
        text=True,
    )


def wait_for_task(ws: Workspace, process: subprocess.Popen[str], task: str, attempt: int = 1) -> None:
    """Wait (bounded) until `task` has started in the given attempt of the cluster's last run."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        directory = last_run(ws)
        if directory is not None:
            events = list(read_events(directory / "events.jsonl"))
            starts = [i for i, e in enumerate(events) if e.kind == "run_start"]
            if len(starts) >= attempt and any(
                e.kind == "task_start" and e.data.get("task") == task for e in events[starts[attempt - 1] :]
            ):
                time.sleep(1.0)  # let ansible-playbook start the task's command on the hosts
                return
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"{task!r} did not start: {process.communicate(timeout=30)}")


def interrupt(process: subprocess.Popen[str], times: int = 1) -> tuple[int, str]:
    """Send Ctrl-C `times` times; the exit code and the output (bounded: it must quit within 60 s)."""
    for _ in range(times):
        process.send_signal(signal.SIGINT)
        time.sleep(0.05)  # well inside the runner's cancel poll: a second press finds the phase running
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(
            f"kwizard did not quit after Ctrl-C: {process.communicate(timeout=30)}"
        ) from None
    return process.returncode, output


def written_state(ws: Workspace) -> dict[str, Any]:
    """state.json exactly as the process left it."""
    directory = last_run(ws)
    assert directory is not None
    return dict(json.loads((directory / "state.json").read_text()))


def replayed(ws: Workspace) -> RunState:
    """The run as a later kwizard replays it from events.jsonl (the dashboard's and the resume's view)."""
    directory = last_run(ws)
    assert directory is not None
    return RunState().apply_all(read_events(directory / "events.jsonl"))


def assert_interrupted(ws: Workspace, code: int, output: str, attempts: int) -> None:
    """Exit 130 with the resume hint; phase, run and every attempt interrupted; nothing left running."""
    assert code == 130, output
    assert f"Interrupted — resume with: kwizard --resume {ws.cluster}" in output, output
    assert "Traceback" not in output and "internal error" not in output
    state = written_state(ws)
    assert state["status"] == "interrupted" and state["exit_code"] == 130
    assert state["phases"]["kubespray"]["status"] == "interrupted"
    assert [a["status"] for a in state["attempts"]] == ["interrupted"] * attempts
    assert replayed(ws).phase("kubespray").status == "interrupted"  # not replayed as still running
    assert orphans(ws.artifacts_dir) == []  # ansible-playbook and its `sleep` did not outlive the cancel
