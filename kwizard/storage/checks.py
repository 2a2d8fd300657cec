"""Preflight checks of the storage choice: enough storage hosts for the replicas, and usable disks.

`device_probe_command(device)` is the shell line preflight runs on a storage host (in its single round
trip); `parse_device_probe(output)` turns its output into DeviceFacts; `storage_checks(spec, facts)` judges.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kwizard.spec import ClusterSpec, Host
from kwizard.storage.plan import LVM_TAG, VOLUME_GROUP

CheckStatus = Literal["ok", "warn", "fail"]
_MARK = "--kwizard-storage--"
# LVM keeps its metadata at the start of the physical volume; leave room for it.
_LVM_OVERHEAD = 4 * 1024 * 1024
_UNIT_BYTES = {"m": 1024**2, "g": 1024**3, "t": 1024**4}


@dataclass(frozen=True)
class DeviceFacts:
    """What a storage host said about its storage device."""

    exists: bool
    is_block: bool = False
    size_bytes: int = 0
    signatures: tuple[str, ...] = ()  # blkid's "TYPE=xfs", "PTTYPE=gpt", …
    children: int = 0  # partitions or device-mapper holders
    lvm_group: str = ""
    lvm_tags: tuple[str, ...] = ()

    @property
    def is_ours(self) -> bool:
        return self.lvm_group == VOLUME_GROUP and LVM_TAG in self.lvm_tags

    @property
    def is_empty(self) -> bool:
        return not self.signatures and self.children == 0


@dataclass(frozen=True)
class StorageCheck:
    id: str
    status: CheckStatus
    title: str
    detail: str = ""
    fix: str = ""
    host: str | None = None


def device_probe_command(device: str) -> str:
    """A POSIX shell line that prints what DeviceFacts needs about `device` (read-only)."""
    dev = shlex.quote(device)
    return (
        f"echo {_MARK}; if [ -b {dev} ]; then echo block; else echo missing; fi; "
        f"echo {_MARK}; blockdev --getsize64 {dev} 2>/dev/null; "
        f"echo {_MARK}; blkid -p -o export {dev} 2>/dev/null; "
        f"echo {_MARK}; lsblk --noheadings --list -o NAME {dev} 2>/dev/null | wc -l; "
        f"echo {_MARK}; pvs --noheadings --separator '|' -o vg_name,vg_tags {dev} 2>/dev/null; "
        f"echo {_MARK}"
    )


def parse_device_probe(output: str) -> DeviceFacts:
    """DeviceFacts from the output of `device_probe_command`."""
    parts = output.split(_MARK)
    if len(parts) < 7:
        return DeviceFacts(exists=False)
    kind, size, probe, children, pv = (p.strip() for p in parts[1:6])
    if kind != "block":
        return DeviceFacts(exists=False)
    group, _, tags = pv.partition("|")
    lines = [line.strip() for line in probe.splitlines()]
    return DeviceFacts(
        exists=True,
        is_block=True,
        size_bytes=int(size) if size.isdigit() else 0,
        signatures=tuple(line for line in lines if line and not line.startswith("DEVNAME=")),
        children=max(int(children) - 1, 0) if children.isdigit() else 0,
        lvm_group=group.strip(),
        lvm_tags=tuple(t for t in tags.strip().split(",") if t),
    )


def size_bytes(size: str) -> int:
    """Bytes of an LVM size such as '9g'."""
    return int(size[:-1]) * _UNIT_BYTES[size[-1].lower()]


def storage_checks(spec: ClusterSpec, facts: Mapping[str, DeviceFacts | None]) -> list[StorageCheck]:
    """Judge spec's storage choice; `facts` maps storage host name → its device facts (None: not probed)."""
    if spec.storage.type == "aws-ebs" and spec.target != "aws":
        return [
            StorageCheck(
                "storage.ebs-target",
                "fail",
                "AWS EBS storage outside AWS",
                f"storage.type is aws-ebs but the target is {spec.target}",
                "Choose gluster or local-path storage, or set target: aws.",
            )
        ]
    if spec.storage.type != "gluster":
        return []
    return [_replica_check(spec), *(_device_check(spec, h.name, facts.get(h.name)) for h in _storage(spec))]


def _storage(spec: ClusterSpec) -> list[Host]:
    return spec.hosts_with("storage")


def _replica_check(spec: ClusterSpec) -> StorageCheck:
    replicas, count = spec.storage.gluster.replicas, len(_storage(spec))
    if count >= replicas and count % replicas == 0:
        return StorageCheck(
            "storage.replicas", "ok", f"{count} storage hosts for a replica-{replicas} volume"
        )
    return StorageCheck(
        "storage.replicas",
        "fail",
        "Not enough storage hosts" if count < replicas else "Storage hosts do not fill the replica sets",
        f"a replica-{replicas} Gluster volume needs a multiple of {replicas} hosts with the storage role; "
        f"{count} have it",
        f"Give the storage role to {replicas} (or {2 * replicas}, …) hosts, "
        "or change storage.gluster.replicas.",
    )


def _device_check(spec: ClusterSpec, name: str, device_facts: DeviceFacts | None) -> StorageCheck:
    device = spec.host(name).storage_device
    check_id = "storage.device"
    if device is None:
        return StorageCheck(
            check_id,
            "warn",
            "Directory brick",
            f"no storage_device: the brick is the folder {spec.storage.gluster.brick_dir}/brick on the "
            "host's own disk",
            "Fine for a lab; for production give the host an empty disk (storage_device: /dev/sdb).",
            host=name,
        )
    if device_facts is None:
        return StorageCheck(check_id, "warn", f"{device} not checked", "the host was not probed", host=name)
    if not device_facts.exists:
        return StorageCheck(
            check_id,
            "fail",
            f"{device} is missing",
            f"{device} is not a block device on {name}",
            "Attach the disk (an EBS volume or a second disk) or correct storage_device.",
            host=name,
        )
    if device_facts.is_ours:
        return StorageCheck(check_id, "ok", f"{device} holds kwizard's volume group", host=name)
    if not device_facts.is_empty:
        found = ", ".join(device_facts.signatures) or f"{device_facts.children} partition(s) or holder(s)"
        return StorageCheck(
            check_id,
            "fail",
            f"{device} holds data",
            f"{device} on {name} is not empty ({found}); kwizard never overwrites a disk",
            f"Pick an empty disk, or, if its data is really not needed, wipe it yourself "
            f"(wipefs -a {device}).",
            host=name,
        )
    needed = size_bytes(spec.storage.gluster.size) + _LVM_OVERHEAD
    if device_facts.size_bytes and device_facts.size_bytes < needed:
        return StorageCheck(
            check_id,
            "fail",
            f"{device} is too small",
            f"{device} on {name} has {device_facts.size_bytes // 1024**2} MiB; the brick needs "
            f"{spec.storage.gluster.size} plus LVM metadata",
            "Use a bigger disk or lower storage.gluster.size.",
            host=name,
        )
    return StorageCheck(check_id, "ok", f"{device} is empty and big enough", host=name)
