"""The kubespray phase: a pinned Kubespray in its own venv runs cluster.yml against kwizard's inventory.

`prepare` makes the workspace (checkout + venv, progress through ctx), `run_phase` then hands the run to
the ansible-runner adapter with Kubespray's ansible.cfg and the venv's ansible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kwizard.errors import KwizardError
from kwizard.kubespray import checkout as checkouts
from kwizard.kubespray import venv as venvs
from kwizard.kubespray.command import command_line, planned_run

if TYPE_CHECKING:
    from kwizard.engine.phase import PhaseContext, PhaseResult

PHASE = "kubespray"
__all__ = ["PHASE", "KubesprayWorkspace", "command_line", "planned_run", "prepare", "run_phase"]


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
    from kwizard.engine.phase import PhaseResult
    from kwizard.inventory import HOSTS_FILE, build, plan
    from kwizard.runner import run_playbook

    workspace = prepare(ctx)
    if not workspace.venv.has("ansible-playbook"):
        raise KwizardError(
            "Kubespray's environment has no ansible-playbook",
            f"{workspace.checkout.requirements} did not install ansible into {workspace.venv.path}.",
            "Use a Kubespray checkout whose requirements.txt installs ansible (every release does).",
        )
    # With --only kubespray the inventory phase did not run: make sure the files on disk match the spec.
    if any(change.status != "unchanged" for change in plan(ctx.spec, ctx.ws, ctx.results)):
        build(ctx, phase=PHASE)
    ctx.log(PHASE, "equivalent command: " + command_line(ctx.spec, ctx.ws, ctx.options))
    result = run_playbook(
        ctx,
        PHASE,
        workspace.checkout.playbook,
        ctx.ws.inventory_dir / HOSTS_FILE,
        ansible_cfg=workspace.checkout.ansible_cfg,
        ansible_bin_dir=workspace.venv.bin_dir,
        cwd=workspace.checkout.path,
    )
    data = {
        "kubespray": str(workspace.checkout.path),
        "version": workspace.checkout.version,
        "venv": str(workspace.venv.path),
        "rc": result.rc,
        "artifact_dir": str(result.artifact_dir) if result.artifact_dir else None,
        "stats": result.stats,
    }
    if result.ok:
        return PhaseResult("ok", f"cluster.yml of Kubespray {workspace.checkout.version} succeeded", data)
    if result.status == "canceled":
        return PhaseResult("interrupted", "cluster.yml was stopped", data)
    failed_hosts = sorted({f.get("host", "?") for f in result.failures})
    first = result.failures[0] if result.failures else {}
    summary = f"cluster.yml {result.status} (rc {result.rc})"
    if first:
        summary += f": {first.get('task', '?')} on {', '.join(failed_hosts)}"
    return PhaseResult("failed", summary, {**data, "failures": result.failures})
