"""Default role assignment: what an operator would pick for N hosts (DESIGN.md §1, the guide's layout)."""

from __future__ import annotations

from kwizard.spec import Host


def default_roles(hosts: list[Host]) -> list[Host]:
    """Hosts with sensible roles, for hosts that have none yet (hosts with roles are kept as they are).

    1 host: everything on it. 2 hosts: one control plane + etcd, one worker. 3+ hosts: three control
    plane + etcd, the rest workers (with exactly 3 hosts they are workers too). The loadbalancer role goes
    to 2 workers, preferring different availability zones when they are known.
    """
    if any(h.roles for h in hosts):
        return hosts
    count = len(hosts)
    control = 1 if count < 3 else 3
    roles: list[list[str]] = []
    for index in range(count):
        if index < control:
            host_roles = ["control_plane", "etcd"]
            if count <= 3 and (count == 1 or count == 3):
                host_roles.append("worker")
        else:
            host_roles = ["worker"]
        roles.append(host_roles)
    workers = [i for i, r in enumerate(roles) if "worker" in r and "control_plane" not in r]
    if not workers:
        workers = [i for i, r in enumerate(roles) if "worker" in r]
    chosen: list[int] = []
    seen_azs: set[str | None] = set()
    for index in workers:  # one per AZ first
        if hosts[index].az not in seen_azs:
            chosen.append(index)
            seen_azs.add(hosts[index].az)
    chosen += [i for i in workers if i not in chosen]
    for index in chosen[:2]:
        roles[index].append("loadbalancer")
    return [host.model_copy(update={"roles": sorted_roles(r)}) for host, r in zip(hosts, roles, strict=True)]


def sorted_roles(roles: list[str]) -> list[str]:
    from kwizard.spec import ROLES

    return sorted(set(roles), key=ROLES.index)
