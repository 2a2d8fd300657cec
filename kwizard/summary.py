"""The end-of-run summary: how to use the cluster, what to add to DNS, what each LB node serves, what next.

Built from the spec, the workspace and the phases' journalled results (pure data, no UI imports); the
Summary screen and headless mode render the same `Summary`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kwizard.loadbalancer import dns
from kwizard.paths import Workspace
from kwizard.phases import PHASE_TITLES
from kwizard.protocol.outputs import AppsOutput, KubeconfigOutput, LoadBalancerOutput
from kwizard.spec import ClusterSpec
from kwizard.storage.summary import summary_text as storage_summary_text

if TYPE_CHECKING:
    from kwizard.engine.journal import RunRecord

NAT_BAREMETAL = [
    "Usually nothing to build (the guide's YAGNI): if your network already NATs outbound traffic, or the "
    "nodes have fixed public addresses behind a firewall, outbound HA is taken care of elsewhere.",
    "If you must build it, answer three questions first: who does the NAT, how private subnets route to "
    "the NAT nodes, and what watches those nodes and changes the routes when one fails.",
]
NAT_AWS = [
    "NAT gateway per AZ (simplest, most expensive): one gateway in each AZ's public subnet, and in each "
    "private subnet's route table a 0.0.0.0/0 route to the gateway of the same AZ.",
    "NAT instances per AZ (cheaper, yours to run): route each private subnet to the NAT instance in its AZ; "
    "the instances watch each other and take over the routes (user-data scripts).",
    "Caveats from the guide: the watchdog script can leave both NAT instances STOPPED (monitor and alert "
    "on their state); small instance types have much lower network bandwidth, a bottleneck that is hard "
    "to trace.",
]


# Phases that build a cluster or work on one: a preset with none of them has no cluster to talk to.
CLUSTER_PHASES = ("kubespray", "kubeconfig", "loadbalancer", "apps")


@dataclass(frozen=True)
class Step:
    title: str
    commands: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class PhaseLine:
    """What one phase of the run did, in the journal's words."""

    phase: str
    title: str
    status: str  # ok, failed, skipped, interrupted, pending
    summary: str


@dataclass(frozen=True)
class LbNodeRow:
    node: str
    address: str
    # (host, cell text, passed) per verified virtual host; empty when not verified yet
    served: tuple[tuple[str, str, bool], ...] = ()


@dataclass(frozen=True)
class Summary:
    cluster: str
    target: str
    context: str
    kubeconfig: str
    merged_into: str | None
    server: str | None
    api_problem: str | None
    dns_lines: tuple[str, ...]
    dns_kept: tuple[str, ...]  # "NAME → Route53 record R": names provision.dns created and keeps
    dns_advice: tuple[str, ...]
    route53_batch: dict[str, Any] | None
    urls: tuple[tuple[str, str], ...]
    lb_nodes: tuple[LbNodeRow, ...]
    nat_advice: tuple[str, ...]
    next_steps: tuple[Step, ...]
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (title, text) from other phases
    # What the run did (empty when the summary is not of a run) and what the preset does not build: the
    # parts below show only what exists, so a preset without a cluster gets no kubectl line or DNS records.
    ran: tuple[PhaseLine, ...] = ()
    not_built: tuple[str, ...] = ()
    has_cluster: bool = True
    has_loadbalancer: bool = True


def next_steps(spec: ClusterSpec, ws: Workspace) -> list[Step]:
    """The cluster's life after day 1, as kwizard's own commands: each is a resumable run with its own
    checks (an even etcd count, the last control plane, one minor version at a time) that keeps the
    preset and the inventory in step with the cluster."""
    name = shlex.quote(spec.name)
    workers = [h.name for h in spec.hosts if h.has("worker")] or [h.name for h in spec.hosts]
    example_node = shlex.quote(workers[-1]) if workers else "NODE"
    return [
        Step(
            "Add nodes",
            (f"kwizard add-node {name} NEW_ADDRESS... --role worker --yes",),
            "access, preflight and inventory for the new hosts only, then Kubespray's procedure for their "
            "role (facts.yml and scale.yml --limit for workers); the preset changes only after success",
        ),
        Step(
            "Remove a node",
            (f"kwizard remove-node {name} {example_node} --yes",),
            "add --ungraceful when the node no longer answers SSH (removed without drain or reset)",
        ),
        Step(
            "Upgrade Kubernetes",
            (f"kwizard upgrade {name} --kube-version NEXT_VERSION --yes",),
            f"one minor version at a time, from {spec.kubespray.kube_version}; the versions Kubespray "
            f"{spec.kubespray.version} supports are checked before any host is touched",
        ),
        Step(
            "Back up etcd",
            (f"kwizard backup {name}", f"kwizard restore {name} SNAPSHOT"),
            f"snapshots are kept under {ws.cluster_dir / 'backups'} with their sha256; a restore loses "
            "everything written after its snapshot",
        ),
        Step(
            "Tear the cluster down",
            (f"kwizard reset {name} --confirm {name}",),
            "destroys every node's Kubernetes state and data; the cluster's folder is kept",
        ),
    ]


