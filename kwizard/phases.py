"""The pipeline's phase names, in order (DESIGN.md §1). Kept import-free for a fast CLI start."""

from __future__ import annotations

PHASES: tuple[str, ...] = (
    "discover",
    "access",
    "preflight",
    "inventory",
    "kubespray",
    "kubeconfig",
    "loadbalancer",
    "storage",
    "apps",
)

PHASE_TITLES: dict[str, str] = {
    "discover": "Discover hosts",
    "access": "SSH access",
    "preflight": "Preflight checks",
    "inventory": "Inventory",
    "kubespray": "Kubespray cluster.yml",
    "kubeconfig": "Kubeconfig",
    "loadbalancer": "HA ingress load balancer",
    "storage": "Storage",
    "apps": "Sample apps",
}
