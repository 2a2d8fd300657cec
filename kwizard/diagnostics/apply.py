"""Applying an automatic remedy before a retry: to the ClusterSpec (variables), or on the hosts over SSH.

The dashboard's "Apply fix and retry" uses this; the retry itself is the engine's resume. Spec changes
go through `ClusterSpec.updated`, so a remedy can never produce an invalid preset; host commands are the
fixed strings of remedies.yaml, run as one quoted `sh -c` argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from kwizard.diagnostics.ranking import Finding
from kwizard.diagnostics.remedies import RemedyPlan, remedy_for
from kwizard.errors import InputError, RemoteError
from kwizard.protocol.phase import PhaseContext
from kwizard.spec import ClusterSpec

# Inventory variables a remedy may set, and the Host field that produces them in the inventory.
HOST_FIELDS = {"ansible_python_interpreter": "python_interpreter"}
HOST_COMMAND_TIMEOUT = 600.0  # installing a package on a slow host; bounded all the same


@dataclass(frozen=True)
class HostOutcome:
    """What a host command remedy printed on one host."""

    host: str
    output: str


def plan_from_finding(data: Mapping[str, Any], host: str | None) -> RemedyPlan | None:
    """The remedy kwizard can apply for a dashboard finding (the data of a `finding` event), or None."""
    remedy = data.get("remedy")
    if not remedy:
        return None
    finding = Finding(
        id=str(data.get("id", "")),
        category=str(data.get("category", "")),
        title=str(data.get("title", "")),
        confidence=float(data.get("confidence", 0.0)),
        evidence=(),
        fix=(),
        hosts=(host,) if host else (),
        remedy=str(remedy),
    )
    plan = remedy_for(finding)
    return plan if plan is not None and can_apply(plan) else None


def plans_for_findings(findings: Iterable[tuple[Mapping[str, Any], str | None]]) -> list[RemedyPlan]:
    """What kwizard can apply for (finding data, host) pairs: one plan per remedy, with all its hosts."""
    merged: dict[str, RemedyPlan] = {}
    for data, host in findings:
        plan = plan_from_finding(data, host)
        if plan is None:
            continue
        known = merged.get(plan.id)
        hosts = plan.hosts if known is None else tuple(dict.fromkeys(known.hosts + plan.hosts))
        merged[plan.id] = replace(known or plan, hosts=hosts)
    return list(merged.values())


def can_apply(plan: RemedyPlan) -> bool:
    """Whether kwizard applies this remedy itself (the others stay advice on the dashboard)."""
    kind = plan.action.kind
    if kind == "inventory_var":
        return plan.action.name in HOST_FIELDS and bool(plan.hosts)
    if kind == "host_command":
        return bool(plan.hosts)
    return kind == "extra_var"


def changes_spec(plan: RemedyPlan) -> bool:
    """True when the remedy is a change of the preset (saved before the retry)."""
    return plan.action.kind in ("inventory_var", "extra_var")


def apply_to_spec(plan: RemedyPlan, spec: ClusterSpec) -> ClusterSpec:
    """`spec` with the remedy's variables set (host fields or Kubespray extra vars); InputError if invalid."""
    action = plan.action
    if action.kind == "inventory_var":
        field = HOST_FIELDS.get(action.name or "")
        if field is None:
            raise InputError(
                "Remedy not applicable",
                f"kwizard cannot set the inventory variable {action.name!r} from the preset.",
                "Set it by hand in the preset (kubespray.extra_vars), then Resume.",
            )
        names = {host.name for host in spec.hosts}
        missing = [name for name in plan.hosts if name not in names]
        if missing:
            raise InputError(
                "Remedy not applicable",
                f"The finding names {', '.join(missing)}, which the preset no longer has.",
                "Check the Hosts step, then Resume.",
            )
        hosts = [
            {**host.model_dump(), field: action.value} if host.name in plan.hosts else host.model_dump()
            for host in spec.hosts
        ]
        return spec.updated(hosts=hosts)
    if action.kind == "extra_var" and action.name:
        kubespray = spec.kubespray.model_dump()
        kubespray["extra_vars"] = {**kubespray.get("extra_vars", {}), action.name: action.value}
        return spec.updated(kubespray=kubespray)
    return spec


def host_argv(plan: RemedyPlan) -> list[str]:
    """The remedy's fixed command as one argv (`sh -c COMMAND`); ssh.run quotes every word."""
    if plan.action.kind != "host_command" or not plan.action.command:
        raise InputError("Remedy not applicable", f"{plan.id} runs no command on the hosts.", "")
    return ["sh", "-c", plan.action.command]


def apply_on_hosts(
    ctx: PhaseContext, plan: RemedyPlan, timeout: float = HOST_COMMAND_TIMEOUT
) -> list[HostOutcome]:
    """Run the remedy's command on each affected host as root (sudo unless the user is root).

    Raises a KwizardError naming the host when it cannot be reached or the command fails.
    """
    from kwizard import ssh

    argv = host_argv(plan)
    outcomes: list[HostOutcome] = []
    for name in plan.hosts:
        try:
            host = ctx.spec.host(name)
        except KeyError:
            raise InputError(
                "Remedy not applicable",
                f"The finding names {name}, which the preset no longer has.",
                "Check the Hosts step, then Resume.",
            ) from None
        sudo = ctx.spec.ssh_user(host) != "root"
        with ssh.connect(ctx, host) as conn:
            result = ssh.run(
                conn, argv, sudo=sudo, sudo_password=ctx.secrets.become_password, timeout=timeout
            )
        if not result.ok:
            detail = (result.stderr or result.stdout or "").strip()[-500:]
            raise RemoteError(
                "Remedy failed",
                f"{plan.remedy.title} failed on {name} (exit {result.exited}): {detail or 'no output'}",
                "Apply the fix by hand (see the diagnosis), then Resume.",
            )
        outcomes.append(HostOutcome(name, (result.stdout or "").strip()[-500:]))
    return outcomes