def _lb_rows(spec: ClusterSpec, results: Mapping[str, Any]) -> list[LbNodeRow]:
    served: dict[str, list[tuple[str, str, bool]]] = {}
    for output in (LoadBalancerOutput.of(results), AppsOutput.of(results)):
        for item in output.served() if output else []:
            cell = (f"{item.status} " if item.status else "") + ("ok" if item.ok else item.outcome)
            row = served.setdefault(item.node, [])
            if item.host not in [h for h, _, _ in row]:
                row.append((item.host, cell.replace("_", " "), item.ok))
    return [LbNodeRow(h.name, h.address, tuple(served.get(h.name, []))) for h in dns.lb_nodes(spec)]


def _urls(spec: ClusterSpec, results: Mapping[str, Any]) -> list[tuple[str, str]]:
    http, https = spec.loadbalancer.http_node_port, spec.loadbalancer.https_node_port
    urls = [(host, f"http://{host}:{http}/  https://{host}:{https}/") for host in dns.hostnames(spec)]
    apps = AppsOutput.of(results)
    if apps and apps.grafana_password_command:
        urls.append(("Grafana admin password", apps.grafana_password_command))
    return urls


def build(
    spec: ClusterSpec,
    ws: Workspace,
    results: Mapping[str, Any] | None = None,
    ran: tuple[PhaseLine, ...] = (),
) -> Summary:
    """The summary of `spec`'s cluster from the phases' results (missing phases show what to expect).

    Only what the preset builds is listed: without a cluster phase there is no cluster to talk to,
    without a loadbalancer phase no DNS record points anywhere; `not_built` says so instead.
    """
    results = results or {}
    kube = KubeconfigOutput.of(results)
    has_cluster = any(name in spec.phases for name in CLUSTER_PHASES)
    has_loadbalancer = "loadbalancer" in spec.phases
    every = dns.records(spec) if has_loadbalancer else []
    # Names a provision.dns record already answers for are kwizard's to keep, not the operator's to add.
    kept = {r.name: dns.kept_by_provision(spec, r.name) for r in every}
    found = [r for r in every if not kept[r.name]]
    return Summary(
        cluster=spec.name,
        target=spec.target,
        context=kube.context if kube else spec.name,
        kubeconfig=kube.kubeconfig if kube else str(ws.kubeconfig),
        merged_into=kube.merged_into if kube else None,
        server=kube.server if kube else None,
        api_problem=kube.api_problem if kube else None,
        dns_lines=tuple(dns.zone_lines(found)),
        dns_kept=tuple(f"{name} → Route53 record {record}" for name, record in kept.items() if record),
        dns_advice=tuple(dns.advice(spec)) if has_loadbalancer else (),
        route53_batch=dns.route53_change_batch(found) if spec.target == "aws" and found else None,
        urls=tuple(_urls(spec, results)) if has_loadbalancer else (),
        lb_nodes=tuple(_lb_rows(spec, results)) if has_loadbalancer else (),
        nat_advice=tuple(nat_advice(spec)),
        next_steps=tuple(next_steps(spec, ws)) if has_cluster else (),
        extra=_storage(spec, ran, has_cluster),
        ran=ran,
        not_built=tuple(_not_built(spec)),
        has_cluster=has_cluster,
        has_loadbalancer=has_loadbalancer,
    )


def from_record(spec: ClusterSpec, ws: Workspace, record: RunRecord) -> Summary:
    """The summary of a journalled run: its phases' results and what each phase did."""
    results = {name: dict(record.phase(name).data) for name in record.selected}
    ran = tuple(
        PhaseLine(
            name,
            PHASE_TITLES.get(name, name),
            record.phase(name).status,
            record.phase(name).summary,
        )
        for name in record.selected
    )
    return build(spec, ws, results, ran)


def _not_built(spec: ClusterSpec) -> list[str]:
    if not any(name in spec.phases for name in CLUSTER_PHASES):
        return [
            "Kubernetes: this preset builds no cluster (no kubespray phase), so there is no kubeconfig "
            "and no kubectl context; no StorageClass, PersistentVolume, load balancer or DNS record was "
            "applied.",
        ]
    missing = []
    if "loadbalancer" not in spec.phases:
        missing.append(
            "Load balancer: no loadbalancer phase in this preset, so there are no DNS records to add."
        )
    if "storage" not in spec.phases and spec.storage.type != "none":
        missing.append(f"Storage: no storage phase in this preset; {spec.storage.type} was not set up.")
    return missing


