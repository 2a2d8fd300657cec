"""Checks that need every host's facts: unique names and machine-ids, LB spread, enough storage hosts."""

from __future__ import annotations

import ipaddress
from collections import Counter

from kwizard.preflight.facts import HostFacts
from kwizard.preflight.model import CLUSTER, CheckResult
from kwizard.spec import ClusterSpec, is_rfc1123


def check_hostnames(spec: ClusterSpec, facts: dict[str, HostFacts]) -> list[CheckResult]:
    counts = Counter(f.hostname for f in facts.values() if f.hostname)
    results = []
    required = "a valid (RFC 1123, lower-case) hostname, unique in the cluster"
    for name, f in facts.items():
        sharing = sorted(n for n, o in facts.items() if o.hostname == f.hostname)
        if not f.hostname:
            results.append(CheckResult("hostname", name, "warn", "unknown", required))
        elif counts[f.hostname] > 1:
            results.append(
                CheckResult(
                    "hostname",
                    name,
                    "warn",
                    f"{f.hostname}, on {', '.join(sharing)}",
                    required,
                    "Kubespray renames every host to its inventory name, so this resolves itself — but "
                    "equal hostnames often mean cloned machines or one server listed twice.",
                    "Check the machine-id row; nothing else to do.",
                )
            )
        elif not is_rfc1123(f.hostname):
            results.append(
                CheckResult(
                    "hostname",
                    name,
                    "warn",
                    f.hostname,
                    required,
                    f"Kubespray renames the host to its inventory name ({name}) before checking it.",
                    "Nothing to do; the inventory name is what Kubernetes will use.",
                )
            )
        else:
            note = "" if f.hostname == name else f" (becomes {name})"
            results.append(CheckResult("hostname", name, "pass", f.hostname + note, required))
    return results


def check_machine_ids(spec: ClusterSpec, facts: dict[str, HostFacts]) -> list[CheckResult]:
    counts = Counter(f.machine_id for f in facts.values() if f.machine_id)
    results = []
    required = "unique /etc/machine-id"
    for name, f in facts.items():
        if not f.machine_id:
            results.append(CheckResult("machine_id", name, "warn", "none", required))
            continue
        if counts[f.machine_id] == 1:
            results.append(CheckResult("machine_id", name, "pass", f.machine_id[:12] + "…", required))
            continue
        sharing = sorted(n for n, o in facts.items() if o.machine_id == f.machine_id)
        # Clones have different addresses; one server reached under two names shares them.
        same_server = bool(set.intersection(*(_global_addresses(facts[n]) for n in sharing)))
        observed = f"{f.machine_id[:12]}… on {', '.join(sharing)}"
        results.append(
            CheckResult(
                "machine_id",
                name,
                "fail",
                observed + (" (same addresses: one server listed twice?)" if same_server else ""),
                required,
                "Cloned machines share a machine-id; kubelet, Calico and journald then see one node "
                "where there are several, and nodes overwrite each other.",
                "On each clone: rm -f /etc/machine-id /var/lib/dbus/machine-id && systemd-machine-id-setup, "
                "then reboot. If it is one server listed twice, remove the duplicate host.",
            )
        )
    return results


def _global_addresses(host_facts: HostFacts) -> set[str]:
    found = set()
    for address in host_facts.addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_link_local):
            found.add(address)
    return found


def check_lb_spread(spec: ClusterSpec, facts: dict[str, HostFacts]) -> list[CheckResult]:
    lb = spec.loadbalancer
    if not lb.enabled or "loadbalancer" not in spec.phases:
        return []
    nodes = spec.hosts_with("loadbalancer")
    required = "≥2 load-balancer nodes, in different availability zones when known"
    if not nodes:
        return [
            CheckResult(
                "lb_spread",
                CLUSTER,
                "fail",
                "no host has the loadbalancer role",
                required,
                "The ingress load balancer runs on the hosts labelled role=loadbalancer.",
                "Give the loadbalancer role to at least 2 workers (one per AZ).",
            )
        ]
    names = ", ".join(h.name for h in nodes)
    if len(nodes) == 1:
        return [
            CheckResult(
                "lb_spread",
                CLUSTER,
                "warn",
                f"1 node ({names})",
                required,
                "DNS points at every LB node; with one, its failure takes every virtual host down.",
                "Give the loadbalancer role to a second host.",
            )
        ]
    zones = {h.az for h in nodes}
    if None in zones:
        return [CheckResult("lb_spread", CLUSTER, "pass", f"{len(nodes)} nodes; zones unknown", required)]
    if len(zones) == 1:
        return [
            CheckResult(
                "lb_spread",
                CLUSTER,
                "warn",
                f"{len(nodes)} nodes, all in {zones.pop()}",
                required,
                "One zone outage takes every load-balancer node down at once.",
                "Put a load-balancer node in each availability zone.",
            )
        ]
    return [CheckResult("lb_spread", CLUSTER, "pass", f"{len(nodes)} nodes in {len(zones)} zones", required)]


def check_storage_hosts(spec: ClusterSpec, facts: dict[str, HostFacts]) -> list[CheckResult]:
    if spec.storage.type != "gluster" or "storage" not in spec.phases:
        return []
    replicas = spec.storage.gluster.replicas
    hosts = spec.hosts_with("storage")
    reached = [h.name for h in hosts if h.name in facts]
    required = f"≥{replicas} reachable storage hosts (replica {replicas})"
    observed = f"{len(reached)} of {len(hosts)} storage hosts reached"
    if len(reached) >= replicas:
        return [CheckResult("storage_hosts", CLUSTER, "pass", observed, required)]
    return [
        CheckResult(
            "storage_hosts",
            CLUSTER,
            "fail",
            observed,
            required,
            f"A replica-{replicas} Gluster volume needs one brick on each of {replicas} hosts.",
            "Give the storage role to more hosts, fix the unreachable ones, "
            "or lower storage.gluster.replicas.",
        )
    ]


CLUSTER_CHECKS = (check_hostnames, check_machine_ids, check_lb_spread, check_storage_hosts)


def run_cluster_checks(spec: ClusterSpec, facts: dict[str, HostFacts]) -> list[CheckResult]:
    """Every cross-host check over the hosts that answered."""
    return [result for check in CLUSTER_CHECKS for result in check(spec, facts)]
