"""Preflight on the lab: real sshd hosts, kwizard.ssh connections with verified host keys, the real
probe, and fixes whose effect is checked inside the hosts themselves.

What the lab can and cannot pass (explicit, so a change shows up as a test failure):
- `systemd` fails on every lab host: PID 1 of a lab host is its sshd. A real install needs systemd.
- `storage` warns on the lab's Gluster hosts: their bricks are directories (no spare disk), which the
  storage module accepts for a lab and flags for production.
- Everything else passes on the healthy hosts (lab1, lab2): ssh, sudo, python, ip_forward, memory,
  cpus, os, kernel, swap, hostname, machine_id, clock, disk, ports, nameserver, ip, and the cluster's
  storage_hosts count.
- The traps: lab3 has no python3, lab5 has ip_forward 0, lab4 has 1 GiB and 1 CPU.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from kwizard import lab as kwlab
from kwizard import preset
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.preflight import Preflight, PreflightReport, run_phase
from kwizard.protocol.phase import Event, PhaseContext, Secrets
from kwizard.spec import ClusterSpec
from tests.integration.conftest import LabFactory
from tests.integration.preflight_offline_repo import build_repo, point_apt_at, python_packages

ROOT = Path(__file__).resolve().parents[2]
LAB_CANNOT_PASS = {"systemd": "fail", "storage": "warn"}


def lab_spec(lab: kwlab.Lab, **changes: object) -> ClusterSpec:
    """presets/lab.yaml pointed at this lab's addresses and key."""
    spec = preset.load(ROOT / "presets" / "lab.yaml")
    names = {h.name for h in lab.hosts}
    hosts = [
        h.model_copy(update={"address": lab.host(h.name).address}) for h in spec.hosts if h.name in names
    ]
    ssh = spec.ssh.model_copy(update={"key": str(lab.key_path)})
    return spec.updated(hosts=hosts, ssh=ssh, **changes)


def context(lab: kwlab.Lab, spec: ClusterSpec, tmp_path: Path, **kwargs: object) -> PhaseContext:
    ws = workspace(spec.name, root=tmp_path).create()
    shutil.copy(lab.known_hosts, ws.known_hosts)  # the lab's real host keys: verified, not accepted blindly
    return PhaseContext(spec=spec, ws=ws, options=RunOptions(), **kwargs)  # type: ignore[arg-type]


def test_default_lab_fails_the_guides_traps_with_the_right_fix(clean_lab: kwlab.Lab, tmp_path: Path) -> None:
    lab = clean_lab  # pristine hosts: other tests remedy lab3 and lab5 on the shared lab
    ctx = context(lab, lab_spec(lab), tmp_path)
    result = run_phase(ctx)
    assert result.status == "failed"  # the engine exits with 3 (EXIT_PREFLIGHT_FAILED)
    report = PreflightReport.from_json(result.data["report"])

    python = report.result("lab3", "python")
    assert (python.status, python.fix_id, python.observed) == ("fail", "install_python3", "no Python at all")
    assert lab.host("lab3").exec("command -v python3").returncode != 0

    forward = report.result("lab5", "ip_forward")
    assert (forward.status, forward.fix_id, forward.observed) == ("fail", "enable_ip_forward", "0")
    assert lab.host("lab5").exec("cat /proc/sys/net/ipv4/ip_forward").stdout.strip() == "0"

    # lab4 is a worker + LB in the preset: 1024 MB meets Kubespray's node minimum exactly, so a warning.
    memory = report.result("lab4", "memory")
    assert (memory.status, memory.observed) == ("warn", "1024 MB")
    assert report.result("lab4", "cpus").status == "pass"

    for name in ("lab1", "lab2"):
        statuses = {
            r.check: r.status for r in report.hosts[[h.host for h in report.hosts].index(name)].results
        }
        assert {c: s for c, s in statuses.items() if s != "pass"} == LAB_CANNOT_PASS, name
        assert "Directory brick" in report.result(name, "storage").observed
    assert {r.host for r in report.results if r.check == "systemd" and r.status == "fail"} == {
        h.name for h in lab.hosts
    }
    assert report.result("cluster", "storage_hosts").status == "pass"

    # The facts are the hosts' own.
    for host in lab.hosts:
        facts = report.facts(host.name)
        assert facts.mem_mb == host.traits.memory_mb and facts.cpus == host.traits.cpus
        assert facts.machine_id == host.exec("cat /etc/machine-id").stdout.strip()
        assert facts.hostname == host.name and host.address in facts.addresses
    assert result.data["python_interpreters"] == {
        n: "/usr/bin/python3" for n in ("lab1", "lab2", "lab4", "lab5")
    }


