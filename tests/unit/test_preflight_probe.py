"""The probe script, run for real by /bin/sh on this machine, and its parser."""

from __future__ import annotations

import ipaddress
import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from kwizard.errors import RemoteError
from kwizard.preflight import probe as probe_module
from kwizard.preflight.facts import HostFacts, parse_probe
from kwizard.preflight.probe import probe_arguments, probe_command, probe_script
from kwizard.storage.checks import device_probe_command
from tests.unit.preflight_samples import UBUNTU_T3_MEDIUM, facts, spec


def run_probe_locally(
    *args: str, shell: str = "/bin/sh", env: dict[str, str] | None = None, hiding: Sequence[str] = ()
) -> str:
    """The probe on this machine; with `hiding`, in a private mount namespace where each of those paths
    is /dev/null (so it cannot run)."""
    argv = [shell, "-c", probe_script(), "kwizard-probe", *args]
    if hiding:
        hide = " && ".join(f"mount --bind /dev/null {shlex.quote(p)}" for p in hiding)
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", f"{hide} && {shlex.join(argv)}"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, check=True)
    return result.stdout


def test_probe_runs_under_posix_sh_and_reports_this_machine():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        sent = time.time()
        text = run_probe_locally()
        found = parse_probe(text, host="local", sent_at=sent, received_at=time.time())
    assert found.hostname == os.uname().nodename
    assert found.kernel == os.uname().release
    assert port in found.listening
    meminfo = Path("/proc/meminfo").read_text()
    mem_kb = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal:")))
    assert found.mem_mb == mem_kb // 1024
    assert found.cpus is not None and 1 <= found.cpus <= (os.cpu_count() or 1)
    assert found.ip_forward == int(Path("/proc/sys/net/ipv4/ip_forward").read_text())
    assert "127.0.0.1" in found.addresses
    assert found.clock_skew is not None and abs(found.clock_skew) <= 2
    assert found.os_id and found.machine_id
    assert found.disk("/") is not None and found.disk("/").free_mb > 0
    assert found.sudo == ("root" if os.geteuid() == 0 else found.sudo)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root for a mount namespace"
)
def test_probe_finishes_on_a_host_without_python():
    """Every python3 on this machine hidden (as on the lab's python-less host): the probe still finishes."""
    pythons = sorted(
        {str(Path(p)) for p in Path("/usr/bin").glob("python3*") if p.is_file()} | {"/usr/bin/python3"}
    )
    text = run_probe_locally(
        hiding=[p for p in pythons if Path(p).exists()], env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    )
    parsed = parse_probe(text, host="no-python")
    assert [i.path for i in parsed.interpreters if i.path.startswith("/usr/bin/python3")] == []
    assert parsed.mem_mb and parsed.hostname and parsed.package_manager == "apt-get"


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ss"),
    reason="needs root for a mount namespace, and ss to hide",
)
def test_listening_ports_come_from_proc_when_ss_is_missing_or_broken():
    """ss replaced by an unrunnable file: the ports are read from /proc/net/tcp instead, none lost."""
    ss = os.path.realpath(shutil.which("ss") or "")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with_ss = parse_probe(run_probe_locally(f"ports={port}"), host="h")
        without_ss = parse_probe(run_probe_locally(f"ports={port}", hiding=[ss]), host="h")
    assert port in with_ss.listening and with_ss.program_on(port) is not None
    assert port in without_ss.listening
    assert without_ss.listeners == ()  # no program names without ss


def test_probe_runs_the_storage_modules_device_probe(tmp_path):
    missing = parse_probe(run_probe_locally(f"devcmd={device_probe_command('/dev/kwizard-no')}"), host="h")
    assert missing.device is not None and not missing.device.exists
    regular = tmp_path / "disk.img"
    regular.write_bytes(b"\0" * 1024)
    not_block = parse_probe(run_probe_locally(f"devcmd={device_probe_command(str(regular))}"), host="h")
    assert not_block.device is not None and not not_block.device.is_block
    assert parse_probe(run_probe_locally(), host="h").device is None  # no disk named: nothing probed
    assert HostFacts.from_json(missing.to_json()) == missing


