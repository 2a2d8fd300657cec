"""Preflight storage checks: replica counts, and device facts probed from real (loop) block devices."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kwizard.spec import ClusterSpec
from kwizard.storage.checks import (
    DeviceFacts,
    device_probe_command,
    parse_device_probe,
    size_bytes,
    storage_checks,
)
from tests.loop_devices import loop_device, loop_devices_available

needs_loop = pytest.mark.skipif(not loop_devices_available(), reason="needs root and loop devices")


def spec(
    storage_hosts: int = 3, replicas: int = 3, device: str | None = "/dev/sdb", **extra: object
) -> ClusterSpec:
    hosts = [{"name": "cp1", "address": "10.0.0.1", "roles": ["control_plane", "etcd", "worker"]}]
    hosts += [
        {"name": f"g{n}", "address": f"10.0.1.{n}", "roles": ["storage"], "storage_device": device}
        for n in range(1, storage_hosts + 1)
    ]
    return ClusterSpec.model_validate(
        {
            "name": "c",
            "hosts": hosts,
            "storage": {"type": "gluster", "gluster": {"replicas": replicas}},
            **extra,
        }
    )


def probe(device: str) -> DeviceFacts:
    output = subprocess.run(
        ["sh", "-c", device_probe_command(device)], capture_output=True, text=True, timeout=30
    ).stdout
    return parse_device_probe(output)


@needs_loop
def test_an_empty_device_is_accepted(tmp_path: Path) -> None:
    with loop_device(tmp_path, size_mb=64) as device:
        facts = probe(device)
    assert facts.exists and facts.is_block and facts.is_empty
    assert facts.size_bytes == 64 * 1024 * 1024
    checks = storage_checks(spec(), {"g1": facts})
    assert [c.status for c in checks if c.host == "g1"] == ["fail"]  # 64 MiB < 9g
    small = spec().updated(storage={"type": "gluster", "gluster": {"size": "32m"}})
    assert [c.status for c in storage_checks(small, {"g1": facts}) if c.host == "g1"] == ["ok"]


@needs_loop
def test_a_device_with_a_filesystem_fails_the_check(tmp_path: Path) -> None:
    with loop_device(tmp_path, size_mb=64, filesystem="ext4") as device:
        facts = probe(device)
    assert facts.exists and not facts.is_empty
    assert "TYPE=ext4" in facts.signatures
    (check,) = [c for c in storage_checks(spec(), {"g1": facts}) if c.host == "g1"]
    assert check.status == "fail" and check.title == "/dev/sdb holds data"
    assert "TYPE=ext4" in check.detail and "wipefs -a /dev/sdb" in check.fix


def test_a_missing_device_fails() -> None:
    facts = probe("/dev/kwizard-no-such-disk")
    assert not facts.exists
    (check,) = [c for c in storage_checks(spec(), {"g1": facts}) if c.host == "g1"]
    assert check.status == "fail" and "not a block device" in check.detail


def test_kwizards_own_volume_group_is_accepted() -> None:
    output = (
        "--kwizard-storage--\nblock\n--kwizard-storage--\n10737418240\n--kwizard-storage--\n"
        "DEVNAME=/dev/sdb\nUUID=abc\nVERSION=LVM2 001\nTYPE=LVM2_member\n--kwizard-storage--\n2\n"
        "--kwizard-storage--\n  kwizard_gluster|kwizard\n--kwizard-storage--\n"
    )
    facts = parse_device_probe(output)
    assert facts.is_ours and facts.children == 1
    (check,) = [c for c in storage_checks(spec(), {"g1": facts}) if c.host == "g1"]
    assert check.status == "ok"


def test_someone_elses_volume_group_is_data() -> None:
    output = (
        "--kwizard-storage--\nblock\n--kwizard-storage--\n10737418240\n--kwizard-storage--\n"
        "TYPE=LVM2_member\n--kwizard-storage--\n1\n--kwizard-storage--\n  vg_db|\n--kwizard-storage--\n"
    )
    facts = parse_device_probe(output)
    assert not facts.is_ours
    (check,) = [c for c in storage_checks(spec(), {"g1": facts}) if c.host == "g1"]
    assert check.status == "fail"


@pytest.mark.parametrize(
    ("hosts", "replicas", "status"), [(3, 3, "ok"), (6, 3, "ok"), (2, 1, "ok"), (4, 3, "fail"), (4, 2, "ok")]
)
def test_replica_check(hosts: int, replicas: int, status: str) -> None:
    checks = storage_checks(spec(hosts, replicas), {})
    assert checks[0].id == "storage.replicas" and checks[0].status == status


def test_directory_bricks_warn_and_unprobed_hosts_warn() -> None:
    directory = storage_checks(spec(device=None), {})
    assert {c.status for c in directory if c.host} == {"warn"}
    assert "Directory brick" in {c.title for c in directory}
    unprobed = storage_checks(spec(), {"g1": None})
    assert [c.title for c in unprobed if c.host == "g1"] == ["/dev/sdb not checked"]


def test_ebs_outside_aws_fails_and_other_types_have_no_checks() -> None:
    ebs = spec().updated(storage={"type": "aws-ebs"})
    (check,) = storage_checks(ebs, {})
    assert check.status == "fail" and check.id == "storage.ebs-target"
    assert storage_checks(spec().updated(storage={"type": "local-path"}), {}) == []


def test_size_bytes() -> None:
    assert size_bytes("9g") == 9 * 1024**3
    assert size_bytes("500m") == 500 * 1024**2
