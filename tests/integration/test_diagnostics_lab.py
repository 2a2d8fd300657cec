"""On the lab: the python3-less host fails a real playbook over SSH, kwizard names the cause, the
remedy is applied on the host, and the retry succeeds (checked inside the host, not in the log)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kwizard import lab as kwlab
from kwizard import preset
from kwizard.diagnostics import Evidence, HostFacts, diagnose_events, diagnose_path, remedy_for
from kwizard.engine.journal import read_events
from kwizard.engine.pipeline import product_phases
from kwizard.headless import resume_headless, run_headless
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import Event
from kwizard.spec import ClusterSpec
from kwizard.ui.dashboard import Dashboard
from kwizard.ui.widgets.diagnostics_pane import DiagnosticsPane
from kwizard.ui.widgets.failure_banner import FailureBanner
from tests.deploy_driver import run_with, wait_until_idle, wizard_with_phases
from tests.fixture_phases import fixture_phases

PLAYBOOK = """\
- hosts: all
  gather_facts: true
  tasks:
    - name: Leave a mark on the host
      ansible.builtin.copy:
        dest: /root/kwizard-diagnostics-ok
        content: "{{ ansible_python.executable }}\\n"
        mode: "0600"
"""


@pytest.fixture
def control_dir() -> Iterator[Path]:
    # Short path: ssh control sockets must fit in a unix socket path.
    with tempfile.TemporaryDirectory(prefix="kwdiag-") as path:
        yield Path(path)


def _inventory(path: Path, hosts: list[kwlab.LabHost]) -> Path:
    lines = ["[all]"]
    for host in hosts:
        lines.append(
            f"{host.name} ansible_host={host.address} ansible_port={host.port} ansible_user=root "
            f"ansible_ssh_private_key_file={host.key_path} "
            f"ansible_ssh_common_args='-o UserKnownHostsFile={host.known_hosts} -o StrictHostKeyChecking=yes "
            "-o GlobalKnownHostsFile=/dev/null'"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env(control: Path) -> dict[str, str]:
    return {
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOME": str(control / "home"),
        "ANSIBLE_LOCAL_TEMP": str(control / "tmp"),
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no",  # no ssh masters left behind
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def _events_of(runner_events: list[dict[str, Any]]) -> list[Event]:
    kinds = {"runner_on_failed": "host_failed", "runner_on_unreachable": "host_unreachable"}
    return [
        Event(
            kinds.get(e.get("event", ""), "log"),
            "kubespray",
            e.get("event_data", {}).get("host"),
            e["event_data"],
        )
        for e in runner_events
        if "event_data" in e
    ]


def _run(control: Path, name: str, inventory: Path, **kwargs: Any) -> tuple[Any, list[dict[str, Any]]]:
    import ansible_runner

    private = control / name
    (private / "project").mkdir(parents=True)
    (private / "project" / "site.yml").write_text(PLAYBOOK, encoding="utf-8")
    events: list[dict[str, Any]] = []
    result = ansible_runner.run(
        private_data_dir=str(private),
        inventory=str(inventory),
        envvars=_env(control),
        event_handler=lambda event: events.append(event) or True,
        quiet=True,
        timeout=600,
        **kwargs,
    )
    return result, events


def test_host_without_python_is_named_remedied_and_retried(clean_lab: kwlab.Lab, control_dir: Path) -> None:
    nopy, good = clean_lab.host("lab3"), clean_lab.host("lab1")
    assert nopy.exec("command -v python3").returncode != 0  # the trap is real
    inventory = _inventory(control_dir / "hosts.ini", [good, nopy])

    first, events = _run(control_dir, "run1", inventory, playbook="site.yml")
    assert first.status == "failed"
    assert good.exec("test -f /root/kwizard-diagnostics-ok").returncode == 0
    assert nopy.exec("test -f /root/kwizard-diagnostics-ok").returncode != 0

    # What preflight measures on the host, as evidence (the lab's own view, not the log).
    evidence = Evidence(hosts={"lab3": HostFacts(python3=nopy.exec("command -v python3").returncode == 0)})
    findings = diagnose_events(_events_of(events), evidence)
    assert findings[0].id == "python_interpreter_missing"
    assert findings[0].hosts == ("lab3",)
    assert "likely because preflight found that lab3 has no python3" in findings[0].evidence
    offline = diagnose_path(Path(first.config.artifact_dir), evidence)
    assert offline.findings[0].id == "python_interpreter_missing"

    plan = remedy_for(findings[0])
    assert plan is not None and plan.action.kind == "host_command" and plan.hosts == ("lab3",)
    applied, _ = _run(
        control_dir,
        "remedy",
        inventory,
        host_pattern=",".join(plan.hosts),
        module="raw",
        module_args=plan.action.command,
    )
    assert applied.status == "successful", applied.stdout.read()[-2000:]

    retry, retry_events = _run(control_dir, "run2", inventory, playbook="site.yml")
    assert retry.status == "successful", retry.stdout.read()[-3000:]
    assert diagnose_events(_events_of(retry_events)) == []
    marker = nopy.exec("cat /root/kwizard-diagnostics-ok")
    assert marker.returncode == 0 and "python3" in marker.stdout


def test_dashboard_names_missing_python_applies_the_fix_and_the_retry_succeeds(
    clean_lab: kwlab.Lab, tmp_path: Path
) -> None:
    """The whole story through the Deploy step (Pilot), as a user runs it on the lab: preflight found no
    python3 on lab3 and the user continued anyway; the Kubespray-shaped playbook then fails there; the
    dashboard names `python_interpreter_missing` with its fix and offers "Apply fix and retry"; one key
    installs python3 on lab3 over SSH and resumes; the retry succeeds on every host."""
    nopy = clean_lab.host("lab3")
    assert nopy.exec("command -v python3").returncode != 0  # the trap is real
    root = "/var/tmp/kwfx-pyfix"
    spec, ws, phases = _python_story(clean_lab, tmp_path, root)

    async def drive() -> None:
        app = wizard_with_phases(phases)(spec, root=tmp_path / "root", start_step="deploy")
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            screen = await run_with(pilot, app, "#deploy-start")
            state = screen.query_one(Dashboard).state
            assert state.status == "failed"
            assert [f.host for f in state.failures] == ["lab3"]
            (finding,) = [f for f in state.findings if f.host == "lab3"]
            assert finding.id == "python_interpreter_missing"
            assert "likely because preflight found that lab3 has no python3" in finding.data["evidence"]
            banner = screen.query_one(FailureBanner)
            assert banner.display and "python_interpreter_missing" in str(banner.render())
            pane = str(screen.query_one(DiagnosticsPane).render())
            assert "python_interpreter_missing" in pane and finding.fix in pane.replace("\n  ", " ")
            button = screen.query_one("#deploy-fix")
            assert button.display and not button.disabled
            assert screen.fix is not None and screen.fix.id == "install_python3"
            assert screen.fix.hosts == ("lab3",)

            failed_run = screen.engine
            await pilot.press("x")  # Apply fix and retry: the retry starts once the command ran on lab3
            screen = await wait_until_idle(pilot, app, after=failed_run)
            state = screen.query_one(Dashboard).state
            assert state.status == "ok", state.live_failures
            assert not screen.query_one(FailureBanner).display  # lab3's failure was fixed

    asyncio.run(drive())
    _check_retry_succeeded(clean_lab, ws, root)


def test_headless_resume_with_apply_fixes_installs_python3_and_finishes(
    clean_lab: kwlab.Lab, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The same story without a UI: the failed run's summary says what kwizard can apply and how;
    `kwizard --resume labpy --yes --apply-fixes` applies it on lab3 over SSH and the run finishes."""
    root = "/var/tmp/kwfx-pyfix-headless"
    spec, ws, phases = _python_story(clean_lab, tmp_path, root)

    assert run_headless(spec, ws, RunOptions(), phases=phases) == 1
    first = capfd.readouterr()
    said = " ".join((first.out + first.err).split())  # rich wraps long lines
    assert "python_interpreter_missing" in said
    assert "kwizard can apply: Install Python 3 on the host" in said
    assert "kwizard --resume labpy --yes --apply-fixes" in said

    assert resume_headless(ws, RunOptions(apply_fixes=True), phases=phases) == 0
    second = capfd.readouterr()
    said = " ".join((second.out + second.err).split())
    assert "Applying: Install Python 3 on the host on lab3 (as root), then retry." in said
    assert "✓ lab3" in said
    _check_retry_succeeded(clean_lab, ws, root)


