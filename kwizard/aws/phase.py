"""The `provision` phase: show the plan, then create what is missing of the cluster's AWS hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kwizard.aws.ledger import Ledger

if TYPE_CHECKING:
    from kwizard.engine.phase import PhaseContext, PhaseResult
    from kwizard.spec import ClusterSpec

PHASE = "provision"


def ledger_of(ctx: PhaseContext) -> Ledger:
    return Ledger.load(ctx.ws.cluster_dir, ctx.spec.name)


def run_phase(ctx: PhaseContext) -> PhaseResult:
    from kwizard.aws.client import connect
    from kwizard.aws.create import Cancelled, Provisioner
    from kwizard.aws.plan import provision_plan
    from kwizard.engine.phase import PhaseResult

    settings = ctx.spec.provision
    if settings is None or ctx.spec.target != "aws":
        return PhaseResult("skipped", "nothing to create: the preset has no provision section")
    plan = provision_plan(settings)
    ctx.log(PHASE, "plan: " + "\n".join(plan.text_lines()))
    ctx.ws.create()
    ledger = ledger_of(ctx)
    provisioner = Provisioner(
        settings,
        ctx.spec.name,
        ledger,
        connect(settings.region),
        log=lambda text: ctx.log(PHASE, text),
        cancel=ctx.cancel,
        lb_ports=(ctx.spec.loadbalancer.http_node_port, ctx.spec.loadbalancer.https_node_port),
    )
    try:
        outcome = provisioner.run()
    except Cancelled:
        return PhaseResult("interrupted", "stopped between two creates; run again to continue")
    created = len(provisioner.created)
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
