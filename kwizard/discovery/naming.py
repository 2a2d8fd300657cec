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
        hints[candidate.address].update(candidate.role_hints)
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
                    roles=list(candidate.roles)
                    or _roles_from_hints(hints.get(candidate.address, set()), hints),
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
