"""The pipeline's phase names, in order (DESIGN.md §1). Kept import-free for a fast CLI start.

`provision` runs only for a `target: aws` preset with a `provision` section (it creates the hosts), and
always for one; it is not among the phases a user ticks (USER_PHASES).
"""

from __future__ import annotations

PHASES: tuple[str, ...] = (
    "provision",
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

USER_PHASES: tuple[str, ...] = PHASES[1:]

PHASE_TITLES: dict[str, str] = {
    "provision": "Create AWS hosts",
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
