"""No child outlives kwizard: after SIGKILL, Ctrl-C or quitting the wizard mid-run, nothing of the run keeps
acting on the hosts (ansible-playbook, its workers, ssh clients and ControlPersist masters), within 2 s.

A run's processes are found three ways: kwizard's descendants seen just before the kill, the run's marker
in their environment (AWX_ISOLATED_DATA_DIR below the workspace's artifacts), and ssh processes naming the
workspace's control-socket folder. The phases are the fixture table with a playbook whose tasks take a
while on the hosts (tests/fixtures/playbooks/slow.yml).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kwizard import lab as kwlab
from kwizard import preset
from kwizard.engine.journal import RunJournal, list_runs
from kwizard.paths import Workspace
from kwizard.runner.guard import descendants
from kwizard.runner.orphans import orphans
from kwizard.runner.settings import control_path_dir
from tests.deploy_driver import wizard_with_phases
from tests.fixture_phases import fixture_phases
from tests.integration.test_engine_lab import lab_spec, lab_workspace, on_host
from tests.processes import alive

REPO = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": str(REPO), "KWIZARD_FIXTURE_PLAYBOOK": "slow.yml", "COLUMNS": "100"}
HOSTS = ("lab1", "lab2", "lab4")
LIMIT_SECONDS = 2.0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run_processes(ws: Workspace, known: set[int]) -> dict[int, str]:
    """Living processes of the run: `known` pids, marker carriers, ssh on the run's control sockets."""
    control = str(control_path_dir(ws))
    found = {pid for pid in known if alive(pid)} | {pid for pid in orphans(ws.artifacts_dir) if alive(pid)}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and control in cmdline(int(entry.name)) and alive(int(entry.name)):
            found.add(int(entry.name))
    return {pid: cmdline(pid) for pid in sorted(found)}


def left_after(ws: Workspace, known: set[int], seconds: float = LIMIT_SECONDS) -> dict[int, str]:
    """What of the run still runs `seconds` after now (polled: returns as soon as nothing is left)."""
    deadline = time.monotonic() + seconds
    left = run_processes(ws, known)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = run_processes(ws, known)
    return left


def busy(lines: list[str]) -> bool:
    """ansible-playbook runs and an ssh ControlPersist master has gone to the background ("[mux]")."""
    return any("ansible-playbook" in line for line in lines) and any("[mux]" in line for line in lines)


def wait_for_playbook(pid: int, ws: Workspace, seconds: float = 60.0) -> set[int]:
    """Wait (bounded) until kwizard `pid` runs ansible-playbook with a daemonised ssh master; returns the
    run's processes (kwizard's descendants and the run's marker carriers)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive(pid):
        below = set(descendants(pid)) | set(run_processes(ws, set()))
        if busy([cmdline(child) for child in below]):
            return below
        time.sleep(0.05)
    raise AssertionError("ansible-playbook never started")


def start(preset_file: Path, ws: Workspace) -> subprocess.Popen[bytes]:
    """Headless kwizard (the fixture phase table) in its own session, as a terminal would start it."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fixture_phases",
            "--preset",
            str(preset_file),
            "--yes",
            "--workdir",
            str(ws.root),
        ],
        cwd=REPO,
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def written_status(ws: Workspace) -> str:
    """The run's status as its kwizard wrote it (RunJournal.load would settle `running` itself)."""
    return str(json.loads((list_runs(ws)[0] / "state.json").read_text())["status"])


