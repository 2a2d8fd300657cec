"""Sample probe output and specs for the preflight unit tests (recorded shape of a real probe run)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kwizard.preflight.facts import HostFacts, parse_probe
from kwizard.spec import ClusterSpec

# What the probe prints on an Ubuntu 24.04 EC2 t3.medium (values as a real host shows them).
UBUNTU_T3_MEDIUM = """\
probe=1
epoch=1767225600
uid=1000
user=ubuntu
hostname=ip-10-0-1-10
kernel=6.8.0-1021-aws
arch=x86_64
machine_id=0f3c5e0c2a4b4d8e9a1b2c3d4e5f6a7b
os_PRETTY_NAME="Ubuntu 24.04.1 LTS"
os_ID=ubuntu
os_ID_LIKE=debian
os_VERSION_ID="24.04"
mem_kb=3965352
swap_kb=0
cpuinfo_cpus=2
online_cpus=2
ip_forward=1
systemd=1
pid1=systemd
sudo=nopasswd
python=/usr/bin/python3 3.12.3
pkg_manager=apt-get
disk=/ 25165824 18% /
disk=/var 25165824 18% /
listen=22
listen=53
nameserver=127.0.0.53
addr=127.0.0.1
addr=10.0.1.10
addr=::1
addr=fe80::8ff:fe12:3456
dmi_vendor=Amazon EC2
dmi_product=t3.medium
end=1
"""


def facts(text: str = UBUNTU_T3_MEDIUM, **overrides: Any) -> HostFacts:
    """Parsed sample facts with some fields replaced."""
    parsed = parse_probe(text, host="sample", sent_at=1767225600.0, received_at=1767225600.2)
    return replace(parsed, **overrides)


def spec(hosts: list[dict[str, Any]], **extra: Any) -> ClusterSpec:
    """A validated spec with these hosts (addresses default to 10.0.1.1x), plus a control plane at the
    end when none of them is one (the spec requires it)."""
    if not any("control_plane" in h.get("roles", []) for h in hosts):
        hosts = [*hosts, {"name": "cp-extra", "roles": ["control_plane", "etcd"]}]
    filled = []
    for index, host in enumerate(hosts):
        filled.append({"address": f"10.0.1.{10 + index}", **host})
    return ClusterSpec.model_validate({"name": "test", "hosts": filled, **extra})


ONE_CONTROL_PLANE = [{"name": "cp1", "roles": ["control_plane", "etcd", "worker"]}]
