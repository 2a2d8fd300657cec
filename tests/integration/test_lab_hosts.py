"""The default lab's hosts, seen over real ssh and from inside their namespaces."""

from __future__ import annotations

import subprocess

import paramiko
import pytest

from kwizard.lab import Lab, LabHost


@pytest.fixture(scope="module")
def pristine(lab: Lab) -> Lab:
    """The session lab, reset once for this module: these tests check the hosts as `up` makes them."""
    return lab.reset()


def ssh(host: LabHost, command: str, user: str = "root") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        host.ssh_argv([command], user=user), capture_output=True, text=True, timeout=30, check=False
    )


def test_each_host_shows_its_own_identity_over_ssh(pristine: Lab) -> None:
    probe = (
        "hostname; nproc; awk '/^MemTotal/{print $2}' /proc/meminfo; grep -c ^processor /proc/cpuinfo; "
        "cat /proc/sys/net/ipv4/ip_forward; cat /etc/machine-id; (command -v python3 || echo none)"
    )
    machine_ids = set()
    for host in pristine.hosts:
        result = ssh(host, probe)
        assert result.returncode == 0, result.stderr
        name, nproc, mem_kb, cpuinfo, forward, machine_id, python3 = result.stdout.split()
        assert name == host.name
        assert int(mem_kb) == host.traits.memory_mb * 1024
        assert int(nproc) == int(cpuinfo) == host.traits.cpus
        assert int(forward) == host.traits.ip_forward
        assert (python3 != "none") == host.traits.python3
        machine_ids.add(machine_id)
    assert len(machine_ids) == len(pristine.hosts)


def test_default_profile_has_the_guides_traps(pristine: Lab) -> None:
    assert [h.name for h in pristine.hosts] == ["lab1", "lab2", "lab3", "lab4", "lab5"]
    assert not pristine.host("lab3").traits.python3
    assert pristine.host("lab4").traits.memory_mb == 1024
    assert pristine.host("lab5").traits.ip_forward == 0
    assert [h.address for h in pristine.hosts] == [
        str(pristine.gateway).rsplit(".", 1)[0] + f".{i}" for i in range(11, 16)
    ]


def test_python3_is_really_absent_on_lab3_only(pristine: Lab) -> None:
    lab3 = pristine.host("lab3")
    listing = lab3.exec("ls /usr/bin /usr/local/bin | grep -E '^python[0-9.]*$' || true")
    assert listing.stdout.strip() == ""
    assert ssh(lab3, "/usr/bin/python3 -V").returncode == 127
    assert ssh(lab3, "python3.11 -V; python3 -V").returncode == 127
    # Only in lab3's copy-on-write /usr: the machine and the other hosts still have it.
    assert pristine.host("lab1").exec("/usr/bin/python3 -c 'print(42)'").stdout.strip() == "42"


def test_copy_on_write_root_is_private_to_each_host(pristine: Lab) -> None:
    lab1, lab2 = pristine.host("lab1"), pristine.host("lab2")
    assert ssh(lab1, "mkdir -p /data/probe /opt/probe && echo lab1 > /etc/kwizard-probe").returncode == 0
    assert lab1.exec("cat /etc/kwizard-probe").stdout == "lab1\n"
    assert (
        lab2.exec("test -e /etc/kwizard-probe || test -e /opt/probe || test -e /data/probe").returncode == 1
    )
    assert lab1.exec("rm -r /etc/kwizard-probe /opt/probe /data/probe").returncode == 0
    assert subprocess.run(["test", "-e", "/etc/kwizard-probe"], check=False).returncode == 1


def test_host_keys_are_per_host_and_match_what_sshd_serves(pristine: Lab) -> None:
    keys = set()
    for host in pristine.hosts:
        scanned = subprocess.run(
            ["ssh-keyscan", "-t", "ed25519", "-T", "5", host.address],
            capture_output=True,
            text=True,
            timeout=15,
        )
        served = scanned.stdout.split()[1:3]
        assert served == host.host_key.split()[:2]
        keys.add(served[1])
        # Only the host's own key is in its /etc/ssh, not the machine's.
        assert host.exec("ls /etc/ssh | grep -c '^ssh_host_.*_key$'").stdout.strip() == "1"
    assert len(keys) == len(pristine.hosts)


def test_resolv_conf_and_hosts_are_per_host(pristine: Lab) -> None:
    for host in pristine.hosts:
        assert f"nameserver {pristine.gateway}" in host.exec("cat /etc/resolv.conf").stdout
        hosts_file = host.exec("cat /etc/hosts").stdout
        assert all(f"{h.address}\t{h.name}" in hosts_file for h in pristine.hosts)


def _client(host: LabHost) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(host.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return client


def test_root_is_key_only_and_the_sudo_user_password_only(pristine: Lab) -> None:
    host = pristine.host("lab2")
    client = _client(host)
    with pytest.raises(paramiko.AuthenticationException):
        client.connect(
            host.address, username="root", password=host.password, look_for_keys=False, allow_agent=False
        )
    client = _client(host)
    with pytest.raises(paramiko.AuthenticationException):
        client.connect(
            host.address,
            username=host.user,
            key_filename=str(host.key_path),
            look_for_keys=False,
            allow_agent=False,
        )
    assert host.exec(f"cat /home/{host.user}/.ssh/authorized_keys").stdout == ""
    assert host.exec("cat /root/.ssh/authorized_keys").stdout.strip() == pristine.public_key
    assert ssh(host, "id -u").stdout.strip() == "0"


def test_sudo_user_logs_in_with_the_password_and_sudo_asks_for_it(pristine: Lab) -> None:
    host = pristine.host("lab1")
    client = _client(host)
    client.connect(
        host.address, username=host.user, password=host.password, look_for_keys=False, allow_agent=False
    )
    try:
        _, out, _ = client.exec_command("sudo -n true; echo $?", timeout=15)
        assert out.read().decode().strip() == "1"  # no NOPASSWD by default
        stdin, out, _ = client.exec_command("sudo -S -p '' id -u", timeout=15)
        stdin.write(host.password + "\n")
        stdin.flush()
        assert out.read().decode().strip() == "0"
    finally:
        client.close()


def test_shadow_locks_with_star_not_bang(pristine: Lab) -> None:
    shadow = pristine.host("lab1").exec("getent shadow root").stdout.split(":")
    assert shadow[1] == "*"
