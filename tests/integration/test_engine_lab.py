"""The phase engine on the lab: real sshd hosts, real ansible-runner; assertions on what the hosts hold.

The phases are the fixture table (tests/fixture_phases.py): Kubespray cannot run in the lab, so a
Kubespray-shaped playbook stands in for it; everything around it (runner, journal, resume, dashboard,
kill -9) is the product's code.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kwizard import lab as kwlab
from kwizard import preset
from kwizard.engine.journal import RunJournal, list_runs, read_events
from kwizard.engine.pipeline import Engine
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import Event, PhaseContext, Secrets
from kwizard.runner import run_playbook
from kwizard.runner.orphans import orphans
from kwizard.service.secrets import resolve_secrets
from kwizard.spec import ClusterSpec
from kwizard.ui.widgets.failure_banner import FailureBanner
from kwizard.ui.widgets.host_grid import HostGrid
from tests.deploy_driver import run_with, wizard_with_phases
from tests.fixture_phases import fixture_phases
from tests.interrupt_driver import SLEEP_TASK, assert_interrupted, interrupt, start_fixture, wait_for_task

REPO = Path(__file__).resolve().parents[2]
ROLES = {
    "lab1": ["control_plane", "etcd"],
    "lab2": ["control_plane", "etcd"],
    "lab4": ["worker", "etcd"],
    "lab5": ["worker"],
}  # lab3 has no python3: the diagnostics tests use it, these do not


def lab_spec(
    lab: kwlab.Lab,
    name: str,
    root: str,
    hosts: tuple[str, ...] = ("lab1", "lab2", "lab4", "lab5"),
    phases: tuple[str, ...] = ("inventory", "kubespray", "apps"),
) -> ClusterSpec:
    return ClusterSpec(
        name=name,
        hosts=[{"name": h, "address": lab.host(h).address, "roles": ROLES[h]} for h in hosts],
        ssh={"user": "root", "key": str(lab.key_path)},
        phases=list(phases),
        kubespray={"extra_vars": {"fixture_root": root}},
    )


def lab_workspace(lab: kwlab.Lab, root: Path, name: str) -> Workspace:
    """A workspace whose known_hosts already trusts the lab (the access phase's TOFU, done before)."""
    ws = Workspace(root=root, cluster=name).create()
    shutil.copy(lab.known_hosts, ws.known_hosts)
    return ws


def current(lab: kwlab.Lab) -> kwlab.Lab:
    """The lab as it runs now (a reset by another test restarts hosts with new pids)."""
    found = kwlab.load(lab.name, root=lab.root)
    assert found is not None
    return found


def on_host(lab: kwlab.Lab, host: str, command: str) -> str:
    """Run `command` inside a lab host (no ssh) and return its output."""
    return current(lab).host(host).exec(command).stdout


def test_injected_failure_on_the_dashboard_then_resume(lab: kwlab.Lab, tmp_path: Path) -> None:
    """Done-when: a lab run with an injected failure stops failed; the dashboard (Pilot) shows the failing
    host and task; fixing the cause and resuming finishes without re-running succeeded phases."""
    import asyncio

    root = "/var/tmp/kwfx-dash"
    spec = lab_spec(lab, "labdash", root)
    for host in ROLES:
        on_host(lab, host, f"rm -rf {root} /var/tmp/kwizard-fail-{host}")
    on_host(lab, "lab2", "touch /var/tmp/kwizard-fail-lab2")
    ws = lab_workspace(lab, tmp_path / "root", spec.name)
    preset.save(spec, ws.preset_file)

    async def drive() -> None:
        wizard = wizard_with_phases(fixture_phases("cluster.yml"))
        app = wizard(spec, root=tmp_path / "root", start_step="deploy")
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            screen = await run_with(pilot, app, "#deploy-start")
            dashboard = screen.query_one("Dashboard")
            state = dashboard.state  # type: ignore[attr-defined]
            assert state.status == "failed"
            grid = screen.query_one(HostGrid)
            assert grid.get_row("lab2")[3].plain == "1"
            assert "Stop if the node is not ready for Kubernetes" in grid.get_row("lab2")[6].plain
            assert screen.query_one(FailureBanner).display
            assert state.failures[0].host == "lab2"
            assert "injected failure" in state.failures[0].message
            # The hosts that did not fail went on; lab2 stopped at the check.
            assert on_host(lab, "lab1", f"cat {root}/lab1/etc/resolv.conf") == "nameserver 10.233.0.3\n"
            assert (
                on_host(lab, "lab2", f"test -e {root}/lab2/etc/resolv.conf && echo yes || echo no") == "no\n"
            )

            on_host(lab, "lab2", "rm /var/tmp/kwizard-fail-lab2")  # fix the cause
            screen = await run_with(pilot, app, "#deploy-resume")
            state = screen.query_one("Dashboard").state  # type: ignore[attr-defined]
            assert state.status == "ok", state.failures

    asyncio.run(drive())
    run_dir = list_runs(ws)[-1]
    starts = [e.phase for e in read_events(run_dir / "events.jsonl") if e.kind == "phase_start"]
    assert starts == ["inventory", "kubespray", "kubespray", "apps"]
    record = RunJournal.load(run_dir).record
    assert record.status == "ok" and [a.resumed for a in record.attempts] == [False, True]
    for host in ROLES:
        assert on_host(lab, host, f"cat {root}/{host}/etc/resolv.conf") == "nameserver 10.233.0.3\n"
    assert on_host(lab, "lab1", f"cat {root}/lab1/addons/grafana.yml") == "kind: Deployment\n"
    assert "lab2" in (run_dir / "report.md").read_text()


# Every sshd process but PID 1 (the listener, the host's init) and this shell: the sessions end; then
# the link goes down, so new connections find nobody.
DROP_OFF_NETWORK = (
    "ip route show default > /run/kw-route; "
    'for p in $(pgrep -f sshd); do [ "$p" = 1 ] || [ "$p" = $$ ] || kill "$p"; done; '
    "sleep 0.3; ip link set eth0 down"
)


def test_a_host_lost_mid_run_is_unreachable_and_resume_finishes_after_it_is_back(
    lab: kwlab.Lab, tmp_path: Path
) -> None:
    root = "/var/tmp/kwfx-lost"
    spec = lab_spec(lab, "lablost", root, phases=("inventory", "kubespray"))
    ws = lab_workspace(lab, tmp_path / "root", spec.name)
    lost: list[str] = []

    def observer(event: Event) -> None:
        # When the etcd play starts, lab4 (worker, etcd member) drops off the network: its ssh sessions
        # end and its link goes down (its sshd keeps running, so the other tests' lab is unchanged).
        if event.kind == "play_start" and event.data.get("play") == "Install etcd" and not lost:
            lost.append("lab4")
            on_host(lab, "lab4", DROP_OFF_NETWORK)

    try:
        outcome = Engine(
            spec, ws, RunOptions(), phases=fixture_phases("quick.yml"), observer=observer
        ).start()
        assert lost and outcome.status == "failed" and outcome.exit_code == 1
        failures = [f for f in outcome.state.failures if f.host == "lab4"]
        # Ansible says UNREACHABLE, or FAILED when the loss hits a file transfer; either way it could
        # not connect.
        assert failures and "Failed to connect to the host via ssh" in failures[0].message, failures
        assert outcome.state.hosts["lab4"].unreachable + outcome.state.hosts["lab4"].failed == 1
        assert outcome.state.hosts["lab1"].failed == 0
    finally:
        on_host(
            lab, "lab4", 'ip link set eth0 up; r=$(cat /run/kw-route); [ -z "$r" ] || ip route replace $r'
        )
    resumed = Engine(spec, ws, RunOptions(), phases=fixture_phases("quick.yml")).resume()
    assert resumed.status == "ok", resumed.state.failures
    assert on_host(lab, "lab4", f"cat {root}/lab4/etc/etcd.env") == "ETCD_NAME=lab4\n"


def test_become_password_is_answered_on_the_prompt_and_never_stored(
    lab_factory: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sudo user (key login, sudo with its password): --become works with the password given
    through runner prompts, and the password is in no file of the workspace."""
    blab = lab_factory(kwlab.HostTraits(name="b1", user_key=True))  # type: ignore[operator]
    host = blab.host("b1")
    monkeypatch.setenv("KWIZARD_TEST_BECOME", host.password)
    spec = ClusterSpec(
        name="become",
        hosts=[{"name": "b1", "address": host.address, "roles": ["control_plane", "etcd"]}],
        ssh={"user": host.user, "key": str(blab.key_path), "become_password_env": "KWIZARD_TEST_BECOME"},
        phases=["inventory", "kubespray"],
        kubespray={"extra_vars": {"fixture_root": "/var/tmp/kwfx-become"}},
    )
    ws = lab_workspace(blab, tmp_path / "root", spec.name)
    secrets, warnings = resolve_secrets(spec)
    assert warnings == [] and secrets.become_password == host.password
    Engine(spec, ws, RunOptions(), phases=fixture_phases("quick.yml")[:1], secrets=secrets).start()
    ctx = PhaseContext(spec=spec, ws=ws, options=RunOptions(), secrets=secrets)
    playbook = tmp_path / "whoami.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.command: id -un\n      register: who\n"
        "    - ansible.builtin.copy: {dest: /root/become-proof, content: '{{ who.stdout }}', mode: '0600'}\n"
    )
    result = run_playbook(ctx, "kubespray", playbook, ws.inventory_dir / "hosts.yaml", become=True)
    assert result.ok, result.failures
    assert host.exec("cat /root/become-proof").stdout == "root"  # written as root, by the sudo user
    without = run_playbook(
        PhaseContext(spec=spec, ws=ws, options=RunOptions(), secrets=Secrets()),
        "kubespray",
        playbook,
        ws.inventory_dir / "hosts.yaml",
        become=True,
    )
    assert not without.ok  # sudo really wanted the password
    for path in ws.cluster_dir.rglob("*"):
        if path.is_file():
            assert host.password.encode() not in path.read_bytes(), path


# ---------------------------------------------------------------------------------------------------
# kill -9 at random points

KILL_ENV = {"PYTHONPATH": str(REPO), "KWIZARD_FIXTURE_PLAYBOOK": "kill.yml", "COLUMNS": "100"}


def kwizard_fixture(*args: str, workdir: Path) -> subprocess.Popen[str]:
    """kwizard (the fixture phase table) as its own process, as a user would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fixture_phases", *args, "--workdir", str(workdir)],
        cwd=REPO,
        env={**os.environ, **KILL_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def wait_for_journal(ws: Workspace, process: subprocess.Popen[str], seconds: float = 60.0) -> float:
    """Wait (bounded) until the run's journal exists; returns the moment it was seen."""
    deadline = time.monotonic() + seconds
    while not list_runs(ws) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    return time.monotonic()


def orphans_after(ws: Workspace, seconds: float) -> list[int]:
    """The run's processes still there after `seconds` (polled: returns as soon as there are none)."""
    deadline = time.monotonic() + seconds
    while orphans(ws.artifacts_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    return orphans(ws.artifacts_dir)


def test_sigkill_at_random_points_leaves_a_journal_that_resumes(lab: kwlab.Lab, tmp_path: Path) -> None:
    """kwizard is killed with SIGKILL at ≥20 random points of a lab run; each time the journal loads,
    `--resume` completes, no ansible process is left 2 s after the kill, and the hosts end up configured."""
    wanted = int(os.environ.get("KWIZARD_KILL_POINTS", "20"))
    rng = random.Random(int(os.environ.get("KWIZARD_KILL_SEED", "20261126")))
    root, hosts = "/var/tmp/kwfx-kill", ("lab1", "lab2", "lab4")
    spec = lab_spec(lab, "labkill", root, hosts=hosts, phases=("inventory", "kubespray"))
    preset_file = tmp_path / "labkill.yaml"
    preset.save(spec, preset_file)

    # One undisturbed run: how long a run lasts once its journal exists (the range of kill points).
    ws = lab_workspace(lab, tmp_path / "w-full", spec.name)
    full = kwizard_fixture("--preset", str(preset_file), "--yes", workdir=ws.root)
    seen = wait_for_journal(ws, full)
    assert full.wait(timeout=300) == 0
    span = time.monotonic() - seen

    kills: list[str] = []  # the phase statuses each kill left behind
    attempts = left_running = 0
    while len(kills) < wanted and attempts < wanted * 2:
        attempts += 1
        for host in hosts:
            on_host(lab, host, f"rm -rf {root}")
        ws = lab_workspace(lab, tmp_path / f"w{attempts}", spec.name)
        process = kwizard_fixture("--preset", str(preset_file), "--yes", workdir=ws.root)
        wait_for_journal(ws, process)
        # Mostly anywhere in the run; a quarter of the kills right at its start (journal creation,
        # the inventory phase, the start of ansible-playbook), where the windows are short.
        time.sleep(rng.uniform(0, 0.3) if rng.random() < 0.25 else rng.uniform(0, span))
        if process.poll() is not None:
            continue  # it finished before the kill point: not a kill
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

        runs = list_runs(ws)
        assert len(runs) == 1
        record = RunJournal.load(runs[0]).record  # loads, whatever the moment of the kill
        kills.append(" ".join(f"{n}:{record.phase(n).status}" for n in record.selected))
        list(read_events(runs[0] / "events.jsonl"))  # readable despite a possibly cut last line
        # The guard stops ansible-playbook and its ssh processes when kwizard dies: give it 2 s.
        left_running += bool(orphans_after(ws, 2.0))

        resumed = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.fixture_phases",
                "--resume",
                spec.name,
                "--yes",
                "--workdir",
                str(ws.root),
            ],
            cwd=REPO,
            env={**os.environ, **KILL_ENV},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert resumed.returncode == 0, (kills[-1], resumed.stdout, resumed.stderr)
        final = RunJournal.load(runs[0]).record
        assert final.status == "ok" and all(final.phase(n).status == "ok" for n in final.selected)
        assert orphans(ws.artifacts_dir) == []  # the killed run's ansible-playbook did not survive
        for host in hosts:
            assert on_host(lab, host, f"cat {root}/{host}/etc/node.conf") == f"{host}\n"
        shutil.rmtree(ws.root, ignore_errors=True)
    print(f"{len(kills)} kills in {attempts} runs; {left_running} left ansible running 2 s after the kill")
    print("journal states left by the kills:")
    for state, count in Counter(kills).most_common():
        print(f"  {count:3d} × {state}")
    assert len(kills) >= wanted, f"only {len(kills)} kills landed in {attempts} runs"
    assert any("kubespray:interrupted" in state for state in kills)  # some landed mid-playbook
    assert left_running == 0  # no child outlives kwizard


# ---------------------------------------------------------------------------------------------------
# Ctrl-C


def test_ctrl_c_mid_playbook_on_the_lab_and_in_its_resume_exits_130_with_the_run_interrupted(
    lab: kwlab.Lab, tmp_path: Path
) -> None:
    """SIGINT while a task runs on the lab's hosts over ssh, then again in the resumed run: each time
    kwizard stops its Ansible, records the phase, the run and the attempt as interrupted, says how to
    resume, and exits 130."""
    hosts = ("lab1", "lab2", "lab4")
    spec = lab_spec(lab, "labint", "/var/tmp/kwfx-int", hosts=hosts, phases=("inventory", "kubespray"))
    preset_file = tmp_path / "labint.yaml"
    preset.save(spec, preset_file)
    ws = lab_workspace(lab, tmp_path / "w", spec.name)
    env = {"KWIZARD_FIXTURE_PLAYBOOK": "runner-sleep.yml"}

    first = start_fixture("--preset", str(preset_file), "--yes", "--workdir", str(ws.root), env=env)
    wait_for_task(ws, first, SLEEP_TASK)
    code, output = interrupt(first)
    assert_interrupted(ws, code, output, attempts=1)

    resumed = start_fixture("--resume", spec.name, "--yes", "--workdir", str(ws.root), env=env)
    wait_for_task(ws, resumed, SLEEP_TASK, attempt=2)
    code, output = interrupt(resumed)
    assert_interrupted(ws, code, output, attempts=2)
