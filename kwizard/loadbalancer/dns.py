"""DNS for the HA ingress: one A record per LB node for every virtual host (the guide's step "DNS ⇒ Host").

kwizard prints the records rather than changing anyone's DNS: zone-file lines for any DNS server, and a
Route53 change batch (for `aws route53 change-resource-record-sets`) on the AWS target.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from kwizard.aws.settings import in_zone
from kwizard.spec import ClusterSpec, Host

DEFAULT_TTL = 60  # short: with round robin and no health checks, a dead node should age out quickly

ROUND_ROBIN_WARNING = (
    "Plain DNS round robin has no health checks: when an LB node dies, clients that resolved its address "
    "keep failing until the record is removed and the TTL has passed."
)
BAREMETAL_OPTIONS = (
    "Use a DNS provider with health-checked records, or put a virtual IP in front of the LB nodes "
    "(keepalived or kube-vip in ARP mode, or MetalLB L2) and publish that one address instead."
)
AWS_OPTIONS = (
    "Use Route53 health checks on each record (failover or multivalue answer routing), or move an Elastic "
    "IP between LB nodes from a health checker. Layer-2 virtual IPs (keepalived, kube-vip ARP, MetalLB L2) "
    "do not work on EC2: the VPC ignores gratuitous ARP."
)


@dataclass(frozen=True)
class ARecord:
    name: str
    address: str
    node: str


def lb_nodes(spec: ClusterSpec) -> list[Host]:
    """Hosts that run the ingress controller (the `loadbalancer` role)."""
    return spec.hosts_with("loadbalancer")


def hostnames(spec: ClusterSpec) -> list[str]:
    """Every virtual host name the cluster serves, spec order, without duplicates (Grafana included)."""
    names = [v.host for v in spec.loadbalancer.virtual_hosts]
    if spec.apps.grafana:
        names.append(grafana_host(spec))
    return list(dict.fromkeys(names))


def grafana_host(spec: ClusterSpec) -> str:
    return f"grafana.{spec.loadbalancer.domain}"


def records(spec: ClusterSpec) -> list[ARecord]:
    """A records: every virtual host → every LB node with an IPv4 address."""
    nodes = [(n.name, _ipv4(spec, n)) for n in lb_nodes(spec)]
    return [ARecord(name, address, node) for name in hostnames(spec) for node, address in nodes if address]


def _ipv4(spec: ClusterSpec, host: Host) -> str | None:
    for candidate in (host.address, spec.bind_ip(host)):
        try:
            if candidate and ipaddress.ip_address(candidate).version == 4:
                return candidate
        except ValueError:
            continue
    return None


def kept_by_provision(spec: ClusterSpec, name: str) -> str | None:
    """The Route53 record of `provision.dns` that already answers for `name` (kwizard creates and keeps
    it), or None. A wildcard record answers for every name below it, as DNS does."""
    settings = spec.provision.dns if spec.provision is not None else None
    if settings is None:
        return None
    wanted = name.lower().removesuffix(".")  # the records are already so (DnsSettings checks them)
    for record in settings.records:
        below = record.removeprefix("*.") if record.startswith("*.") else None
        if record == wanted or (below and wanted != below and in_zone(wanted, below)):
            return record
    return None


def zone_lines(found: list[ARecord], ttl: int = DEFAULT_TTL) -> list[str]:
    """BIND zone-file lines, fully qualified names (trailing dot)."""
    width = max((len(r.name) for r in found), default=0) + 1
    return [f"{r.name + '.':<{width}} {ttl} IN A {r.address}    ; {r.node}" for r in found]


def route53_change_batch(
    found: list[ARecord], ttl: int = DEFAULT_TTL, comment: str = ""
) -> dict[str, object]:
    """A ChangeBatch that UPSERTs one multi-value A record set per virtual host."""
    by_name: dict[str, list[str]] = {}
    for record in found:
        by_name.setdefault(record.name, []).append(record.address)
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": f"{name}.",
                "Type": "A",
                "TTL": ttl,
                "ResourceRecords": [{"Value": a} for a in addresses],
            },
        }
        for name, addresses in by_name.items()
    ]
    batch: dict[str, object] = {"Changes": changes}
    if comment:
        batch = {"Comment": comment, **batch}
    return batch


def route53_json(batch: dict[str, object]) -> str:
    """The change batch as JSON with one change per line: valid for the AWS CLI, short enough to read."""
    changes = batch.get("Changes")
    assert isinstance(changes, list)
    head = {k: v for k, v in batch.items() if k != "Changes"}
    lines = [json.dumps(change) for change in changes]
    opening = json.dumps(head)[:-1] + (", " if head else "") + '"Changes": ['
    return "\n".join(
        [opening, *(f"  {line}," for line in lines[:-1]), *(f"  {line}" for line in lines[-1:]), "]}"]
    )


def advice(spec: ClusterSpec) -> list[str]:
    """The round-robin warning and the options for this target."""
    return [ROUND_ROBIN_WARNING, AWS_OPTIONS if spec.target == "aws" else BAREMETAL_OPTIONS]


def render(spec: ClusterSpec) -> str:
    """Everything the user needs to add, as text: zone lines (and the Route53 batch on AWS), then advice."""
    found = records(spec)
    if not found:
        return "No DNS records: add virtual hosts and give the loadbalancer role to at least one host."
    text = ["; A records for the HA ingress (one per LB node for each virtual host)", *zone_lines(found)]
    if spec.target == "aws":
        batch = route53_change_batch(found, comment=f"kwizard: ingress of {spec.name}")
        text += [
            "",
            "Route53 change batch (aws route53 change-resource-record-sets --hosted-zone-id ZONE "
            "--change-batch file://batch.json):",
            route53_json(batch),
            "",
            "The addresses above are the nodes' addresses in the preset; for clients on the internet use "
            "their public or Elastic IPs instead.",
        ]
    return "\n".join([*text, "", *(f"Note: {line}" for line in advice(spec))])
