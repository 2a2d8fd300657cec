"""Default role assignment: what an operator would pick for N hosts (DESIGN.md §1, the guide's layout)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import cast

from kwizard.errors import InputError
from kwizard.spec import ROLES, Host, Role

ROLE_ALIASES = {"cp": "control_plane", "master": "control_plane", "lb": "loadbalancer", "node": "worker"}


def parse_roles(text: str) -> list[Role]:
    """`cp,etcd` / `control_plane etcd` → canonical role names, each once; InputError on unknown ones.

    Aliases can name one role twice (`cp, master`); the operator meant that role once, so repeats are
    dropped here rather than rejected later by the Host model.
    """
    roles: list[Role] = []
    for word in text.replace(",", " ").split():
        role = ROLE_ALIASES.get(word.lower(), word.lower())
        if role not in ROLES:
            raise InputError(
                "Unknown role", f"{word!r} is not a role", f"Use any of: {', '.join(ROLES)} (or cp, lb)."
            )
        if role not in roles:
            roles.append(cast(Role, role))  # checked against ROLES just above
    return roles


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
    return [h.model_copy(update={"roles": sorted_roles(list(roles[h.name]))}) for h in hosts]


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


def sorted_roles(roles: list[str]) -> list[str]:
    """Roles without duplicates, in the canonical order of ROLES."""
    return sorted(set(roles), key=ROLES.index)
