"""What kwizard knows about EC2 without asking AWS: instance sizes and a dated on-demand price table.

The sizes decide whether an instance type can hold a role (checked when a preset is loaded, before any
call to AWS). The prices are on-demand Linux list prices per hour in USD, as published on the date below;
they only feed the estimate shown in the plan, which says how old they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PRICES_AS_OF = "2025-06-01"
HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates
# The region whose prices stand in for a region the table does not have (the plan says so).
FALLBACK_REGION = "us-east-1"


@dataclass(frozen=True)
class InstanceSize:
    vcpus: int
    memory_mb: int


# Type: (vCPUs, memory in MiB). x86_64 types only: the AMIs kwizard looks up are amd64 images.
SIZES: dict[str, InstanceSize] = {
    name: InstanceSize(vcpus, memory)
    for name, (vcpus, memory) in {
        "t2.nano": (1, 512), "t2.micro": (1, 1024), "t2.small": (1, 2048), "t2.medium": (2, 4096),
        "t2.large": (2, 8192), "t2.xlarge": (4, 16384),
        "t3.nano": (2, 512), "t3.micro": (2, 1024), "t3.small": (2, 2048), "t3.medium": (2, 4096),
        "t3.large": (2, 8192), "t3.xlarge": (4, 16384), "t3.2xlarge": (8, 32768),
        "t3a.nano": (2, 512), "t3a.micro": (2, 1024), "t3a.small": (2, 2048), "t3a.medium": (2, 4096),
        "t3a.large": (2, 8192), "t3a.xlarge": (4, 16384),
        "m5.large": (2, 8192), "m5.xlarge": (4, 16384), "m5.2xlarge": (8, 32768),
        "m6i.large": (2, 8192), "m6i.xlarge": (4, 16384), "m6i.2xlarge": (8, 32768),
        "c5.large": (2, 4096), "c5.xlarge": (4, 8192), "c6i.large": (2, 4096), "c6i.xlarge": (4, 8192),
        "r5.large": (2, 16384), "r6i.large": (2, 16384),
    }.items()
}  # fmt: skip

# USD per hour, on demand, Linux: {region: {item: price}}. Items are instance types plus
# "nat-gateway" (per gateway-hour, data processing not included), "public-ipv4" (per address-hour)
# and "gp3-gb-month" (EBS, per GB-month).
PRICES: dict[str, dict[str, float]] = {
    "us-east-1": {
        "t2.nano": 0.0058, "t2.micro": 0.0116, "t2.small": 0.023, "t2.medium": 0.0464, "t2.large": 0.0928,
        "t2.xlarge": 0.1856,
        "t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832,
        "t3.xlarge": 0.1664, "t3.2xlarge": 0.3328,
        "t3a.nano": 0.0047, "t3a.micro": 0.0094, "t3a.small": 0.0188, "t3a.medium": 0.0376,
        "t3a.large": 0.0752, "t3a.xlarge": 0.1504,
        "m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384,
        "m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384,
        "c5.large": 0.085, "c5.xlarge": 0.17, "c6i.large": 0.085, "c6i.xlarge": 0.17,
        "r5.large": 0.126, "r6i.large": 0.126,
        "nat-gateway": 0.045, "public-ipv4": 0.005, "gp3-gb-month": 0.08,
    },
    "eu-west-1": {
        "t2.nano": 0.0063, "t2.micro": 0.0126, "t2.small": 0.025, "t2.medium": 0.05, "t2.large": 0.1008,
        "t2.xlarge": 0.2016,
        "t3.nano": 0.0057, "t3.micro": 0.0114, "t3.small": 0.0228, "t3.medium": 0.0456, "t3.large": 0.0912,
        "t3.xlarge": 0.1824, "t3.2xlarge": 0.3648,
        "t3a.nano": 0.0051, "t3a.micro": 0.0102, "t3a.small": 0.0204, "t3a.medium": 0.0408,
        "t3a.large": 0.0816, "t3a.xlarge": 0.1632,
        "m5.large": 0.107, "m5.xlarge": 0.214, "m5.2xlarge": 0.428,
        "m6i.large": 0.107, "m6i.xlarge": 0.214, "m6i.2xlarge": 0.428,
        "c5.large": 0.096, "c5.xlarge": 0.192, "c6i.large": 0.096, "c6i.xlarge": 0.192,
        "r5.large": 0.141, "r6i.large": 0.141,
        "nat-gateway": 0.048, "public-ipv4": 0.005, "gp3-gb-month": 0.088,
    },
}  # fmt: skip

# What each role needs at least (vCPUs, MiB). A control plane below 2 vCPUs / 1700 MB is refused by
# kubeadm's preflight and Kubespray's own minimum memory assert.
ROLE_MINIMUMS: dict[str, InstanceSize] = {
    "control_plane": InstanceSize(2, 1700),
    "etcd": InstanceSize(1, 1024),
    "worker": InstanceSize(1, 1024),
    "loadbalancer": InstanceSize(1, 1024),
    "storage": InstanceSize(1, 1024),
}
# NAT instances forward every byte the private subnets send out: the smallest burstable types throttle
# their network far below what image pulls need.
NAT_MINIMUM = InstanceSize(2, 2048)


def size_problem(instance_type: str, roles: Sequence[str]) -> str | None:
    """Why `instance_type` cannot hold `roles`, or None when it can."""
    size = SIZES.get(instance_type)
    if size is None:
        known = ", ".join(sorted({name.split(".")[0] for name in SIZES}))
        return f"{instance_type!r} is not an instance type kwizard knows the size of (families: {known})"
    for role in roles:
        need = ROLE_MINIMUMS.get(role)
        if need and (size.vcpus < need.vcpus or size.memory_mb < need.memory_mb):
            return (
                f"{instance_type} ({size.vcpus} vCPU, {size.memory_mb} MB) is too small for {role}: it needs "
                f"at least {need.vcpus} vCPUs and {need.memory_mb} MB (e.g. t3.medium)"
            )
    return None


def hourly(region: str, item: str) -> tuple[float | None, str]:
    """The hourly price of `item` in `region` (or the fallback region's), and the region it is from."""
    table = PRICES.get(region)
    source = region if table is not None else FALLBACK_REGION
    return (table or PRICES[FALLBACK_REGION]).get(item), source
