"""Discovery: where the host list comes from, and the `discover` phase that checks it.

Sources (each returns a `Discovery` of candidates and problems): typed lists with Ansible-style ranges
(`ranges.parse_host_list`), a CIDR scan for SSH (`scan.scan`), `~/.ssh/config` (`sshconfig`),
Terraform outputs or state (`terraform`), EC2 instances by tag (`aws`). `naming.to_hosts` turns
candidates into uniquely named spec Hosts and `naming.default_roles` proposes roles.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from kwizard.discovery.model import Candidate, Discovery, HostProblem
from kwizard.discovery.naming import sanitize_name, to_hosts
from kwizard.discovery.ranges import RangeError, expand, parse_host_list
from kwizard.protocol.events import EventKind
from kwizard.protocol.phase import Event, PhaseContext, PhaseResult
from kwizard.roles import default_roles
from kwizard.spec import ROLES, ClusterSpec, Host

__all__ = [
    "Candidate",
    "Discovery",
    "HostProblem",
    "RangeError",
    "check_hosts",
    "default_roles",
    "expand",
    "parse_host_list",
    "role_summary",
    "run_phase",
    "sanitize_name",
    "to_hosts",
]

PHASE = "discover"
RESOLVE_TIMEOUT = 5.0  # seconds for all DNS lookups together


def check_hosts(spec: ClusterSpec, *, resolve_timeout: float = RESOLVE_TIMEOUT) -> list[HostProblem]:
    """What is wrong with the spec's host list beyond what the model validates: names that do not resolve."""
    names = [h for h in spec.hosts if not _is_ip(h.address)]
    problems: list[HostProblem] = []
    if not names:
        return problems
    pool = ThreadPoolExecutor(max_workers=min(16, len(names)), thread_name_prefix="resolve")
    futures = {pool.submit(_resolves, h.address): h for h in names}
    _done, not_done = wait(futures, timeout=resolve_timeout)
    pool.shutdown(wait=False, cancel_futures=True)  # a hung resolver must not hold the phase
    for future, host in futures.items():
        if future in not_done or not future.result():
            problems.append(
                HostProblem(
                    host.name,
                    f"{host.address} does not resolve"
                    + (" (lookup timed out)" if future in not_done else ""),
                    "Fix the name, add it to DNS or /etc/hosts, or use the IP address.",
                )
            )
    return problems


def role_summary(hosts: list[Host]) -> str:
    """ "5 hosts: 3 control_plane, 3 etcd, 2 worker, 2 loadbalancer"."""
    counts = [(role, sum(h.has(role) for h in hosts)) for role in ROLES]
    parts = ", ".join(f"{n} {role}" for role, n in counts if n)
    return f"{len(hosts)} host{'s' if len(hosts) != 1 else ''}" + (f": {parts}" if parts else "")


def run_phase(ctx: PhaseContext) -> PhaseResult:
    """Check the spec's hosts (count, roles, names resolve) and report one row per host.

    For hosts kwizard created on AWS, the host list and the bastion are first read from the ledger
    (private addresses, AZs, instance types) and become the spec the later phases use."""
    if ctx.spec.provision is not None and ctx.spec.target == "aws":
        from kwizard.aws.phase import discover

        ctx.spec = discover(ctx)
    hosts = ctx.spec.hosts
    if not hosts:
        return PhaseResult(
            "failed",
            "No hosts: add them on the Hosts step, or under `hosts:` in the preset.",
            {"hosts": [], "problems": [{"subject": "hosts", "problem": "empty"}]},
        )
    problems = check_hosts(ctx.spec)
    bad = {p.subject: p for p in problems}
    for host in hosts:
        problem = bad.get(host.name)
        data: dict[str, Any] = {
            "status": "failed" if problem else "ok",
            "detail": problem.problem
            if problem
            else f"{host.address} ({', '.join(host.roles) or 'no roles'})",
            "fix": problem.fix if problem else "",
        }
        ctx.emit(Event(EventKind.HOST_STATUS, PHASE, host.name, data, time.time()))
    summary = role_summary(hosts)
    result_data = {
        "hosts": [{"name": h.name, "address": h.address, "roles": list(h.roles)} for h in hosts],
        "problems": [{"subject": p.subject, "problem": p.problem, "fix": p.fix} for p in problems],
    }
    if problems:
        return PhaseResult("failed", f"{summary}; " + "; ".join(p.problem for p in problems), result_data)
    return PhaseResult("ok", summary, result_data)


def _is_ip(address: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _resolves(name: str) -> bool:
    try:
        return bool(socket.getaddrinfo(name, None))
    except (OSError, UnicodeError):
        return False
