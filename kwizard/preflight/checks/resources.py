"""Checks of the host's size for its roles: memory, CPUs, free disk, and the storage device or brick."""

from __future__ import annotations

from kwizard.preflight.checks.base import HostInput, gib
from kwizard.preflight.model import CheckResult
from kwizard.preflight.sizing import KUBESPRAY_MIN_CONTROL_PLANE_MB, instance_advice, requirement_for

MIN_FREE_MB = 2 * 1024  # below this, image pulls and etcd writes fail outright
RECOMMENDED_FREE_MB = 10 * 1024  # room for images, logs and etcd of a small cluster
EVICTION_USED_PERCENT = 85  # kubelet starts image garbage collection here and evicts soon after


def _with_type(h: HostInput, observed: str) -> str:
    return f"{observed} ({h.instance_type})" if h.instance_type else observed


def check_memory(h: HostInput) -> CheckResult | None:
    requirement = requirement_for(list(h.host.roles))
    if requirement is None:
        return None
    mem = h.facts.mem_mb
    required = f"≥{requirement.min_mem_mb} MB for a {requirement.role}" if requirement.min_mem_mb else ""
    if mem is None:
        return h.result("memory", "warn", "unknown", required)
    observed = _with_type(h, f"{mem} MB")
    advice = instance_advice(h.instance_type, requirement, h.facts.arch or "x86_64")
    if mem < requirement.min_mem_mb:
        extra = ""
        if h.host.has("control_plane") and mem >= KUBESPRAY_MIN_CONTROL_PLANE_MB:
            extra = " Kubespray's own check (1500 MB) would pass; kubeadm then fails midway."
        return h.result(
            "memory",
            "fail",
            observed,
            required,
            requirement.source + "." + extra,
            " ".join(filter(None, [f"Give the host at least {requirement.min_mem_mb} MB.", advice])),
        )
    if mem < requirement.recommended_mem_mb:
        return h.result(
            "memory",
            "warn",
            observed,
            f"2 GB recommended for a {requirement.role} (≥{requirement.recommended_mem_mb} MB reported)",
            "kubelet, containerd, the network plugin and system pods take most of a small host; "
            "workloads get evicted or the node goes NotReady under load.",
            " ".join(filter(None, ["Use about 2 GB or more.", advice])),
        )
    return h.result("memory", "pass", observed, required or f"≥{requirement.recommended_mem_mb} MB")


def check_cpus(h: HostInput) -> CheckResult | None:
    requirement = requirement_for(list(h.host.roles))
    if requirement is None:
        return None
    cpus = h.facts.cpus
    required = f"≥{requirement.min_cpus} for a {requirement.role}"
    if cpus is None:
        return h.result("cpus", "warn", "unknown", required)
    observed = _with_type(h, str(cpus))
    if cpus < requirement.min_cpus:
        advice = instance_advice(h.instance_type, requirement, h.facts.arch or "x86_64")
        return h.result(
            "cpus",
            "fail",
            observed,
            required,
            requirement.source + ".",
            " ".join(filter(None, [f"Give the host at least {requirement.min_cpus} CPUs.", advice])),
        )
    return h.result("cpus", "pass", observed, required)


def check_disk(h: HostInput) -> CheckResult:
    disks = [d for d in (h.facts.disk("/"), h.facts.disk("/var")) if d]
    required = f"≥{gib(MIN_FREE_MB)} free on / and /var (≥{gib(RECOMMENDED_FREE_MB)} recommended)"
    if not disks:
        return h.result("disk", "warn", "unknown", required)
    # /var usually shares the root filesystem: report each filesystem once.
    unique = {d.mount_point: d for d in disks}
    observed = "; ".join(
        f"{d.mount_point}: {gib(d.free_mb)} free ({d.used_percent}% used)" for d in unique.values()
    )
    tightest = min(unique.values(), key=lambda d: d.free_mb)
    why = (
        "Kubespray downloads binaries and images; containerd keeps them in /var/lib/containerd, "
        "etcd in /var/lib/etcd."
    )
    fix = "Free space or grow the filesystem (EC2: a larger root volume)."
    if tightest.free_mb < MIN_FREE_MB:
        return h.result("disk", "fail", observed, required, why, fix)
    fullest = max(unique.values(), key=lambda d: d.used_percent)
    if tightest.free_mb < RECOMMENDED_FREE_MB or fullest.used_percent >= EVICTION_USED_PERCENT:
        why += f" At {EVICTION_USED_PERCENT}% use kubelet starts deleting images and then evicting pods."
        return h.result("disk", "warn", observed, required, why, fix)
    return h.result("disk", "pass", observed, required)