def _storage(spec: ClusterSpec, ran: tuple[PhaseLine, ...], has_cluster: bool) -> tuple[tuple[str, str], ...]:
    # The storage phase's own summary says what it applied (a preset without a cluster gets the volume but
    # no StorageClass); the spec's description is what a cluster gets, so it only stands in for a cluster.
    done = next((line for line in ran if line.phase == "storage" and line.status == "ok"), None)
    if done is not None:
        # Its first line is already in "What was built"; a panel only for the rest (how pods use it).
        return (("Storage", done.summary),) if "\n" in done.summary.strip() else ()
    if not has_cluster or "storage" not in spec.phases:
        return ()
    return (("Storage", storage_summary_text(spec)),)


def nat_advice(spec: ClusterSpec) -> list[str]:
    """Outbound (NAT) HA advice for the target, with the AZ count on AWS."""
    if spec.target != "aws":
        return list(NAT_BAREMETAL)
    zones = sorted({h.az for h in spec.hosts if h.az})
    count = f"Your hosts use {len(zones)} AZs ({', '.join(zones)}): {len(zones)} NAT gateways or instances."
    return [*NAT_AWS, count] if zones else list(NAT_AWS)


RUN_MARKS = {"ok": "✓", "skipped": "-", "failed": "✗", "interrupted": "✗", "pending": "·"}


def run_lines(summary: Summary) -> list[tuple[str, str]]:
    """(mark, text) per phase of the run, then the parts the preset does not build."""
    lines = [
        (
            RUN_MARKS.get(line.status, "·"),
            f"{line.title}: "
            + (line.summary.strip().splitlines() or [line.status])[0]
            + ("" if line.status == "ok" else f" ({line.status})"),
        )
        for line in summary.ran
    ]
    return lines + [("✗", f"Not built — {text}") for text in summary.not_built]


def render_text(summary: Summary) -> str:
    """The summary as plain text (headless mode, logs, terminals without rich)."""
    out = [f"Cluster {summary.cluster} ({summary.target})"]
    if summary.ran or summary.not_built:
        out += ["", "What was built"] + [f"  {mark} {text}" for mark, text in run_lines(summary)]
    if summary.has_cluster:
        out += ["", "Kubeconfig", f"  kubectl --context {summary.context} get nodes"]
        if summary.merged_into:
            copy = f"cluster-only copy: {summary.kubeconfig}"
            out.append(f"  context {summary.context} in {summary.merged_into}; {copy}")
        else:
            out.append(f"  not merged yet: run kwizard kubeconfig {summary.cluster}")
        if summary.server:
            out.append(f"  API server: {summary.server}")
        if summary.api_problem:
            out.append(f"  ! kubectl will fail: {summary.api_problem}")
    if summary.has_loadbalancer:
        if summary.dns_kept:
            out += ["", "DNS records kwizard keeps in Route53 (provision.dns)"]
            out += [f"  {line}" for line in summary.dns_kept]
        if summary.dns_lines or not summary.dns_kept:
            out += ["", "DNS records to add"]
            out += [f"  {line}" for line in summary.dns_lines] or [
                "  (no virtual hosts yet: kwizard expose SERVICE --host NAME)"
            ]
        if summary.route53_batch:
            batch = dns.route53_json(summary.route53_batch)
            out += [
                "  Route53 change batch (aws route53 change-resource-record-sets --change-batch file://FILE):"
            ]
            out += [f"    {line}" for line in batch.splitlines()]
        out += [f"  ! {line}" for line in summary.dns_advice]
        if summary.urls:
            out += ["", "URLs"] + [f"  {name}: {url}" for name, url in summary.urls]
        out += ["", "Load-balancer nodes"]
        for row in summary.lb_nodes:
            served = ", ".join(f"{h} {cell}" for h, cell, _ in row.served) or "not verified yet"
            out.append(f"  {row.node} ({row.address}): {served}")
    out += ["", "Outbound traffic (HA NAT)"] + [f"  - {line}" for line in summary.nat_advice]
    if summary.next_steps:
        out += ["", "Next steps"]
    for step in summary.next_steps:
        out.append(f"  {step.title}" + (f" ({step.note})" if step.note else ""))
        out += [f"    {command}" for command in step.commands]
    for title, text in summary.extra:
        out += ["", title, *(f"  {line}" for line in text.splitlines())]
    return "\n".join(out)
