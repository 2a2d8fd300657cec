"""Traits a profile can give lab hosts, checked on the hosts themselves: logins, sudo, disks, Gluster."""

from __future__ import annotations

import time

import paramiko

from kwizard.lab import HostTraits, LabHost
from tests.integration.conftest import LabFactory


def _connect(host: LabHost, user: str, **auth: object) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(host.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(host.address, username=user, look_for_keys=False, allow_agent=False, timeout=15, **auth)  # type: ignore[arg-type]
    return client


def _run(client: paramiko.SSHClient, command: str) -> str:
    _, out, _ = client.exec_command(command, timeout=15)
    return out.read().decode().strip()


def test_login_and_sudo_traits(lab_factory: LabFactory) -> None:
    lab = lab_factory(
        HostTraits(name="open", root_password=True, sudo_nopasswd=True, user_key=True, az="zone-b")
    )
    host = lab.host("open")
    root = _connect(host, "root", password=host.password)
    assert _run(root, "id -u") == "0"
    root.close()
    user = _connect(host, host.user, key_filename=str(host.key_path))
    assert _run(user, "sudo -n id -u") == "0"  # NOPASSWD
    user.close()
    assert host.exec(f"cat /home/{host.user}/.ssh/authorized_keys").stdout.strip() == lab.public_key
    assert host.traits.az == "zone-b"


def _wait(host: LabHost, command: str, expect: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        result = host.exec(command, timeout=30)
        if expect in result.stdout:
            return result.stdout
        assert time.monotonic() < deadline, f"{host.name}: {command!r} never showed {expect!r}: {result}"
        time.sleep(0.2)


def test_gluster_replica_3_volume_across_three_hosts_fuse_mounted(lab_factory: LabFactory) -> None:
    lab = lab_factory(
        HostTraits(name="g1", disk="dir", glusterd=True),
        HostTraits(name="g2", disk="dir", glusterd=True),
        HostTraits(name="g3", disk="loop", disk_size_mb=128, glusterd=True),
    )
    g1 = lab.host("g1")
    for peer in ("g2", "g3"):
        assert g1.exec(f"gluster --mode=script peer probe {peer}").returncode == 0
    _wait(g1, "gluster --mode=script peer status | grep -c 'Peer in Cluster (Connected)'", "2")
    bricks = " ".join(f"{h.name}:/data/brick" for h in lab.hosts)
    create = g1.exec(f"gluster --mode=script volume create gv0 replica 3 {bricks}")
    assert create.returncode == 0, create.stdout + create.stderr
    assert g1.exec("gluster --mode=script volume start gv0").returncode == 0, "volume start failed"
    mount = g1.exec(
        "mkdir -p /mnt/gv0 && mount -t glusterfs g1:/gv0 /mnt/gv0 && echo replicated > /mnt/gv0/probe"
    )
    assert mount.returncode == 0, mount.stderr
    assert g1.exec("findmnt -no FSTYPE /mnt/gv0").stdout.strip() == "fuse.glusterfs"
    # The file is really on each host's own brick (three copies, three hosts).
    for host in lab.hosts:
        assert host.exec("cat /data/brick/probe").stdout == "replicated\n"
    assert lab.host("g3").exec("findmnt -no FSTYPE /data").stdout.strip() == "ext4"
    # glusterd state is private per host: three different peer UUIDs.
    uuids = {h.exec("grep UUID /var/lib/glusterd/glusterd.info").stdout for h in lab.hosts}
    assert len(uuids) == 3
