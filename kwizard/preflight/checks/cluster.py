"""Checks that need every host's facts: unique names and machine-ids, LB spread, enough storage hosts."""

from __future__ import annotations

import ipaddress
from collections import Counter

from kwizard.preflight.checks.base import gib
from kwizard.preflight.facts import HostFacts
from kwizard.preflight.model import CLUSTER, CheckResult, Status
from kwizard.spec import ClusterSpec, is_rfc1123
from kwizard.storage.checks import StorageCheck, size_bytes, storage_checks


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


def check_storage(spec: ClusterSpec, facts: dict[str, HostFacts]) -> list[CheckResult]:
    """The storage module's own judgement (replica count, disks) as preflight rows."""
    if "storage" not in spec.phases:
        return []
    devices = {name: host_facts.device for name, host_facts in facts.items()}
    results = []
    for check in storage_checks(spec, devices):
        if check.host is not None and check.host not in facts:
            continue  # unreachable: its ssh row says why
        results.append(_storage_row(spec, facts, check))
    return results


_STORAGE_STATUS: dict[str, Status] = {"ok": "pass", "warn": "warn", "fail": "fail"}


def _storage_row(spec: ClusterSpec, facts: dict[str, HostFacts], check: StorageCheck) -> CheckResult:
    observed = f"{check.title}: {check.detail}" if check.detail else check.title
    status = _STORAGE_STATUS[check.status]
    gluster = spec.storage.gluster
    if check.host is None:
        required = f"a multiple of {gluster.replicas} storage hosts (replica {gluster.replicas})"
        return CheckResult("storage_hosts", CLUSTER, status, observed, required, "", check.fix)
    device = spec.host(check.host).storage_device
    why = "kwizard puts the Gluster brick on an LVM volume of this disk; it never overwrites data."
    required = f"{device}: an empty disk of at least {gluster.size}" if device else f"room for {gluster.size}"
    brick = facts[check.host].brick
    if device is None and brick is not None:
        # A directory brick lives on the host's own filesystem: say how much room is left there.
        observed += f" ({gib(brick.free_mb)} free on {brick.mount_point})"
        if brick.free_mb < size_bytes(gluster.size) // (1024 * 1024):
            status = "fail"
            why = "A full filesystem stops more than Gluster: the whole host (and kubelet) suffers."
    return CheckResult("storage", check.host, status, observed, required, why, check.fix)


CLUSTER_CHECKS = (check_hostnames, check_machine_ids, check_lb_spread, check_storage)


def run_cluster_checks(spec: ClusterSpec, facts: dict[str, HostFacts]) -> list[CheckResult]:
    """Every cross-host check over the hosts that answered."""
    return [result for check in CLUSTER_CHECKS for result in check(spec, facts)]
