"""What `add-node` may add: the new hosts parsed as the Hosts step reads them, the checks made before
anything runs, and the Kubespray playbooks the addition takes (Kubespray's "Adding/replacing a node").

Workers join with `playbooks/facts.yml` then `scale.yml --limit NEW`. New etcd members join with
`cluster.yml` then `upgrade-cluster.yml`, both limited to the etcd and control plane groups with
`ignore_assert_errors` (and `etcd_retries=10` when several join at once). A new control plane needs a
`cluster.yml` over every node (each node's API proxy learns the new server), then nginx-proxy restarted
everywhere so it reads its new configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kwizard.errors import InputError
from kwizard.spec import ClusterSpec, Host

ADDABLE = ("control_plane", "etcd", "worker")
JOINING_GROUPS = "etcd,kube_control_plane"  # the limit Kubespray's docs give for a new etcd member


@dataclass(frozen=True)
class Addition:
    """Hosts to add (in the order given) and the spec with them appended."""

    hosts: tuple[Host, ...]
    combined: ClusterSpec

    @property
    def names(self) -> list[str]:
        return [host.name for host in self.hosts]


@dataclass(frozen=True)
class PlaybookStep:
    """One Kubespray playbook of an addition: the phase that runs it and how."""

    phase: str
    title: str
    playbook: str
    limit: str | None = None
    extravars: dict[str, Any] = field(default_factory=dict)


def new_hosts(spec: ClusterSpec, entries: Sequence[str], roles: str | None) -> list[Host]:
    """The hosts typed on the command line (one entry per argument, each as a line of the Hosts step:
    `10.0.0.[21:22]`, `node6=10.0.0.16`, `node6 10.0.0.16 cp,etcd`), with `roles` (default worker) for
    those that did not name their own; InputError listing every bad entry."""
    from kwizard.discovery import parse_host_list, to_hosts
    from kwizard.roles import parse_roles

    default = parse_roles(roles) if roles else ["worker"]
    found = parse_host_list("\n".join(entries))
    hosts, problems = to_hosts(found.candidates, existing=spec.hosts)
    problems = [*found.problems, *problems]
    if problems:
        raise InputError(
            "Cannot add these hosts",
            "\n".join(f"{p.subject}: {p.problem}" for p in problems),
            problems[0].fix or "Write hosts as on the Hosts step, e.g. 10.0.0.21 or node6=10.0.0.16.",
        )
    if not hosts:
        raise InputError(
            "No hosts to add",
            "The command named no host.",
            f"Name them, e.g. kwizard add-node {spec.name} 10.0.0.21 or node6=10.0.0.16.",
        )
    return [host if host.roles else host.model_copy(update={"roles": list(default)}) for host in hosts]


def plan_addition(spec: ClusterSpec, hosts: Sequence[Host]) -> Addition:
    """The addition of `hosts` to `spec`, or InputError saying why Kubespray must not be asked to."""
    for host in hosts:
        other = [role for role in host.roles if role not in ADDABLE]
        if other or not host.roles:
            raise InputError(
                "Role not supported by add-node",
                f"{host.name} would get {', '.join(other) or 'no role'}; add-node joins control plane, etcd "
                "and worker hosts (the load balancer and storage roles are set up by their own phases).",
                f"Add {host.name} as a worker, then give it that role in the preset and run "
                "kwizard --preset FILE --yes --only loadbalancer (or storage).",
            )
    _odd_etcd(spec, hosts)
    _keep_nodes(spec, hosts)
    return Addition(tuple(hosts), spec_with(spec, hosts))


def _keep_nodes(spec: ClusterSpec, hosts: Sequence[Host]) -> None:
    """Without workers the control plane hosts are Kubespray's kube_node; the first worker would take them
    out of that group in the inventory, unnoticed, while they still run workloads."""
    planes = [host.name for host in spec.hosts_with("control_plane")]
    if spec.hosts_with("worker") or not any(host.has("worker") for host in hosts):
        return
    raise InputError(
        "The control plane hosts would stop being nodes",
        f"{', '.join(planes)} run the workloads now (the cluster has no worker); with a first worker "
        "kwizard's inventory would list only the workers in kube_node.",
        f"Give {', '.join(planes)} the worker role in the preset first (the inventory stays the same), "
        "then add the workers.",
    )


def add_node_operation(
    spec: ClusterSpec, entries: Sequence[str], roles: str | None
) -> tuple[Addition, dict[str, Any]]:
    """The addition of the typed hosts to `spec`, checked as a whole (Kubespray's own rules too), and
    the operation an add-node run records: what the command line and the wizard both start."""
    from kwizard.day2.phases import ADD_NODE
    from kwizard.inventory.checks import check_spec, raise_for_problems

    addition = plan_addition(spec, new_hosts(spec, entries, roles))
    raise_for_problems(check_spec(addition.combined))
    hosts = [host.model_dump(mode="json", exclude_none=True) for host in addition.hosts]
    operation = {"command": ADD_NODE, "hosts": hosts, "restart_api_proxy": restarts_api_proxy(spec, hosts)}
    return addition, operation


def spec_with(spec: ClusterSpec, hosts: Sequence[Host]) -> ClusterSpec:
    """`spec` with `hosts` appended (those already in it by name are left as they are), validated."""
    names = {host.name for host in spec.hosts}
    missing = [host for host in hosts if host.name not in names]
    if not missing:
        return spec
    try:
        return spec.updated(hosts=[*spec.hosts, *missing])
    except InputError as error:
        raise InputError(
            "The cluster would not be valid with these hosts",
            f"With {', '.join(h.name for h in missing)}: {error.problem}",
            "Change the hosts or their roles (--role), or the preset first.",
        ) from None


def _odd_etcd(spec: ClusterSpec, hosts: Sequence[Host]) -> None:
    members = [host.name for host in spec.hosts_with("etcd")]
    joining = [host.name for host in hosts if host.has("etcd")]
    if not joining or (len(members) + len(joining)) % 2 == 1:
        return
    others = [host.name for host in hosts if not host.has("etcd")]
    total = len(members) + len(joining)
    if others:
        ways = [f"give the etcd role to {others[0]} as well (a quoted '{others[0]} ADDRESS cp,etcd')"]
    else:
        ways = ["add one more etcd host in the same command (e.g. --role control_plane,etcd with two hosts)"]
    ways.append(f"add {', '.join(joining)} without the etcd role")
    raise InputError(
        "The addition would leave an even number of etcd members",
        f"{', '.join(members)} {'is' if len(members) == 1 else 'are'} the cluster's etcd; with "
        f"{', '.join(joining)} it would have {total} members. An even count keeps no more failures than "
        'one member less, and Kubespray refuses it ("Stop if even number of etcd hosts").',
        _sentence("; or ".join(ways)),
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def playbook_steps(hosts: Sequence[Mapping[str, Any]]) -> list[PlaybookStep]:
    """The Kubespray playbooks that add `hosts` (as recorded with the run: name and roles)."""
    etcd = [h["name"] for h in hosts if "etcd" in h["roles"]]
    planes = [h["name"] for h in hosts if "control_plane" in h["roles"]]
    workers = [h["name"] for h in hosts if "worker" in h["roles"]]
    steps = [PlaybookStep("facts", "Kubespray facts.yml", "playbooks/facts.yml")]
    if etcd:
        joining: dict[str, Any] = {"ignore_assert_errors": True}
        if len(etcd) > 1:
            joining["etcd_retries"] = 10  # the members join one after the other
        steps += [
            PlaybookStep(
                "etcd-join",
                "Kubespray cluster.yml (etcd, control plane)",
                "cluster.yml",
                JOINING_GROUPS,
                joining,
            ),
            PlaybookStep(
                "etcd-config",
                "Kubespray upgrade-cluster.yml (etcd, control plane)",
                "upgrade-cluster.yml",
                JOINING_GROUPS,
                joining,
            ),
        ]
    if planes:
        steps.append(PlaybookStep("cluster", "Kubespray cluster.yml", "cluster.yml"))
    elif workers:
        steps.append(PlaybookStep("scale", "Kubespray scale.yml", "scale.yml", ",".join(workers)))
    return steps


def restarts_api_proxy(spec: ClusterSpec, hosts: Sequence[Mapping[str, Any]]) -> bool:
    """A new control plane and the nodes reach the API through Kubespray's local nginx-proxy."""
    extra = spec.kubespray.extra_vars
    local = (
        "loadbalancer_apiserver" not in extra and extra.get("loadbalancer_apiserver_localhost") is not False
    )
    nginx = extra.get("loadbalancer_apiserver_type", "nginx") == "nginx"
    return local and nginx and any("control_plane" in h["roles"] for h in hosts)
