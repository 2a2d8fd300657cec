"""How big a host must be for its roles, and which common EC2 instance types are big enough.

Sources: kubeadm's preflight ("[ERROR NumCPU]": 2 CPUs, "[ERROR Mem]": 1700 MB on a control plane) is
stricter than Kubespray's asserts (minimal_master_memory_mb 1500, minimal_node_memory_mb 1024), so a
host can pass Kubespray's checks and still fail inside kubeadm — the guide's "wait for kube-scheduler".
Memory is compared with MemTotal, which is what both tools read: a "2 GiB" machine reports ~1.9 GB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

KUBEADM_MIN_CPUS = 2
KUBEADM_MIN_MEM_MB = 1700
KUBESPRAY_MIN_CONTROL_PLANE_MB = 1500
KUBESPRAY_MIN_NODE_MB = 1024
RECOMMENDED_MEM_MB = 1800  # what a 2 GB machine reports; below it kubelet + CNI + pods are cramped


@dataclass(frozen=True)
class Requirement:
    """Minimums for one role: below `min_*` the install fails, below `recommended_mem_mb` it warns."""

    role: str
    min_cpus: int
    min_mem_mb: int
    recommended_mem_mb: int
    source: str  # who enforces the minimum, in words


REQUIREMENTS: dict[str, Requirement] = {
    "control_plane": Requirement(
        "control plane",
        KUBEADM_MIN_CPUS,
        KUBEADM_MIN_MEM_MB,
        RECOMMENDED_MEM_MB,
        "kubeadm refuses a control plane with fewer than 2 CPUs or 1700 MB ([ERROR NumCPU], "
        "[ERROR Mem]); Kubespray's own assert stops below 1500 MB",
    ),
    "worker": Requirement(
        "worker",
        1,
        KUBESPRAY_MIN_NODE_MB,
        RECOMMENDED_MEM_MB,
        'Kubespray stops below 1024 MB on a node ("Stop if memory is too small for nodes")',
    ),
    "loadbalancer": Requirement(
        "load-balancer node",
        1,
        KUBESPRAY_MIN_NODE_MB,
        RECOMMENDED_MEM_MB,
        "a load-balancer node is a Kubernetes node: Kubespray stops below 1024 MB",
    ),
    "etcd": Requirement("etcd member", 1, 0, RECOMMENDED_MEM_MB, "etcd keeps its data in memory"),
    "storage": Requirement("storage host", 1, 0, 1024, "glusterd and its bricks need memory"),
}


def requirement_for(roles: list[str]) -> Requirement | None:
    """The strictest requirement over a host's roles (None for a host without roles)."""
    relevant = [REQUIREMENTS[r] for r in roles if r in REQUIREMENTS]
    if not relevant:
        return None
    strictest = max(relevant, key=lambda r: (r.min_mem_mb, r.min_cpus, r.recommended_mem_mb))
    return Requirement(
        strictest.role,
        max(r.min_cpus for r in relevant),
        max(r.min_mem_mb for r in relevant),
        max(r.recommended_mem_mb for r in relevant),
        strictest.source,
    )


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    mem_gib: float
    arch: str = "x86_64"

    @property
    def family(self) -> str:
        return self.name.split(".")[0]

    @property
    def expected_mem_mb(self) -> int:
        # The kernel and firmware keep ~5% of a small instance's memory out of MemTotal.
        return int(self.mem_gib * 1024 * 0.95)

    def passes(self, requirement: Requirement) -> bool:
        return self.vcpus >= requirement.min_cpus and self.expected_mem_mb >= requirement.min_mem_mb

    def describe(self) -> str:
        mem = f"{self.mem_gib:g} GiB"
        return f"{self.name} ({self.vcpus} vCPU{'s' if self.vcpus > 1 else ''}, {mem})"


def _family(name: str, sizes: Mapping[str, tuple[int, float]], arch: str = "x86_64") -> list[InstanceType]:
    return [InstanceType(f"{name}.{size}", c, m, arch) for size, (c, m) in sizes.items()]


_BURSTABLE_T2 = {"nano": (1, 0.5), "micro": (1, 1), "small": (1, 2), "medium": (2, 4), "large": (2, 8)}
_BURSTABLE_T3 = {"nano": (2, 0.5), "micro": (2, 1), "small": (2, 2), "medium": (2, 4), "large": (2, 8)}
_LARGE_ONLY = {"large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32)}
_COMPUTE = {"large": (2, 4), "xlarge": (4, 8), "2xlarge": (8, 16)}

# Common types only: enough to name the type a host has and the smallest one that would pass.
INSTANCE_TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in [
        *_family("t2", {**_BURSTABLE_T2, "xlarge": (4, 16), "2xlarge": (8, 32)}),
        *_family("t3", {**_BURSTABLE_T3, "xlarge": (4, 16), "2xlarge": (8, 32)}),
        *_family("t3a", {**_BURSTABLE_T3, "xlarge": (4, 16), "2xlarge": (8, 32)}),
        *_family("t4g", {**_BURSTABLE_T3, "xlarge": (4, 16), "2xlarge": (8, 32)}, "aarch64"),
        *_family("m5", _LARGE_ONLY),
        *_family("m6i", _LARGE_ONLY),
        *_family("m7i", _LARGE_ONLY),
        *_family("m6g", _LARGE_ONLY, "aarch64"),
        *_family("m7g", _LARGE_ONLY, "aarch64"),
        *_family("c5", _COMPUTE),
        *_family("c6i", _COMPUTE),
        *_family("c7i", _COMPUTE),
        *_family("c6g", _COMPUTE, "aarch64"),
        *_family("r5", {"large": (2, 16), "xlarge": (4, 32)}),
        *_family("r6i", {"large": (2, 16), "xlarge": (4, 32)}),
    ]
}
# Preferred general suggestion per architecture: the current burstable generation.
_GENERAL_FAMILY = {"x86_64": "t3", "aarch64": "t4g"}


def smallest_passing(requirement: Requirement, family: str | None = None, arch: str = "x86_64") -> str | None:
    """Name of the smallest known type (in `family`, else the general family for `arch`) that passes."""
    family = family or _GENERAL_FAMILY.get(arch, "t3")
    candidates = [t for t in INSTANCE_TYPES.values() if t.family == family and t.passes(requirement)]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (t.mem_gib, t.vcpus)).name


def instance_advice(instance_type: str | None, requirement: Requirement, arch: str = "x86_64") -> str:
    """A sentence naming the instance type and the smallest types that pass; empty when not on AWS."""
    if not instance_type:
        return ""
    known = INSTANCE_TYPES.get(instance_type)
    if known is None:
        general = smallest_passing(requirement, arch=arch)
        return (
            f"The smallest common type that passes is {INSTANCE_TYPES[general].describe()}."
            if general
            else ""
        )
    parts = []
    if known.name == "t2.small" and requirement.min_cpus >= KUBEADM_MIN_CPUS:
        parts.append(
            "t2.small (the type the field guide settled on) has 1 vCPU: that is no longer enough for a "
            "control plane, kubeadm needs 2."
        )
    general = smallest_passing(requirement, arch=known.arch)
    same_family = smallest_passing(requirement, family=known.family)
    if general:
        parts.append(f"The smallest type that passes is {INSTANCE_TYPES[general].describe()}")
        if same_family and same_family != general:
            parts[-1] += f"; in the {known.family} family, {same_family}"
        parts[-1] += "."
    return " ".join(parts)
