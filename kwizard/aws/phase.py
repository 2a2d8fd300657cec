"""The `provision` phase: show the plan, then create what is missing of the cluster's AWS hosts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from kwizard.aws.ledger import Ledger

if TYPE_CHECKING:
    from kwizard.aws.create import Provisioner
    from kwizard.paths import Workspace
    from kwizard.protocol.phase import PhaseContext, PhaseResult
    from kwizard.spec import Bastion, ClusterSpec, Host

PHASE = "provision"


def ledger_of(ctx: PhaseContext) -> Ledger:
    return Ledger.load(ctx.ws.cluster_dir, ctx.spec.name)


def provisioner(
    spec: ClusterSpec, ws: Workspace, log: Callable[[str], None], cancel: threading.Event | None = None
) -> Provisioner:
    """What creates the spec's AWS hosts, recording them in the cluster folder's ledger."""
    from kwizard.aws.client import connect
    from kwizard.aws.create import Provisioner

    assert spec.provision is not None
    ws.create()
    return Provisioner(
        spec.provision,
        spec.name,
        Ledger.load(ws.cluster_dir, spec.name),
        connect(spec.provision.region),
        log=log,
        cancel=cancel or threading.Event(),
        lb_ports=(spec.loadbalancer.http_node_port, spec.loadbalancer.https_node_port),
    )


def create_hosts(
    spec: ClusterSpec, ws: Workspace, log: Callable[[str], None], cancel: threading.Event | None = None
) -> tuple[list[Host], Bastion]:
    """Create what is missing of the spec's AWS hosts (blocking), then the hosts and bastion created."""
    from kwizard.aws.create import Cancelled
    from kwizard.aws.hosts import created_hosts
    from kwizard.errors import KwizardError

    builder = provisioner(spec, ws, log, cancel)
    try:
        builder.run()
    except Cancelled:
        raise KwizardError(
            "Stopped", "Creating the AWS hosts was cancelled.", "Start again: what exists is kept."
        ) from None
    return created_hosts(spec, builder.ledger, builder.clients)


def run_phase(ctx: PhaseContext) -> PhaseResult:
    from kwizard.aws.create import Cancelled
    from kwizard.aws.plan import provision_plan
    from kwizard.protocol.phase import PhaseResult

    settings = ctx.spec.provision
    if settings is None or ctx.spec.target != "aws":
        return PhaseResult("skipped", "nothing to create: the preset has no provision section")
    plan = provision_plan(settings)
    ctx.log(PHASE, "plan: " + "\n".join(plan.text_lines()))
    builder = provisioner(ctx.spec, ctx.ws, lambda text: ctx.log(PHASE, text), ctx.cancel)
    ledger = builder.ledger
    try:
        outcome = builder.run()
    except Cancelled:
        return PhaseResult("interrupted", "stopped between two creates; run again to continue")
    created = len(builder.created)
    summary = f"{len(ledger.entries)} resources in {settings.region} ({', '.join(outcome['zones'])}): " + (
        f"{created} created" if created else "all existed already"
    )
    return PhaseResult(
        "ok",
        summary,
        {
            "ledger": str(ledger.path),
            "zones": outcome["zones"],
            "image": outcome["image"],
            "created": created,
        },
    )


def discover(ctx: PhaseContext) -> ClusterSpec:
    """The spec with the created hosts and the bastion (saved as the cluster's preset)."""
    from kwizard import preset as presets
    from kwizard.aws.client import connect
    from kwizard.aws.hosts import created_hosts

    spec = ctx.spec
    assert spec.provision is not None
    found, bastion = created_hosts(spec, ledger_of(ctx), connect(spec.provision.region))
    updated = spec.updated(hosts=found, bastion=bastion)
    if updated != spec:
        presets.save(updated, ctx.ws.preset_file)
    return updated
