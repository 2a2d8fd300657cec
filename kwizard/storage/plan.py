"""The Gluster plan: which host holds which brick, who mounts the volume, and the playbook's inputs.

Everything the gluster playbook does is decided here from the ClusterSpec, so the playbook only executes
and the plan can be checked (and tested) without any host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kwizard.errors import InputError
from kwizard.spec import ClusterSpec

# Tag that marks LVM volume groups and logical volumes kwizard created; a device whose physical volume
# belongs to a tagged group of this name is ours to reuse, any other signature is someone's data.
LVM_TAG = "kwizard"
VOLUME_GROUP = "kwizard_gluster"
# Node label set on every node that has the volume mounted; the PVs require it (node affinity).
NODE_LABEL = "storage.kwizard.io/gluster"
STORAGE_CLASS = "gluster"
_UNITS = {"m": "Mi", "g": "Gi", "t": "Ti"}


@dataclass(frozen=True)
class Brick:
    """One host's brick: an LVM logical volume on `device`, or a plain directory when there is none."""

    host: str
    address: str
    device: str | None

    @property
    def kind(self) -> str:
        return "lvm" if self.device else "directory"


@dataclass(frozen=True)
class GlusterPlan:
    volume: str
    replicas: int
    brick_dir: str
    size: str
    gid: int
    mount_point: str
    bricks: tuple[Brick, ...]
    mount_hosts: tuple[str, ...]
    control_plane: str | None
    pv_count: int

    @property
    def brick_path(self) -> str:
        # The brick is a subdirectory of the mount: if the LV is ever not mounted, Gluster finds no brick
        # instead of silently writing to the root filesystem.
        return f"{self.brick_dir}/brick"

    @property
    def logical_volume(self) -> str:
        return f"brick_{self.volume}"

    @property
    def servers(self) -> tuple[str, ...]:
        return tuple(b.address for b in self.bricks)

    @property
    def capacity(self) -> str:
        """The brick size as a Kubernetes quantity ('9g' → '9Gi')."""
        return self.size[:-1] + _UNITS[self.size[-1]]

    def pv_names(self) -> list[str]:
        return [
            f"gluster-{self.volume.lower().replace('_', '-')}-{n:02d}" for n in range(1, self.pv_count + 1)
        ]

    def pv_path(self, name: str) -> str:
        return f"{self.mount_point}/pv/{name}"

    def extravars(self, manifest: str) -> dict[str, Any]:
        """The playbook's inputs (`kwizard_gluster`, `kwizard_manifest`)."""
        return {
            "kwizard_gluster": {
                "volume": self.volume,
                "replicas": self.replicas,
                "brick_dir": self.brick_dir,
                "brick_path": self.brick_path,
                "size": self.size,
                "gid": self.gid,
                "mount_point": self.mount_point,
                "vg": VOLUME_GROUP,
                "lv": self.logical_volume,
                "lvm_tag": LVM_TAG,
                "servers": list(self.servers),
                "primary": self.bricks[0].host,
                "secondary": self.bricks[1].host if len(self.bricks) > 1 else "",
                "bricks": {b.host: {"address": b.address, "device": b.device} for b in self.bricks},
                "mount_hosts": list(self.mount_hosts),
                "pv_dirs": [f"pv/{name}" for name in self.pv_names()],
                "node_label": NODE_LABEL,
                "control_plane": self.control_plane or "",
            },
            "kwizard_manifest": manifest,
            "kwizard_manifest_name": f"gluster-{self.volume}.yaml",
        }


def gluster_plan(spec: ClusterSpec) -> GlusterPlan:
    """The plan for spec's Gluster storage; InputError when the spec cannot produce a working volume."""
    settings = spec.storage.gluster
    storage_hosts = spec.hosts_with("storage")
    if not storage_hosts:
        raise InputError(
            "No storage hosts",
            "storage.type is gluster but no host has the storage role",
            f"Give the storage role to at least {settings.replicas} hosts, or choose another storage type.",
        )
    if len(storage_hosts) < settings.replicas:
        raise InputError(
            "Too few storage hosts",
            f"a replica-{settings.replicas} volume needs {settings.replicas} storage hosts; "
            f"{len(storage_hosts)} have the storage role",
            f"Give the storage role to {settings.replicas - len(storage_hosts)} more host(s), "
            "or lower storage.gluster.replicas.",
        )
    if len(storage_hosts) % settings.replicas:
        raise InputError(
            "Storage hosts do not fill the replica sets",
            f"{len(storage_hosts)} storage hosts cannot be split into replica sets of {settings.replicas}",
            f"Use a multiple of {settings.replicas} storage hosts, or change storage.gluster.replicas.",
        )
    mount_point, brick_dir = settings.mount_point, settings.brick_dir
    if _overlaps(mount_point, brick_dir):
        raise InputError(
            "Mount point and brick overlap",
            f"storage.gluster.mount_point {mount_point} and brick_dir {brick_dir} contain one another",
            "Use separate folders, e.g. brick_dir /data/glusterfs/brick1 and mount_point /mnt/gluster.",
        )
    bricks = tuple(Brick(h.name, spec.bind_ip(h) or h.address, h.storage_device) for h in storage_hosts)
    mount_hosts = tuple(h.name for h in spec.hosts if h.has("control_plane") or h.has("worker"))
    control_planes = spec.hosts_with("control_plane")
    return GlusterPlan(
        volume=settings.volume,
        replicas=settings.replicas,
        brick_dir=brick_dir,
        size=settings.size,
        gid=settings.gid,
        mount_point=mount_point,
        bricks=bricks,
        mount_hosts=mount_hosts,
        control_plane=control_planes[0].name if control_planes else None,
        pv_count=settings.pv_count,
    )


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")
