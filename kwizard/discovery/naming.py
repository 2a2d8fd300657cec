"""Turn candidates into spec Hosts: unique RFC 1123 names, no duplicate addresses, default roles."""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pydantic import ValidationError

from kwizard.discovery.model import Candidate, HostProblem
from kwizard.spec import Host, Role, is_rfc1123

_INVALID = re.compile(r"[^a-z0-9-]+")
_MAX_LABEL = 63
_HINT_ROLES: dict[str, Role] = {"control_plane": "control_plane", "etcd": "etcd", "worker": "worker"}


def sanitize_name(text: str | None) -> str | None:
    """A valid host name made from `text` ("Web_01.Prod" → "web-01"), or None when nothing is left.

    Only the first DNS label is kept: Kubespray sets it as the hostname and Kubernetes node name.
    """
    if not text:
        return None
    label = text.strip().lower().split(".")[0]
    label = _INVALID.sub("-", label).strip("-")[:_MAX_LABEL].strip("-")
    return label if label and is_rfc1123(label) else None


def _name_from_address(address: str) -> str | None:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return sanitize_name(address)  # a DNS name: its first label
    return None


def to_hosts(
    candidates: Iterable[Candidate], existing: Sequence[Host] = ()
) -> tuple[list[Host], list[HostProblem]]:
    """New Hosts for `candidates` not already in `existing`, with unique names; problems for the rest."""
    taken_names = {h.name for h in existing}
    owner = {h.address: h.name for h in existing}
    listed: set[str] = set()
    hints: dict[str, set[str]] = defaultdict(set)
    unique: list[Candidate] = []
    problems: list[HostProblem] = []
    for candidate in candidates:
        if candidate.role_hint:
            hints[candidate.address].add(candidate.role_hint)
        if candidate.address in owner or candidate.address in listed:
            where = f"host {owner[candidate.address]!r}" if candidate.address in owner else "listed twice"
            problems.append(
                HostProblem(
                    candidate.address,
                    f"duplicate address: {candidate.address} is already {where}",
                    "Each server is listed once; remove the duplicate or fix the address.",
                )
            )
            continue
        listed.add(candidate.address)
        unique.append(candidate)

    hosts: list[Host] = []
    counter = 1
    for candidate in unique:
        explicit = candidate.source == "typed" and candidate.name is not None
        name = sanitize_name(candidate.name) or _name_from_address(candidate.address)
        if explicit and (name != candidate.name or name in taken_names):
            reason = "is already used" if name in taken_names else "is not a valid host name (RFC 1123)"
            problems.append(
                HostProblem(
                    f"{candidate.name}={candidate.address}",
                    f"name {candidate.name!r} {reason}",
                    "Use a unique name of lower-case letters, digits and '-'.",
                )
            )
            continue
        if name is None or name in taken_names:
            base = name or "node"
            suffix = counter if name is None else 2
            while f"{base}{'' if name is None else '-'}{suffix}" in taken_names:
                suffix += 1
            name = f"{base}{'' if name is None else '-'}{suffix}"
            if candidate.name is None and base == "node":
                counter = suffix + 1
        taken_names.add(name)
        try:
            hosts.append(
                Host(
                    name=name,
                    address=candidate.address,
                    ip=candidate.ip,
                    user=candidate.user,
                    port=candidate.port,
                    az=candidate.az,
                    instance_type=candidate.instance_type,
                    roles=_roles_from_hints(hints.get(candidate.address, set()), hints),
                )
            )
        except ValidationError as exc:
            problem = "; ".join(str(e.get("msg", "")) for e in exc.errors())
            problems.append(HostProblem(candidate.address, problem, "Fix the value and add the host again."))
    return hosts, problems


def _roles_from_hints(own: set[str], everyone: dict[str, set[str]]) -> list[Role]:
    roles: set[Role] = {_HINT_ROLES[hint] for hint in own if hint in _HINT_ROLES}
    any_etcd = any("etcd" in h for h in everyone.values())
    if "control_plane" in roles and not any_etcd:
        roles.add("etcd")  # outputs that list masters but no etcd: etcd stacked on the control plane
    return sorted(roles)


def default_roles(hosts: Sequence[Host]) -> list[Host]:
    """Hosts with the default roles when none has roles yet; otherwise role-less hosts become workers.

    Defaults: three control plane + etcd hosts (one per AZ first, when AZs are known) when there are
    at least three, else one; the others are workers (the control plane works too when no other host
    is left); the loadbalancer role on two or three workers, in different AZs when known.
    """
    if any(h.roles for h in hosts):
        return [h if h.roles else h.model_copy(update={"roles": ["worker"]}) for h in hosts]
    if not hosts:
        return []
    spread = _spread_by_az(hosts)
    control = spread[:3] if len(hosts) >= 3 else spread[:1]
    control_names = {h.name for h in control}
    workers = [h for h in hosts if h.name not in control_names]
    roles: dict[str, set[str]] = {h.name: set() for h in hosts}
    for host in control:
        roles[host.name] |= {"control_plane", "etcd"}
    if not workers:
        workers = list(control)
    for host in workers:
        roles[host.name].add("worker")
    for host in _pick_loadbalancers(workers):
        roles[host.name].add("loadbalancer")
    return [h.model_copy(update={"roles": sorted(roles[h.name])}) for h in hosts]


def _spread_by_az(hosts: Sequence[Host]) -> list[Host]:
    """Hosts reordered round-robin over their AZs (stable within an AZ); unchanged when AZs are unknown."""
    by_az: dict[str, list[Host]] = defaultdict(list)
    for host in hosts:
        by_az[host.az or ""].append(host)
    if len(by_az) < 2:
        return list(hosts)
    queues = list(by_az.values())
    ordered: list[Host] = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


def _pick_loadbalancers(workers: Sequence[Host]) -> list[Host]:
    spread = _spread_by_az(workers)
    azs = {h.az for h in workers if h.az}
    count = min(len(workers), max(2, min(3, len(azs))))
    return spread[:count]