def test_probe_reports_free_space_for_a_brick_that_does_not_exist_yet(tmp_path):
    brick = tmp_path / "data" / "glusterfs" / "brick1"
    parsed = parse_probe(run_probe_locally(f"brick={brick}"), host="h")
    assert parsed.brick is not None and parsed.brick.path == str(brick) and parsed.brick.free_mb > 0


def test_probe_command_quotes_every_argument(monkeypatch):
    hosts = [
        {
            "name": "s1",
            "roles": ["control_plane", "etcd", "storage"],
            "storage_device": "/dev/disk/by-id/x;rm$(id)'q",
            "python_interpreter": "/opt/py $(id)/python3",
        }
    ]
    # The spec refuses such values now; the quoting is checked anyway, on a spec built past validation.
    plain = spec([{**hosts[0], "storage_device": "/dev/sdb", "python_interpreter": None}],
                 storage={"type": "gluster", "gluster": {"replicas": 1}})  # fmt: skip
    cluster = plain.model_copy(
        update={
            "hosts": [plain.hosts[0].model_copy(update={k: hosts[0][k] for k in hosts[0] if k != "roles"})]
        }
    )
    expected = [
        "py=/opt/py $(id)/python3",
        "ports=2379,2380,6443,10250,10257,10259",
        f"devcmd={device_probe_command(hosts[0]['storage_device'])}",
    ]
    assert probe_arguments(cluster, cluster.hosts[0]) == expected
    # Swap the probe for one that prints its arguments: a shell running the command line must hand
    # them over unchanged, with nothing expanded or split.
    monkeypatch.setattr(probe_module, "probe_script", lambda: 'printf "%s\\n" "$@"')
    command = probe_command(cluster, cluster.hosts[0])
    echoed = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True, timeout=10)
    assert echoed.stdout.splitlines() == expected


def test_parse_sample_and_json_round_trip():
    parsed = facts()
    assert parsed.os_id == "ubuntu" and parsed.os_version_id == "24.04" and parsed.os_like == ("debian",)
    assert parsed.mem_mb == 3872 and parsed.cpus == 2 and parsed.aws_instance_type == "t3.medium"
    assert parsed.addresses == ("127.0.0.1", "10.0.1.10", "::1", "fe80::8ff:fe12:3456")
    assert parsed.clock_skew == pytest.approx(-0.1)
    assert HostFacts.from_json(parsed.to_json()) == parsed


def test_parse_ss_listeners_and_smaller_cpu_count():
    text = UBUNTU_T3_MEDIUM.replace("online_cpus=2", "online_cpus=1") + (
        'ss=LISTEN 0 4096 *:6443 *:* users:(("kube-apiserver",pid=812,fd=3))\n'
        'ss=LISTEN 0 4096 127.0.0.1:2379 0.0.0.0:* users:(("etcd",pid=700,fd=7))\n'
    )
    parsed = parse_probe(text, host="h")
    assert parsed.cpus == 1
    assert parsed.program_on(6443) == "kube-apiserver" and parsed.program_on(2379) == "etcd"


def test_output_without_the_end_marker_is_a_clear_remote_error():
    with pytest.raises(RemoteError) as caught:
        parse_probe("probe=1\nhostname=x\n", host="lab3")
    assert "lab3" in caught.value.problem and "incomplete" in caught.value.problem
    with pytest.raises(RemoteError):
        parse_probe("", host="lab3")


def test_program_names_are_asked_only_for_taken_ports_and_addresses_are_canonical():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        quiet = parse_probe(run_probe_locally("ports=1,2"), host="h")
        asked = parse_probe(run_probe_locally(f"ports={port}"), host="h")
    assert "ss=" not in run_probe_locally("ports=1,2")
    if os.geteuid() == 0 and shutil.which("ss"):
        assert asked.program_on(port) is not None  # this test's own python
    assert quiet.listeners == ()
    assert all(a == str(ipaddress.ip_address(a)) for a in asked.addresses)
    assert len(asked.addresses) == len(set(asked.addresses))
