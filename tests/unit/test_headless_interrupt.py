"""Ctrl-C in a headless run, as a user presses it: a real process, a real playbook, SIGINT mid-phase."""

from __future__ import annotations

from pathlib import Path

from kwizard import preset
from kwizard.paths import Workspace
from kwizard.runner.orphans import orphans
from tests.fixture_phases import local_spec
from tests.interrupt_driver import (
    SLEEP_TASK,
    assert_interrupted,
    interrupt,
    replayed,
    start_fixture,
    wait_for_task,
    written_state,
)


def test_ctrl_c_in_a_run_and_in_its_resume_records_the_run_interrupted_and_exits_130(tmp_path: Path) -> None:
    preset_file = tmp_path / "fx.yaml"
    preset.save(local_spec(tmp_path), preset_file)
    workdir = tmp_path / "work"
    ws = Workspace(root=workdir.resolve(), cluster="fx")
    env = {"KWIZARD_FIXTURE_PLAYBOOK": "runner-sleep.yml"}

    first = start_fixture("--preset", str(preset_file), "--yes", "--workdir", str(workdir), env=env)
    wait_for_task(ws, first, SLEEP_TASK)
    code, output = interrupt(first)
    assert "Stopping: cancelling the current phase" in output
    assert_interrupted(ws, code, output, attempts=1)

    resumed = start_fixture("--resume", "fx", "--yes", "--workdir", str(workdir), env=env)
    wait_for_task(ws, resumed, SLEEP_TASK, attempt=2)
    code, output = interrupt(resumed)
    assert_interrupted(ws, code, output, attempts=2)


def test_a_second_ctrl_c_quits_at_once_and_still_closes_the_journal(tmp_path: Path) -> None:
    preset_file = tmp_path / "fx.yaml"
    preset.save(local_spec(tmp_path), preset_file)
    workdir = tmp_path / "work"
    ws = Workspace(root=workdir.resolve(), cluster="fx")
    process = start_fixture(
        "--preset",
        str(preset_file),
        "--yes",
        "--workdir",
        str(workdir),
        env={"KWIZARD_FIXTURE_PLAYBOOK": "runner-sleep.yml"},
    )
    wait_for_task(ws, process, SLEEP_TASK)
    code, output = interrupt(process, times=2)
    assert code == 130, output
    # The run lives in --workdir: the command printed for later names it, or it would not find the run.
    assert f"Interrupted — resume with: kwizard --resume fx --workdir {workdir}" in output
    state = written_state(ws)
    assert state["status"] == "interrupted" and state["phases"]["kubespray"]["status"] == "interrupted"
    assert "before the phase had stopped" in state["phases"]["kubespray"]["summary"]  # it did not wait
    assert state["attempts"][-1]["status"] == "interrupted"
    assert replayed(ws).phase("kubespray").status == "interrupted"
    assert orphans(ws.artifacts_dir) == []  # the runner had its moment to stop ansible-playbook


def test_ctrl_c_that_also_ends_the_pipe_reader_still_records_the_run_interrupted(tmp_path: Path) -> None:
    """`kwizard … --yes | tee run.log`, then Ctrl-C: tee dies with the same Ctrl-C, kwizard's next line
    meets a broken pipe. The run must still stop, close its journal as interrupted and exit 130 (it once
    died there and left the run 'running')."""
    import signal

    preset_file = tmp_path / "fx.yaml"
    preset.save(local_spec(tmp_path), preset_file)
    workdir = tmp_path / "work"
    ws = Workspace(root=workdir.resolve(), cluster="fx")
    process = start_fixture(
        "--preset",
        str(preset_file),
        "--yes",
        "--workdir",
        str(workdir),
        env={"KWIZARD_FIXTURE_PLAYBOOK": "runner-sleep.yml"},
    )
    wait_for_task(ws, process, SLEEP_TASK)
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=60)
    except Exception:
        process.kill()
        raise
    assert code == 130
    state = written_state(ws)
    assert state["status"] == "interrupted" and state["phases"]["kubespray"]["status"] == "interrupted"
    assert replayed(ws).phase("kubespray").status == "interrupted"
    assert orphans(ws.artifacts_dir) == []