Story = tuple[ClusterSpec, Workspace, tuple[Any, ...]]


def _python_story(lab: kwlab.Lab, tmp_path: Path, root: str) -> Story:
    """lab1-lab3 with the real preflight phase and a Kubespray-shaped playbook: lab3 has no python3, and
    the user continued past that preflight failure ("continue anyway", recorded in the preset)."""
    spec = ClusterSpec(
        name="labpy",
        hosts=[
            {"name": "lab1", "address": lab.host("lab1").address, "roles": ["control_plane", "etcd"]},
            {"name": "lab2", "address": lab.host("lab2").address, "roles": ["worker"]},
            {"name": "lab3", "address": lab.host("lab3").address, "roles": ["worker"]},
        ],
        ssh={"user": "root", "key": str(lab.key_path)},
        phases=["preflight", "inventory", "kubespray"],
        # The lab has no systemd; lab3's python3 is left for the diagnosis to find.
        preflight={"acknowledged": ["systemd", "python@lab3"]},
        kubespray={"extra_vars": {"fixture_root": root}},
    )
    ws = Workspace(root=tmp_path / "root", cluster=spec.name).create()
    shutil.copy(lab.known_hosts, ws.known_hosts)  # the Access step's trust, done before
    preset.save(spec, ws.preset_file)
    preflight = [p for p in product_phases() if p.name == "preflight"]
    return spec, ws, (*preflight, *fixture_phases("quick.yml"))