def test_one_gib_host_as_control_plane_fails_sizing_and_names_instance_types(
    lab: kwlab.Lab, tmp_path: Path
) -> None:
    spec = lab_spec(lab)
    hosts = [
        h.model_copy(update={"roles": ["control_plane", "etcd"], "instance_type": "t2.micro"})
        if h.name == "lab4"
        else h.model_copy(update={"roles": ["worker"]})
        for h in spec.hosts
        if h.name in ("lab1", "lab4")
    ]
    spec = spec.updated(hosts=hosts, target="aws", storage={"type": "none"})
    report = Preflight(context(lab, spec, tmp_path)).run()
    memory, cpus = report.result("lab4", "memory"), report.result("lab4", "cpus")
    assert (memory.status, memory.observed) == ("fail", "1024 MB (t2.micro)")
    assert "1700" in memory.required and "kubeadm" in memory.why
    assert (cpus.status, cpus.observed) == ("fail", "1 (t2.micro)")
    assert "t3.small (2 vCPUs, 2 GiB)" in cpus.fix and "t2.medium" in cpus.fix


def test_acknowledged_failures_let_the_phase_pass(clean_lab: kwlab.Lab, tmp_path: Path) -> None:
    lab = clean_lab
    spec = lab_spec(lab, preflight={"acknowledged": ["python@lab3", "ip_forward@lab5"]})
    ctx = context(lab, spec, tmp_path)
    ctx.options = RunOptions(ignore_preflight=frozenset({"systemd"}))
    result = run_phase(ctx)
    assert result.status == "ok"
    assert set(result.data["acknowledged"]) >= {"python@lab3", "ip_forward@lab5", "systemd@lab1"}
    assert PreflightReport.from_json(result.data["report"]).blocking == []


def test_unreachable_port_fails_only_that_hosts_ssh_check(lab: kwlab.Lab, tmp_path: Path) -> None:
    spec = lab_spec(lab)
    hosts = [h.model_copy(update={"port": 2222}) if h.name == "lab2" else h for h in spec.hosts]
    report = Preflight(context(lab, spec.updated(hosts=hosts), tmp_path)).run()
    ssh = report.result("lab2", "ssh")
    assert ssh.status == "fail" and (
        "connection refused" in ssh.observed or "Unable to connect" in ssh.observed
    )
    assert report.facts("lab2") is None and report.result("lab1", "ssh").status == "pass"


