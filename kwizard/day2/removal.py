"""What `remove-node` may remove: the checks made before anything runs, and the spec left afterwards.

Kubespray's remove-node.yml removes whatever it is told to, including the last control plane or one etcd
member of three; these checks refuse such removals with the reason and what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kwizard.errors import InputError
from kwizard.spec import ClusterSpec, Host


@dataclass(frozen=True)
class Removal:
    """Hosts to remove (in the order the user named them) and the spec without them."""

    hosts: tuple[Host, ...]
    remaining: ClusterSpec

    @property
    def names(self) -> list[str]:
        return [host.name for host in self.hosts]


def plan_removal(spec: ClusterSpec, names: Sequence[str]) -> Removal:
    """The removal of `names` from `spec`, or InputError saying why Kubespray must not be asked to."""
    wanted = list(dict.fromkeys(names))  # a name given twice is removed once
    known = [host.name for host in spec.hosts]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise InputError(
            "Unknown node",
            f"Cluster {spec.name!r} has no host named {', '.join(map(repr, unknown))}.",
            f"Name hosts of its preset: {', '.join(known)}.",
        )
    hosts = tuple(spec.host(name) for name in wanted)
    _keep_a_control_plane(spec, wanted)
    _keep_etcd_quorum(spec, wanted)
    _not_first_of_group(spec, wanted)
    return Removal(hosts, spec_without(spec, wanted))


def spec_without(spec: ClusterSpec, names: Sequence[str]) -> ClusterSpec:
    """`spec` without the hosts `names` (absent ones are ignored), validated as a whole."""
    remaining = [host for host in spec.hosts if host.name not in set(names)]
    if len(remaining) == len(spec.hosts):
        return spec
    try:
        return spec.updated(hosts=remaining)
    except InputError as error:
        raise InputError(
            "The cluster would not be valid without these nodes",
            f"Without {', '.join(names)}: {error.problem}",
            "Change the preset first (e.g. storage replicas or load balancer hosts), or remove other nodes.",
        ) from None


def _keep_a_control_plane(spec: ClusterSpec, names: list[str]) -> None:
    planes = [host.name for host in spec.hosts_with("control_plane")]
    if planes and all(name in names for name in planes):
        raise InputError(
            "Cannot remove the last control plane",
            f"{', '.join(planes)} {'is' if len(planes) == 1 else 'are'} the cluster's only control plane "
            "host(s); without one the cluster has no API server.",
            "Add a control plane host first (give a new host the control_plane role and run the cluster "
            "again), or reset the whole cluster with `kwizard reset`.",
        )


def _keep_etcd_quorum(spec: ClusterSpec, names: list[str]) -> None:
    members = [host.name for host in spec.hosts_with("etcd")]
    leaving = [name for name in names if name in members]
    staying = [name for name in members if name not in leaving]
    if not leaving:
        return
    if not staying:
        raise InputError(
            "Cannot remove every etcd member",
            f"{', '.join(leaving)} hold the cluster's whole etcd: its state would be gone.",
            "Keep at least one etcd member, or reset the whole cluster with `kwizard reset`.",
        )
    if len(staying) % 2 == 0:
        candidates = [name for name in reversed(staying) if name != members[0]]
        also = f"also remove {candidates[0]} (or another etcd member)" if candidates else ""
        raise InputError(
            "The removal would leave an even number of etcd members",
            f"Removing {', '.join(leaving)} leaves {len(staying)} etcd members ({', '.join(staying)}); an "
            "even count keeps no more failures than one member less, and Kubespray refuses it "
            '("Stop if even number of etcd hosts").',
            (f"{also.capitalize()}, or " if also else "")
            + "give the etcd role to one more host and run the cluster first, so that an odd number stays.",
        )


def _not_first_of_group(spec: ClusterSpec, names: list[str]) -> None:
    """Kubespray delegates the drain and the etcd member removal to the first host of each group."""
    for role, group in (("control_plane", "kube_control_plane"), ("etcd", "etcd")):
        members = spec.hosts_with(role)
        if members and members[0].name in names:
            first = members[0].name
            raise InputError(
                f"Cannot remove the first {group} host",
                f"{first} is the first host of Kubespray's {group} group, which remove-node.yml runs its "
                "kubectl and etcdctl commands on; Kubespray cannot remove it.",
                f"Move {first} after the other {role} hosts in the preset's host list, run the cluster again "
                f"(kwizard --preset FILE --yes --only kubespray), then remove {first}.",
            )
