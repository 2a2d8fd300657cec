"""Lab lifecycle on this machine: idempotent up, complete teardown, crash recovery, rollback, clear errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kwizard import lab as kwlab
from kwizard.errors import InputError, KwizardError
from kwizard.lab import HostTraits, process
from kwizard.lab.layout import LabLayout
from tests.integration.conftest import FACTORY_NAME, FACTORY_SUBNET, LabFactory

REPO = Path(__file__).resolve().parents[2]


def _layout(lab_root: Path) -> LabLayout:
    return LabLayout(name=FACTORY_NAME, subnet=FACTORY_SUBNET, root=lab_root)


def _leftovers(layout: LabLayout) -> list[str]:
    """Every trace of the lab this machine still has (empty when it is really gone)."""
    found = []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += [line for line in netns.splitlines() if line.startswith(layout.netns_prefix)]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    found += [
        line.split(":")[1].strip()
        for line in links.splitlines()
        if layout.veth_prefix in line or f" {layout.bridge}:" in line
    ]
    for mountinfo in ("/proc/self/mountinfo", "/proc/1/mountinfo"):
        text = Path(mountinfo).read_text()
        found += [
            line for line in text.splitlines() if str(layout.state_dir) in line or layout.netns_prefix in line
        ]
    loops = subprocess.run(
        ["losetup", "--list", "--noheadings", "-O", "BACK-FILE"], capture_output=True, text=True
    )
    found += [line for line in loops.stdout.splitlines() if str(layout.state_dir) in line]
    found += [str(folder) for folder in (layout.state_dir, layout.run_dir) if folder.exists()]
    return found


def _cli(*args: str, root: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KWIZARD_WORKDIR": str(root), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "kwizard", "lab", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_down_leaves_no_namespace_interface_mount_loop_device_or_process(
    lab_factory: LabFactory, lab_root: Path
) -> None:
    lab = lab_factory(
        HostTraits(name="t1", disk="loop", disk_size_mb=64, glusterd=True), HostTraits(name="t2", disk="dir")
    )
    t1 = lab.host("t1")
    assert t1.exec("findmnt -no FSTYPE /data").stdout.strip() == "ext4"
    assert t1.exec("sleep 300 >/dev/null 2>&1 &").returncode == 0  # a stray process inside the host
    # An ssh control master in the lab's folder, as ansible would leave one.
    master = subprocess.run(
        [*t1.ssh_argv(user="root")[:-1], "-o", "ControlMaster=yes", "-o", "ControlPersist=300",
         "-o", f"ControlPath={lab.control_path_dir}/%C", "-fN", f"root@{t1.address}"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert master.returncode == 0, master.stderr
    layout = _layout(lab_root)
    pids = {pid for host in lab.hosts for pid in process.find_init(host.netns) if pid}
    pids |= {int(p) for netns in (h.netns for h in lab.hosts) for p in subprocess.check_output(
        ["ip", "netns", "pids", netns], text=True).split()}  # fmt: skip
    masters = subprocess.run(
        ["pgrep", "-f", f"ControlPath={lab.control_path_dir}"], capture_output=True, text=True
    )
    assert masters.stdout.split(), "the control master should be running"
    assert len(pids) >= 6 and _leftovers(layout)

    assert kwlab.down(lab.name, root=lab_root) is True

    assert _leftovers(layout) == []
    assert [pid for pid in pids if process.alive(pid)] == []
    assert [int(p) for p in masters.stdout.split() if process.alive(int(p))] == []
    assert kwlab.down(lab.name, root=lab_root) is False  # nothing to do the second time


def test_up_twice_is_idempotent_and_another_profile_recreates(lab_factory: LabFactory) -> None:
    first = lab_factory(HostTraits(name="i1"), HostTraits(name="i2"))
    again = lab_factory(HostTraits(name="i1"), HostTraits(name="i2"))
    assert again.reused and not first.reused
    assert [h.init_pid for h in again.hosts] == [h.init_pid for h in first.hosts]
    assert [h.host_key for h in again.hosts] == [h.host_key for h in first.hosts]
    other = lab_factory(HostTraits(name="i1", memory_mb=2048))
    assert not other.reused and [h.name for h in other.hosts] == ["i1"]
    assert not first.host("i2").is_running()
    assert "2097152" in other.host("i1").exec("grep MemTotal /proc/meminfo").stdout


def test_a_killed_up_is_cleaned_by_down(lab_factory: LabFactory, lab_root: Path) -> None:
    env = {**os.environ, "KWIZARD_WORKDIR": str(lab_root), "PYTHONPATH": str(REPO)}
    layout = _layout(lab_root)
    up = subprocess.Popen(
        [sys.executable, "-m", "kwizard", "lab", "up", "--name", FACTORY_NAME, "--subnet", FACTORY_SUBNET,
         "--hosts", "6"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.count(
        layout.netns_prefix
    ):
        assert up.poll() is None and time.monotonic() < deadline, "up never created a namespace"
        time.sleep(0.005)
    up.send_signal(signal.SIGKILL)
    up.wait(timeout=10)
    assert _leftovers(layout)
    status = json.loads(layout.state_file.read_text())["status"]
    assert status in ("starting", "up")

    result = _cli("down", "--name", FACTORY_NAME, root=lab_root)
    assert result.returncode == 0, result.stderr
    assert _leftovers(layout) == []


def test_down_without_state_file_sweeps_by_name(lab_factory: LabFactory, lab_root: Path) -> None:
    lab = lab_factory(HostTraits(name="w1"), HostTraits(name="w2"))
    (lab.state_dir / "state.json").unlink()
    assert kwlab.load(lab.name, root=lab_root) is None
    assert kwlab.down(lab.name, root=lab_root) is True
    assert _leftovers(_layout(lab_root)) == []


def test_a_host_that_fails_to_start_rolls_the_lab_back(
    lab_factory: LabFactory, lab_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = process.install_init_script

    def broken_for_f2(host_dir: Path) -> Path:
        script = real(host_dir)
        if host_dir.name == "f2":
            script.write_text("echo 'sshd: fatal: no host keys available' >&2\nexit 3\n")
        return script

    monkeypatch.setattr(process, "install_init_script", broken_for_f2)
    with pytest.raises(KwizardError) as caught:
        lab_factory(HostTraits(name="f1"), HostTraits(name="f2"), HostTraits(name="f3"))
    text = caught.value.render_text()
    assert "f2 failed to start" in text and "no host keys available" in text and "removed again" in text
    assert _leftovers(_layout(lab_root)) == []


def test_an_address_range_in_use_is_refused(lab_factory: LabFactory, lab_root: Path) -> None:
    dummy = f"kwd-{FACTORY_NAME}"[:15]
    network_prefix = FACTORY_SUBNET.rsplit(".", 1)[0]
    # A bridge rather than a dummy interface: every kernel that can run the lab has bridges.
    subprocess.run(["ip", "link", "add", dummy, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", f"{network_prefix}.200/24", "dev", dummy], check=True)
        with pytest.raises(InputError) as caught:
            lab_factory(HostTraits(name="r1"))
        assert "range in use" in caught.value.title and dummy in caught.value.problem
        assert "--subnet" in caught.value.fix
    finally:
        subprocess.run(["ip", "link", "del", dummy], check=False)
    assert _leftovers(_layout(lab_root)) == []


def test_cli_up_status_ssh_down(lab_factory: LabFactory, lab_root: Path, tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("hosts:\n  - {name: c1, az: zone-a, cpus: 1}\n  - {name: c2, python3: false}\n")
    up = _cli(
        "up", "--name", FACTORY_NAME, "--subnet", FACTORY_SUBNET, "--profile", str(profile), root=lab_root
    )
    assert up.returncode == 0, up.stderr
    assert (
        f"Lab {FACTORY_NAME} is up: 2 hosts" in up.stdout and "c2" in up.stdout and "no python3" in up.stdout
    )
    status = json.loads(_cli("status", "--name", FACTORY_NAME, "--json", root=lab_root).stdout)
    assert status["up"] and [h["name"] for h in status["hosts"]] == ["c1", "c2"]
    assert status["hosts"][0]["traits"]["az"] == "zone-a" and all(h["running"] for h in status["hosts"])
    assert status["hosts"][1]["users"] == {"root": "key", "kwuser": "password"}
    assert Path(status["key_path"]).stat().st_mode & 0o777 == 0o600
    assert Path(status["state_dir"]).stat().st_mode & 0o777 == 0o700
    lab = kwlab.load(FACTORY_NAME, root=lab_root)
    assert lab is not None and status["password"] == lab.password
    text = _cli("status", "--name", FACTORY_NAME, root=lab_root).stdout
    assert "2 of 2 hosts running" in text and lab.password in text
    assert _cli("status", "--name", FACTORY_NAME, "--password", root=lab_root).stdout.strip() == lab.password
    ssh = _cli("ssh", "--name", FACTORY_NAME, "c1", "--", "hostname; nproc", root=lab_root)
    assert ssh.returncode == 0 and ssh.stdout.split() == ["c1", "1"], ssh.stderr
    assert _cli("ssh", "--name", FACTORY_NAME, "c2", "python3", "-V", root=lab_root).returncode == 127
    assert status["hosts"][1]["now"] == {"python3": 0, "ip_forward": 1}
    # python3 "installed" on c2 after lab up: status shows what the host has now, not only its profile.
    assert (
        lab.host("c2")
        .exec("printf '#!/bin/sh\\n' > /usr/bin/python3 && chmod +x /usr/bin/python3")
        .returncode
        == 0
    )
    now = json.loads(_cli("status", "--name", FACTORY_NAME, "--json", root=lab_root).stdout)["hosts"][1]
    assert now["now"] == {"python3": 1, "ip_forward": 1} and now["traits"]["python3"] is False
    rows = {
        line.split()[0]: line
        for line in _cli("status", "--name", FACTORY_NAME, root=lab_root).stdout.splitlines()
        if line.startswith("c2")
    }
    assert "NOW" in text and "PROFILE (AS STARTED)" in text
    assert rows["c2"].index("python3, ip_forward 1") < rows["c2"].index("no python3")  # now, then the profile
    unknown = _cli("ssh", "--name", FACTORY_NAME, "c9", root=lab_root)
    assert unknown.returncode == 2 and "Use one of: c1, c2" in unknown.stderr
    down = _cli("down", "--name", FACTORY_NAME, root=lab_root)
    assert down.returncode == 0 and "is down" in down.stdout
    again = _cli("down", "--name", FACTORY_NAME, root=lab_root)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    gone = json.loads(_cli("status", "--name", FACTORY_NAME, "--json", root=lab_root).stdout)
    assert gone == {"name": FACTORY_NAME, "up": False, "hosts": []}


def test_reset_restores_pristine_hosts_and_keeps_keys(lab_factory: LabFactory, lab_root: Path) -> None:
    lab = lab_factory(
        HostTraits(name="p1", disk="loop", disk_size_mb=64), HostTraits(name="p2", ip_forward=0)
    )
    p1, p2 = lab.host("p1"), lab.host("p2")
    assert (
        p1.exec(
            f"echo '{lab.public_key}' >> /home/kwuser/.ssh/authorized_keys && touch /data/x /etc/x"
        ).returncode
        == 0
    )
    assert p2.exec("sysctl -qw net.ipv4.ip_forward=1").returncode == 0
    fresh = kwlab.reset(lab.name, root=lab_root)
    f1, f2 = fresh.host("p1"), fresh.host("p2")
    assert f1.init_pid != p1.init_pid and f1.is_running()
    # A LabHost held from before the reset follows the restarted host rather than its old process.
    assert p1.is_running() and p1.exec("hostname").stdout.strip() == "p1"
    assert (
        f1.exec("cat /home/kwuser/.ssh/authorized_keys; ls /data /etc/x 2>&1").stdout.count("No such file")
        == 1
    )
    assert f2.exec("cat /proc/sys/net/ipv4/ip_forward").stdout.strip() == "0"
    assert [h.host_key for h in fresh.hosts] == [h.host_key for h in lab.hosts]
    assert fresh.password == lab.password
    ssh = subprocess.run(f1.ssh_argv(["hostname"]), capture_output=True, text=True, timeout=30)
    assert ssh.stdout.strip() == "p1", ssh.stderr  # the old known_hosts entry still verifies the host
    only = kwlab.reset(lab.name, root=lab_root, hosts=["p2"])
    assert only.host("p1").init_pid == f1.init_pid and only.host("p2").init_pid != f2.init_pid
    with pytest.raises(InputError, match="Unknown lab host"):
        kwlab.reset(lab.name, root=lab_root, hosts=["nope"])