def _check_retry_succeeded(lab: kwlab.Lab, ws: Workspace, root: str) -> None:
    assert lab.host("lab3").exec("command -v python3").returncode == 0  # the preflight re-check finds it too
    for host in ("lab1", "lab2", "lab3"):
        written = lab.host(host).exec(f"cat {root}/{host}/etc/node.conf")
        assert written.stdout == f"{host}\n", written.stderr
    run_dir = sorted(ws.runs_dir.glob("2*"))[-1]
    events = read_events(run_dir / "events.jsonl")
    starts = [(e.phase, e.data.get("reason")) for e in events if e.kind == "phase_start"]
    # One run: the retry resumed at the failed phase; preflight and the inventory were not redone.
    assert [phase for phase, _ in starts] == ["preflight", "inventory", "kubespray", "kubespray"]
    assert starts[-1][1] == "failed last time"


def test_headless_apply_fixes_applies_the_failed_preflights_fix_and_the_run_goes_on(
    lab_factory: Callable[..., kwlab.Lab], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Preflight fails on a host with ip_forward 0 (exit 3); `--resume --yes --apply-fixes` applies the
    Preflight step's own fix on the host, and the resumed run passes preflight and finishes."""
    lab = lab_factory(kwlab.HostTraits(name="fwd1", ip_forward=0))
    host = lab.host("fwd1")
    root = "/var/tmp/kwfx-fwd-headless"
    spec = ClusterSpec(
        name="labfwd",
        hosts=[{"name": "fwd1", "address": host.address, "roles": ["control_plane", "etcd", "worker"]}],
        ssh={"user": "root", "key": str(lab.key_path)},
        phases=["preflight", "inventory", "kubespray"],
        preflight={"acknowledged": ["systemd"]},  # the lab has no systemd
        kubespray={"extra_vars": {"fixture_root": root}},
    )
    ws = Workspace(root=tmp_path / "root", cluster=spec.name).create()
    shutil.copy(lab.known_hosts, ws.known_hosts)
    preset.save(spec, ws.preset_file)
    phases = (*[p for p in product_phases() if p.name == "preflight"], *fixture_phases("quick.yml"))

    assert run_headless(spec, ws, RunOptions(), phases=phases) == 3
    assert host.exec("cat /proc/sys/net/ipv4/ip_forward").stdout.strip() == "0"
    capfd.readouterr()

    assert resume_headless(ws, RunOptions(apply_fixes=True), phases=phases) == 0
    out = capfd.readouterr()
    said = " ".join((out.out + out.err).split())
    assert "no failure of the last run has a fix" not in said
    assert "Applying: Preflight fixes: enable IP forwarding now and at boot" in said and "✓ fwd1" in said
    assert host.exec("cat /proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
    assert host.exec(f"cat {root}/fwd1/etc/node.conf").stdout == "fwd1\n"  # the run went past preflight
    run_dir = sorted(ws.runs_dir.glob("2*"))[-1]
    starts = [e.phase for e in read_events(run_dir / "events.jsonl") if e.kind == "phase_start"]
    assert starts == ["preflight", "preflight", "inventory", "kubespray"]
