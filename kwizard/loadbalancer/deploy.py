"""Apply rendered manifests with kwizard's own playbooks, via kubectl on the first control plane.

Shared by the loadbalancer and apps phases: the manifests are written into the workspace (0600, so a
user can read exactly what was applied), the playbook applies each with the shared
tasks/kubectl_apply.yml (kept on the host as REMOTE_DIR/<phase>-<file>), waits for the rollouts, and the
result is turned into a PhaseResult-friendly outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.errors import InputError
from kwizard.fsutil import atomic_write, ensure_private_dir
from kwizard.loadbalancer.manifests import Manifest, to_yaml
from kwizard.results import failure_message

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext
    from kwizard.runner import PlaybookResult

PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
# Where the shared tasks/kubectl_apply.yml leaves each applied manifest on the control plane.
REMOTE_DIR = "/etc/kwizard/manifests"
ROLLOUT_TIMEOUT = 300  # seconds the playbook waits for a rollout before it fails, naming what is missing
ROLLOUT_POLL = 5


@dataclass(frozen=True)
class Rollout:
    kind: str
    name: str
    namespace: str
    selector: str | None = None
    nodes: tuple[str, ...] | None = None  # nodes that must each run a ready pod (DaemonSets)

    def to_var(self) -> dict[str, Any]:
        var: dict[str, Any] = {"kind": self.kind, "name": self.name, "namespace": self.namespace}
        if self.nodes is not None:
            var.update(selector=self.selector, nodes=list(self.nodes))
        return var


def manifest_dir(ctx: PhaseContext, phase: str) -> Path:
    return ctx.ws.artifacts_dir / "manifests" / phase


def write_manifests(ctx: PhaseContext, phase: str, files: dict[str, list[Manifest]]) -> list[Path]:
    """Write each file's manifests as multi-document YAML; returns the paths in apply order."""
    directory = ensure_private_dir(manifest_dir(ctx, phase))
    written = []
    for name, manifests in files.items():
        if not manifests:
            continue
        title = f"rendered by kwizard for cluster {ctx.spec.name} ({phase}); applied with kubectl apply"
        written.append(atomic_write(directory / name, to_yaml(manifests, title)))
    for stale in directory.glob("*.yaml"):
        if stale not in written:
            stale.unlink()
    return written


def inventory_file(ctx: PhaseContext) -> Path:
    inventory = ctx.ws.inventory_dir / "hosts.yaml"
    if not inventory.is_file():
        raise InputError(
            "No inventory",
            f"{inventory} does not exist, so kwizard does not know the cluster's control planes.",
            "Run the inventory phase first: kwizard --resume (or --only inventory).",
        )
    return inventory


def extravars(phase: str, manifests: list[Path], rollouts: list[Rollout], **more: Any) -> dict[str, Any]:
    return {
        "kwizard_phase": phase,
        "kwizard_manifests": [str(p) for p in manifests],
        "kwizard_rollouts": [r.to_var() for r in rollouts],
        "kwizard_rollout_timeout": ROLLOUT_TIMEOUT,
        "kwizard_rollout_poll": ROLLOUT_POLL,
        **more,
    }


def run(ctx: PhaseContext, phase: str, playbook: str, variables: dict[str, Any]) -> PlaybookResult:
    """Run one of kwizard's playbooks against the cluster inventory, become root on the control plane."""
    from kwizard.runner import run_playbook

    return run_playbook(
        ctx, phase, PLAYBOOKS / playbook, inventory_file(ctx), extravars=variables, become=True
    )


def failure_summary(result: PlaybookResult) -> str:
    """One line per failed task: host, task and the message Ansible gave (from the failed loop items too)."""
    lines = [
        f"{failure.get('host')}: {failure.get('task')}: {failure_message(failure.get('res') or {}, 400)}"
        for failure in result.failures[:5]
    ]
    return "; ".join(lines) or f"playbook {result.status} (rc {result.rc})"
