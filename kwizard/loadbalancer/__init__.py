"""The loadbalancer phase: HA ingress without a cloud load balancer (DESIGN.md §4).

Render the controller and virtual-host manifests from the spec, apply them with kwizard's playbook on
the first control plane (labels, apply, rollout on every LB node), then check from the laptop that every
LB node answers on the NodePort for every virtual host, and hand over the DNS records to add.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kwizard.errors import InputError
from kwizard.loadbalancer import deploy, dns, manifests
from kwizard.loadbalancer.verify import PROBE_HOST, Target, VerificationReport, verify
from kwizard.protocol.outputs import LoadBalancerOutput

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext, PhaseResult
    from kwizard.spec import ClusterSpec, VirtualHost

PHASE = "loadbalancer"
PROBE_TIMEOUT = 3.0


def targets(spec: ClusterSpec) -> list[Target]:
    """The LB nodes as verification targets (name and the address the laptop uses)."""
    return [Target(h.name, h.address) for h in dns.lb_nodes(spec)]


def report_findings(ctx: PhaseContext, phase: str, report: VerificationReport, fatal: set[str]) -> list[str]:
    """Emit one finding per failed request; returns the fatal ones (outcomes in `fatal`) as text."""
    from kwizard.protocol.events import EventKind
    from kwizard.protocol.phase import Event

    https_port = ctx.spec.loadbalancer.https_node_port
    errors = []
    for failure in report.failures:
        level = "error" if failure.outcome in fatal else "warning"
        text = f"{failure.host} via {failure.node}: {failure.diagnosis(https_port)}"
        where = f"{failure.node} ({failure.address}:{failure.port})"
        data = {
            "id": f"ingress-{failure.outcome.replace('_', '-')}",
            "title": f"{failure.host} through {where}: {failure.cell}",
            "fix": failure.diagnosis(https_port),
            "level": level,
            "text": text,
            "outcome": failure.outcome,
        }
        ctx.emit(Event(EventKind.FINDING, phase, failure.node, data, time.time()))
        if level == "error":
            errors.append(text)
    ctx.log(phase, "node x host check:\n" + report.text(https_port))
    return errors


def run_phase(ctx: PhaseContext) -> PhaseResult:
    """Deploy the ingress DaemonSet + lb-service + virtual hosts and verify every LB node serves them."""
    from kwizard.protocol.phase import PhaseResult

    spec = ctx.spec
    if not spec.loadbalancer.enabled:
        return PhaseResult("skipped", "loadbalancer.enabled is false")
    nodes = dns.lb_nodes(spec)
    if not nodes:
        raise InputError(
            "No load-balancer nodes",
            "No host has the loadbalancer role, so nothing would receive ingress traffic.",
            "Give the loadbalancer role to at least 2 workers (one per AZ/rack) in the preset.",
        )
    if len(nodes) < 2:
        ctx.log(
            PHASE,
            f"only {nodes[0].name} has the loadbalancer role: it is a single point of failure",
            level="warning",
        )
    files = deploy.write_manifests(
        ctx,
        PHASE,
        {
            "10-controller.yaml": manifests.controller_manifests(spec),
            "20-virtual-hosts.yaml": manifests.virtual_host_manifests(spec),
        },
    )
    rollout = deploy.Rollout(
        "daemonset",
        manifests.CONTROLLER,
        manifests.NAMESPACE,
        selector=f"app.kubernetes.io/name={manifests.CONTROLLER}",
        nodes=tuple(n.name for n in nodes),
    )
    variables = deploy.extravars(PHASE, files, [rollout], kwizard_lb_nodes=[n.name for n in nodes])
    result = deploy.run(ctx, PHASE, "loadbalancer.yml", variables)
    if not result.ok:
        failed = LoadBalancerOutput(manifests=[str(f) for f in files])
        return PhaseResult("failed", deploy.failure_summary(result), failed.to_data())

    hosts = [v.host for v in spec.loadbalancer.virtual_hosts] or [PROBE_HOST]
    report = verify(targets(spec), hosts, spec.loadbalancer.http_node_port, timeout=PROBE_TIMEOUT)
    # A refused connection after a successful rollout means the NodePort path on that node is broken.
    # 404/503 for a virtual host may only mean its app comes later (apps phase); a timeout may only mean
    # the laptop cannot reach the nodes (bastion, private subnets): those are warnings.
    errors = report_findings(ctx, PHASE, report, fatal={"refused"})
    found = dns.records(spec)
    data = LoadBalancerOutput(
        lb_nodes=[{"name": n.name, "address": n.address} for n in nodes],
        node_ports={"http": spec.loadbalancer.http_node_port, "https": spec.loadbalancer.https_node_port},
        manifests=[str(f) for f in files],
        verification=report.to_data(),
        dns_zone_lines=dns.zone_lines(found),
        route53_change_batch=dns.route53_change_batch(found) if spec.target == "aws" else None,
        controller_image=manifests.TRAEFIK_IMAGE,
    ).to_data()
    if errors:
        return PhaseResult("failed", errors[0], data)
    served = sum(r.passed for r in report.results)
    return PhaseResult(
        "ok", f"{len(nodes)} LB nodes, {served}/{len(report.results)} node x host checks passed", data
    )


def add_virtual_host(spec: ClusterSpec, vhost: VirtualHost) -> ClusterSpec:
    """The spec with `vhost` in loadbalancer.virtual_hosts (replacing an entry for the same host name)."""
    from kwizard.spec import ClusterSpec as Spec

    data = spec.model_dump()
    kept = [v for v in data["loadbalancer"]["virtual_hosts"] if v["host"] != vhost.host]
    data["loadbalancer"]["virtual_hosts"] = [*kept, vhost.model_dump()]
    return Spec.model_validate(data)