def resume_completes(lab: kwlab.Lab, ws: Workspace, name: str, root: str) -> None:
    resumed = subprocess.run(
        [sys.executable, "-m", "tests.fixture_phases", "--resume", name, "--yes", "--workdir", str(ws.root)],
        cwd=REPO,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, (resumed.stdout, resumed.stderr)
    record = RunJournal.load(list_runs(ws)[0]).record
    assert record.status == "ok"
    for host in HOSTS:
        assert on_host(lab, host, f"cat {root}/{host}/etc/node.conf") == f"{host}\n"


@pytest.fixture
def slow_run(lab: kwlab.Lab, tmp_path: Path) -> tuple[Path, str, str]:
    root, name = "/var/tmp/kwfx-life", "lablife"
    spec = lab_spec(lab, name, root, hosts=HOSTS, phases=("inventory", "kubespray"))
    preset_file = tmp_path / f"{name}.yaml"
    preset.save(spec, preset_file)
    return preset_file, name, root


def test_sigkill_mid_playbook_leaves_nothing_running(
    lab: kwlab.Lab, tmp_path: Path, slow_run: tuple[Path, str, str]
) -> None:
    """kwizard is SIGKILLed at random moments while ansible-playbook works on the hosts (KWIZARD_CHILD_KILLS
    times, 6 by default): within 2 s no process of that run is left, and `--resume` completes."""
    preset_file, name, root = slow_run
    wanted = int(os.environ.get("KWIZARD_CHILD_KILLS", "6"))
    rng = random.Random(int(os.environ.get("KWIZARD_KILL_SEED", "14")))
    kills = 0
    for attempt in range(wanted * 2):
        if kills >= wanted:
            break
        for host in HOSTS:
            on_host(lab, host, f"rm -rf {root}")
        ws = lab_workspace(lab, tmp_path / f"w{attempt}", name)
        process = start(preset_file, ws)
        try:
            known = wait_for_playbook(process.pid, ws)
            time.sleep(rng.uniform(0, 2.5))  # the playbook's remote sleeps take about 2 s
            known |= set(descendants(process.pid))
            if process.poll() is not None:
                continue
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            process.kill()
            process.wait(timeout=30)
        kills += 1
        assert left_after(ws, known) == {}, f"kill {kills}"
        resume_completes(lab, ws, name, root)
    assert kills >= wanted


def test_ctrl_c_mid_playbook_leaves_nothing_running(
    lab: kwlab.Lab, tmp_path: Path, slow_run: tuple[Path, str, str]
) -> None:
    """Ctrl-C (SIGINT to kwizard's process group, as a terminal sends it) while ansible-playbook runs:
    kwizard exits, nothing of the run is left 2 s later, and `--resume` completes."""
    preset_file, name, root = slow_run
    for host in HOSTS:
        on_host(lab, host, f"rm -rf {root}")
    ws = lab_workspace(lab, tmp_path / "w", name)
    process = start(preset_file, ws)
    try:
        known = wait_for_playbook(process.pid, ws)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) != 0  # it stopped, by itself, within the bound
    finally:
        process.kill()
        process.wait(timeout=30)
    assert left_after(ws, known) == {}
    resume_completes(lab, ws, name, root)


def test_quitting_the_wizard_mid_run_stops_the_run(lab: kwlab.Lab, tmp_path: Path) -> None:
    """Ctrl-Q on the Deploy step while ansible-playbook runs: the run is cancelled (journal: interrupted)
    and none of its processes is left 2 s after the wizard has closed."""
    import asyncio

    root = "/var/tmp/kwfx-quit"
    spec = lab_spec(lab, "labquit", root, hosts=HOSTS, phases=("inventory", "kubespray"))
    ws = lab_workspace(lab, tmp_path / "root", spec.name)
    preset.save(spec, ws.preset_file)
    seen: set[int] = set()

    async def drive() -> None:
        wizard = wizard_with_phases(fixture_phases("slow.yml"))
        app = wizard(spec, root=tmp_path / "root", start_step="deploy")
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            await pilot.click("#deploy-start")
            for _ in range(600):  # bounded: 60 s
                await pilot.pause(0.1)
                below = {pid: cmdline(pid) for pid in run_processes(ws, set())}
                if busy(list(below.values())):
                    seen.update(below)
                    break
            else:
                raise AssertionError("ansible-playbook never started")
            await pilot.press("ctrl+q")
            await pilot.pause()
        # The app has closed; its run worker finishes the cancel (the interpreter would wait for it).

    asyncio.run(drive())
    assert left_after(ws, seen) == {}
    deadline = time.monotonic() + 30
    while written_status(ws) == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert written_status(ws) == "interrupted"
