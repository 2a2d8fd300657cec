"""The pipeline's phases, declared once: name and order, title, implementation, the spec parts a
phase depends on (DESIGN.md §1) and the type of the output later phases and the summary read. Everything
else (the CLI's `--until` choices, the wizard's phase list, the engine's table, resume fingerprints) is
derived from `REGISTRY`. Kept import-free for a fast start.

`provision` runs only for a `target: aws` preset with a `provision` section (it creates the hosts), and
always for one; it is not among the phases a user ticks (USER_PHASES).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhaseInfo:
    name: str
    title: str
    implementation: str  # "module:function", imported only when the phase runs
    # Spec parts (kwizard.engine.fingerprint.PARTS) whose change makes a resume run the phase again.
    inputs: tuple[str, ...]
    user: bool = True  # ticked or not by the user (False: the run decides, as for provision)
    # The frozen dataclass in kwizard.protocol.outputs its PhaseResult.data is written and read through
    # (by name: this module imports nothing); "" when no other phase, summary or report reads its data.
    output: str = ""


_CONNECTION = ("ssh settings", "bastion")

REGISTRY: tuple[PhaseInfo, ...] = (
    PhaseInfo(
        "provision",
        "Create AWS hosts",
        "kwizard.aws.phase:run_phase",
        ("provision settings", "target", "load balancer settings"),
        user=False,
    ),
    PhaseInfo(
        "discover",
        "Discover hosts",
        "kwizard.discovery:run_phase",
        ("host addresses", "target", "provision settings"),
    ),
    PhaseInfo(
        "access",
        "SSH access",
        "kwizard.access:run_phase",
        ("host addresses", *_CONNECTION),
        output="AccessOutput",
    ),
    PhaseInfo(
        "preflight",
        "Preflight checks",
        "kwizard.preflight:run_phase",
        ("hosts", *_CONNECTION, "kubespray settings", "acknowledged preflight checks"),
        output="PreflightOutput",
    ),
    PhaseInfo(
        "inventory",
        "Inventory",
        "kwizard.inventory:run_phase",
        ("hosts", *_CONNECTION, "kubespray settings", "load balancer settings", "storage settings"),
    ),
    PhaseInfo(
        "kubespray",
        "Kubespray cluster.yml",
        "kwizard.kubespray:run_phase",
        ("hosts", *_CONNECTION, "kubespray settings"),
        output="KubesprayOutput",
    ),
    PhaseInfo(
        "kubeconfig",
        "Kubeconfig",
        "kwizard.kubeconfig:run_phase",
        ("hosts", "kubespray settings"),
        output="KubeconfigOutput",
    ),
    PhaseInfo(
        "loadbalancer",
        "HA ingress load balancer",
        "kwizard.loadbalancer:run_phase",
        ("hosts", "load balancer settings"),
        output="LoadBalancerOutput",
    ),
    PhaseInfo("storage", "Storage", "kwizard.storage:run_phase", ("hosts", "storage settings")),
    PhaseInfo(
        "apps",
        "Sample apps",
        "kwizard.apps:run_phase",
        ("apps", "load balancer settings", "storage settings"),
        output="AppsOutput",
    ),
)

PHASES: tuple[str, ...] = tuple(info.name for info in REGISTRY)
USER_PHASES: tuple[str, ...] = tuple(info.name for info in REGISTRY if info.user)
PHASE_TITLES: dict[str, str] = {info.name: info.title for info in REGISTRY}


def phase_info(name: str) -> PhaseInfo:
    """The registry entry of phase `name` (KeyError for a name that is not a phase)."""
    for info in REGISTRY:
        if info.name == name:
            return info
    raise KeyError(name)