def _seed_offline_apt(host: kwlab.LabHost, tmp_path: Path) -> None:
    """Give `host` an apt source with this machine's python3 packages (the lab has no internet)."""
    repo = build_repo(tmp_path / "repo", python_packages())
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        tar.add(repo, arcname=".")
    seeded = host.exec(
        "mkdir -p /srv/kwizard-repo && base64 -d | tar -xz -C /srv/kwizard-repo && "
        + point_apt_at("/srv/kwizard-repo"),
        input=base64.b64encode(archive.getvalue()).decode(),
        timeout=60,
    )
    assert seeded.returncode == 0, seeded.stderr


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="the offline apt source is built with dpkg-deb")
def test_accepting_fixes_turns_ip_forward_and_python3_green(lab_factory: LabFactory, tmp_path: Path) -> None:
    lab = lab_factory(
        kwlab.HostTraits(name="nopy", python3=False),
        kwlab.HostTraits(name="nofwd", ip_forward=0, user_key=True),  # logged in as the sudo user
    )
    nopy, nofwd = lab.host("nopy"), lab.host("nofwd")
    _seed_offline_apt(nopy, tmp_path)
    spec = ClusterSpec.model_validate(
        {
            "name": "fixes",
            "ssh": {"user": "root", "key": str(lab.key_path)},
            "hosts": [
                {"name": "nopy", "address": nopy.address, "roles": ["control_plane", "etcd"]},
                {"name": "nofwd", "address": nofwd.address, "user": nofwd.user, "roles": ["worker"]},
            ],
        }
    )
    ctx = context(lab, spec, tmp_path, secrets=Secrets(become_password=lab.password))
    events: list[Event] = []
    ctx.emit = events.append
    preflight = Preflight(ctx)
    before = preflight.run()
    assert before.result("nofwd", "sudo").observed == f"{nofwd.user}: sudo with the become password"
    offered = sorted((r.host, r.fix_id) for r in before.results if r.fix_id)
    assert offered == [("nofwd", "enable_ip_forward"), ("nopy", "install_python3")]

    _, after, outcomes = preflight.fix(before, offered)

    assert [(o.host, o.fix_id, o.ok) for o in sorted(outcomes, key=lambda o: o.host)] == [
        ("nofwd", "enable_ip_forward", True),
        ("nopy", "install_python3", True),
    ], outcomes
    assert after.result("nopy", "python").status == "pass"
    assert after.result("nofwd", "ip_forward").status == "pass"
    # The commands' output arrived line by line while they ran (what the Preflight step shows).
    output = {
        host: [e.data["text"] for e in events if e.kind == "log" and e.host == host]
        for host in ("nopy", "nofwd")
    }
    assert any("python3" in line for line in output["nopy"]), output  # apt's own lines
    assert not any(lab.password in line for lines in output.values() for line in lines)
    # What really happened on the hosts: apt reinstalled the interpreter from the offline source...
    assert nopy.exec("python3 -c 'import json; print(json.dumps(1))'").stdout.strip() == "1"
    last_apt_run = nopy.exec("cat /var/log/apt/history.log").stdout.strip().split("\n\n")[-1]
    assert f"--reinstall {' '.join(python_packages())}" in last_apt_run, last_apt_run
    # ...and forwarding is on now and at boot, set through sudo with the password on stdin.
    assert nofwd.exec("cat /proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
    sysctl = nofwd.exec("cat /etc/sysctl.d/99-kwizard-ip-forward.conf").stdout
    assert sysctl.strip() == "net.ipv4.ip_forward = 1"
    auth = nofwd.exec("cat /var/log/auth.log 2>/dev/null; true").stdout
    assert lab.password not in auth


@pytest.mark.skipif(shutil.which("losetup") is None, reason="needs losetup for a spare disk")
def test_storage_device_in_use_and_unused(lab: kwlab.Lab, tmp_path: Path) -> None:
    image = tmp_path / "spare.img"
    with image.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    spare = subprocess.run(
        ["losetup", "--find", "--show", str(image)], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        spec = lab_spec(lab)
        gluster = {"type": "gluster", "gluster": {"size": "32m", "replicas": 1}}
        hosts = [
            h.model_copy(update={"storage_device": spare if h.name == "lab1" else "/dev/kwizard-missing"})
            for h in spec.hosts
            if h.name in ("lab1", "lab2", "lab3")  # three etcd members: an odd count
        ]
        report = Preflight(context(lab, spec.updated(hosts=hosts, storage=gluster), tmp_path)).run()
        free = report.result("lab1", "storage")
        assert free.status == "pass" and "empty and big enough" in free.observed, free
        missing = report.result("lab2", "storage")
        assert missing.status == "fail" and "missing" in missing.observed

        subprocess.run(["mkfs.ext4", "-q", "-F", spare], check=True, capture_output=True, timeout=60)
        report = Preflight(context(lab, spec.updated(hosts=hosts, storage=gluster), tmp_path / "2")).run()
        in_use = report.result("lab1", "storage")
        assert in_use.status == "fail" and "TYPE=ext4" in in_use.observed, in_use
        assert f"wipefs -a {spare}" in in_use.fix
    finally:
        subprocess.run(["losetup", "--detach", spare], check=False, timeout=30)


async def test_wizard_step_fixes_a_cell_and_records_the_rest(
    lab_factory: LabFactory, kwizard_root: Path
) -> None:
    """The Preflight step on a real host: f on ip_forward fixes it on the host; the rest is acknowledged."""
    from textual.coordinate import Coordinate
    from textual.widgets import DataTable

    from kwizard.ui.app import WizardApp
    from kwizard.ui.modals import ChoiceModal
    from kwizard.ui.screens.preflight import PreflightStep

    lab = lab_factory(kwlab.HostTraits(name="tui1", ip_forward=0))
    host = lab.host("tui1")
    spec = ClusterSpec.model_validate(
        {
            "name": "tuifix",
            "ssh": {"user": "root", "key": str(lab.key_path)},
            "hosts": [{"name": "tui1", "address": host.address, "roles": ["control_plane", "etcd"]}],
        }
    )
    ws = workspace(spec.name, root=kwizard_root).create()
    shutil.copy(lab.known_hosts, ws.known_hosts)
    app = WizardApp(spec, root=kwizard_root, start_step="preflight")
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, PreflightStep)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.report is not None and screen.report.result("tui1", "ip_forward").status == "fail"
        table = screen.query_one("#pf-table", DataTable)
        table.cursor_coordinate = Coordinate(
            table.get_row_index("ip_forward"), table.get_column_index("tui1")
        )
        await pilot.press("f")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.report.result("tui1", "ip_forward").status == "pass"
        assert host.exec("cat /proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)  # systemd still fails in the lab
        await pilot.click("#ack")
        await pilot.pause()
        assert type(app.screen).__name__ == "OptionsStep"
        # systemd cannot pass in the lab; no host has the loadbalancer role in this one-host spec.
        assert app.spec.preflight.acknowledged == ["lb_spread@cluster", "systemd@tui1"]


def test_password_only_user_is_checked_with_the_password_and_sudo_with_the_become_password(
    lab: kwlab.Lab, tmp_path: Path
) -> None:
    spec = lab_spec(lab)
    spec = spec.updated(
        hosts=[h for h in spec.hosts if h.name == "lab1"],
        ssh={**spec.ssh.model_dump(), "user": lab.user},
        storage={"type": "none"},
    )
    refused = Preflight(context(lab, spec, tmp_path)).run()
    ssh = refused.result("lab1", "ssh")
    assert ssh.status == "fail" and "refused the key" in ssh.observed and "password" in ssh.fix

    secrets = Secrets(ssh_password=lab.password, become_password=lab.password)
    report = Preflight(context(lab, spec, tmp_path / "2", secrets=secrets)).run()
    assert report.result("lab1", "ssh").observed.startswith(f"{lab.user}@")
    assert report.result("lab1", "sudo").observed == f"{lab.user}: sudo with the become password"


async def test_wizard_step_asks_to_trust_a_new_host_key_before_checking(
    lab: kwlab.Lab, kwizard_root: Path
) -> None:
    """No key known yet: no contact until r; then the fingerprint is shown, and stored once trusted."""
    from kwizard.hostkeys import KnownHosts
    from kwizard.ui.app import WizardApp
    from kwizard.ui.hostkey import HostKeyModal
    from kwizard.ui.screens.preflight import PreflightStep

    spec = lab_spec(lab)
    spec = spec.updated(hosts=[h for h in spec.hosts if h.name == "lab2"], storage={"type": "none"})
    app = WizardApp(spec, root=kwizard_root, start_step="preflight")
    async with app.run_test(size=(120, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, PreflightStep)
        await pilot.pause()
        assert screen.report is None and not screen.running
        await pilot.press("r")
        for _ in range(100):  # bounded: the worker reaches the host key question within seconds
            await pilot.pause(0.05)
            if isinstance(app.screen, HostKeyModal):
                break
        assert isinstance(app.screen, HostKeyModal)
        expected = host_key_fingerprint(lab.host("lab2"))
        assert app.screen.prompt.fingerprint == expected
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.report is not None and screen.report.result("lab2", "ssh").status == "pass"
    [entry] = KnownHosts(workspace(spec.name, root=kwizard_root).known_hosts).lookup(
        lab.host("lab2").address, 22
    )
    assert entry.fingerprint == expected


def host_key_fingerprint(host: kwlab.LabHost) -> str:
    from kwizard.hostkeys import fingerprint, key_from_line

    key_type, key_base64 = host.host_key.split()[:2]
    return fingerprint(key_from_line(key_type, key_base64))
