"""The kubespray phase: a pinned Kubespray in its own venv runs cluster.yml against kwizard's inventory.

`prepare` makes the workspace (checkout + venv, progress through ctx), `run_phase` then hands the run to
the ansible-runner adapter with Kubespray's ansible.cfg and the venv's ansible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.errors import KwizardError
from kwizard.kubespray import checkout as checkouts
from kwizard.kubespray import venv as venvs
from kwizard.kubespray.command import command_line, planned_run
from kwizard.protocol.outputs import KubesprayOutput

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext, PhaseResult

PHASE = "kubespray"
__all__ = [
    "PHASE",
    "KubesprayWorkspace",
    "command_line",
    "planned_run",
    "prepare",
    "run_kubespray_playbook",
    "run_phase",
]


@dataclass(frozen=True)
class KubesprayWorkspace:
    """A ready Kubespray: verified checkout and its venv."""

    checkout: checkouts.Checkout
    venv: venvs.Venv


def prepare(ctx: PhaseContext, phase: str = PHASE) -> KubesprayWorkspace:
    """Clone (or verify) Kubespray and build (or reuse) its venv, reporting progress as log events."""

    def progress(line: str) -> None:
        ctx.log(phase, line)

    checkout = checkouts.ensure(ctx.spec, ctx.ws, ctx.options, progress, ctx.cancel)
    venv = venvs.ensure(checkout, ctx.ws, progress, ctx.cancel)
    return KubesprayWorkspace(checkout, venv)


def run_phase(ctx: PhaseContext) -> PhaseResult:
    """Phase `kubespray`: prepare the workspace, bring the inventory up to date, run cluster.yml."""
    return run_kubespray_playbook(ctx, PHASE, "cluster.yml")


def run_kubespray_playbook(
    ctx: PhaseContext,
    phase: str,
    playbook: str,
    *,
    extravars: dict[str, Any] | None = None,
    limit: str | None = None,
    hosts_file: Path | None = None,
) -> PhaseResult:
    """Run one of Kubespray's playbooks as phase `phase`, the way cluster.yml runs.

    The checkout and its venv are made ready, the inventory is brought up to date with the spec, and the
    playbook runs from the checkout with its ansible.cfg and the venv's ansible. Day-2 commands
    (remove-node.yml, reset.yml, playbooks/facts.yml) pass their extra vars and limit here; add-node
    passes `hosts_file`, a hosts file beside the spec's (so its group_vars apply) that also lists the new
    hosts, so the cluster's own inventory changes only once the hosts are in.
    """
    from kwizard.inventory import HOSTS_FILE, build, plan
    from kwizard.protocol.phase import PhaseResult
    from kwizard.runner import run_playbook

    workspace = prepare(ctx, phase)
    if not workspace.venv.has("ansible-playbook"):
        raise KwizardError(
            "Kubespray's environment has no ansible-playbook",
            f"{workspace.checkout.requirements} did not install ansible into {workspace.venv.path}.",
            "Use a Kubespray checkout whose requirements.txt installs ansible (every release does).",
        )
    path = workspace.checkout.path / playbook
    if not path.is_file():
        raise KwizardError(
            f"Kubespray has no {playbook}",
            f"The checkout {workspace.checkout.path} ({workspace.checkout.version}) has no {playbook}.",
            "Use a Kubespray release that has it (every release since v2.10 does), with --kubespray-dir or "
            "kubespray.version in the preset.",
        )
    # With --only kubespray the inventory phase did not run: make sure the files on disk match the spec.
    if any(change.status != "unchanged" for change in plan(ctx.spec, ctx.ws, ctx.results)):
        build(ctx, phase=phase)
    inventory = hosts_file or ctx.ws.inventory_dir / HOSTS_FILE
    command = command_line(
        ctx.spec,
        ctx.ws,
        ctx.options,
        playbook=playbook,
        extravars=extravars,
        limit=limit,
        inventory=inventory,
    )
    ctx.log(phase, "equivalent command: " + command)
    result = run_playbook(
        ctx,
        phase,
        path,
        inventory,
        extravars=extravars,
        limit=limit,
        ansible_cfg=workspace.checkout.ansible_cfg,
        ansible_bin_dir=workspace.venv.bin_dir,
        cwd=workspace.checkout.path,
    )
    output = KubesprayOutput(
        kubespray=str(workspace.checkout.path),
        version=workspace.checkout.version,
        venv=str(workspace.venv.path),
        playbook=playbook,
        rc=result.rc,
        artifact_dir=str(result.artifact_dir) if result.artifact_dir else None,
        stats=result.stats,
        failures=result.failures,
    )
    data = output.to_data()
    if result.ok:
        return PhaseResult("ok", f"{playbook} of Kubespray {workspace.checkout.version} succeeded", data)
    if result.status == "canceled":
        return PhaseResult("interrupted", f"{playbook} was stopped", data)
    failed_hosts = sorted({f.get("host", "?") for f in result.failures})
    first = result.failures[0] if result.failures else {}
    summary = f"{playbook} {result.status} (rc {result.rc})"
    if first:
        summary += f": {first.get('task', '?')} on {', '.join(failed_hosts)}"
    return PhaseResult("failed", summary, data)
