"""What a provision section asks for, laid out: subnets per AZ and one named instance per host.

Pure: no AWS call. AZs are numbered (0, 1, 2…) and hosts are named after that number (cp-a, cp-b,
worker-a2), so names are known before AWS says which AZs the region has.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kwizard.aws.settings import AZ_LETTERS, ProvisionSettings

MAX_AZS = 6


@dataclass(frozen=True)
class PlannedHost:
    name: str
    group: str
    roles: tuple[str, ...]
    az_index: int
    instance_type: str
    disk_gb: int
    public: bool  # in a public subnet with a public address (load-balancer nodes, or no NAT at all)


def az_count(settings: ProvisionSettings) -> int:
    return settings.azs if isinstance(settings.azs, int) else len(settings.azs)


def subnet_cidrs(settings: ProvisionSettings, index: int) -> tuple[str, str]:
    """(public, private) ranges of AZ `index`: /20s of a /16 VPC (public 0-5, private 8-13)."""
    vpc = ipaddress.ip_network(settings.vpc_cidr)
    subnets = list(vpc.subnets(new_prefix=vpc.prefixlen + 4))
    return str(subnets[index]), str(subnets[8 + index])


def hosts(settings: ProvisionSettings) -> list[PlannedHost]:
    """Every cluster instance, spread round-robin over the AZs within each group (so a group of 3
    control planes gets one per AZ), groups in their order."""
    count = az_count(settings)
    planned: list[PlannedHost] = []
    for group in settings.groups:
        for number in range(group.count):
            index, round_ = number % count, number // count
            suffix = AZ_LETTERS[index] + (str(round_ + 1) if round_ else "")
            planned.append(
                PlannedHost(
                    name=f"{group.name}-{suffix}",
                    group=group.name,
                    roles=tuple(group.roles),
                    az_index=index,
                    instance_type=group.instance_type,
                    disk_gb=group.disk_gb,
                    public=settings.nat == "none" or "loadbalancer" in group.roles,
                )
            )
    return planned
