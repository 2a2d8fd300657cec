"""The preset's `provision` section: what kwizard creates on AWS for a `target: aws` cluster.

Strict like the rest of the spec; every refusal says what to write instead. Instance sizes are checked
against kwizard's own table (`catalog`), so a too-small type is refused before any call to AWS.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from kwizard.aws.catalog import NAT_MINIMUM, SIZES, size_problem
from kwizard.spec_base import SpecModel as _Model
from kwizard.spec_values import check_cidr

ROLES = ("control_plane", "etcd", "worker", "loadbalancer", "storage")
AZ_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Well-known AMI publishers and the names of their current amd64 images.
DISTRO_IMAGES: dict[str, tuple[str, str, str]] = {  # distro: (owner, name filter, login user)
    "ubuntu-24.04": ("099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*", "ubuntu"),
    "debian-12": ("136693071363", "debian-12-amd64-*", "admin"),
}
REGION = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-[0-9]$")
AZ_NAME = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-[0-9][a-z]$")
GROUP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,20}$")
AMI_ID = re.compile(r"^ami-[0-9a-f]{8,17}$")
AMI_OWNER = re.compile(r"^(?:[0-9]{12}|self|amazon|aws-marketplace)$")
AMI_NAME = re.compile(r"^[A-Za-z0-9()\[\]./_*?@' -]{1,128}$")
KEY_NAME = re.compile(r"^[A-Za-z0-9 ._:/+=@-]{1,255}$")


def _instance_type(value: str) -> str:
    if value not in SIZES:
        problem = size_problem(value, ())
        raise ValueError(problem or f"{value!r} is not a known instance type")
    return value


class NodeGroup(_Model):
    """Instances of one kind: `count` of them, spread over the AZs, each with these roles."""

    name: str
    count: Annotated[int, Field(ge=0, le=50)]
    roles: list[Literal["control_plane", "etcd", "worker", "loadbalancer", "storage"]]
    instance_type: str = "t3.medium"
    disk_gb: Annotated[int, Field(ge=20, le=2000)] = 40

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not GROUP_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a group name: lower-case letters, digits and '-', starting with a "
                "letter, at most 21 (host names are made of it: cp-a, cp-b…)"
            )
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give the group at least one role (control_plane, etcd, worker, loadbalancer)")
        if len(set(value)) != len(value):
            raise ValueError("a role is listed twice")
        return sorted(value, key=ROLES.index)

    @field_validator("instance_type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _instance_type(value)

    @model_validator(mode="after")
    def _fits(self) -> NodeGroup:
        problem = size_problem(self.instance_type, self.roles)
        if problem:
            raise ValueError(f"group {self.name!r}: {problem}")
        return self


class AmiChoice(_Model):
    """The image: an id, a known distribution, or an owner and a name filter (the newest match wins)."""

    id: str | None = None
    distro: Literal["ubuntu-24.04", "debian-12"] | None = None
    owner: str | None = None
    name: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not AMI_ID.match(value):
            raise ValueError(f"{value!r} is not an AMI id like 'ami-0123456789abcdef0'")
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str | None) -> str | None:
        if value is not None and not AMI_OWNER.match(value):
            raise ValueError(f"{value!r} is not an AMI owner: a 12-digit account id, 'self' or 'amazon'")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not AMI_NAME.match(value):
            raise ValueError(f"{value!r} is not an AMI name filter like 'debian-12-amd64-*'")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> AmiChoice:
        ways = [self.id is not None, self.distro is not None, self.owner is not None or self.name is not None]
        if sum(ways) != 1:
            raise ValueError(
                "choose the image one way: 'id: ami-…', 'distro: ubuntu-24.04' (or debian-12), or "
                "'owner:' with 'name:' (a name filter)"
            )
        if (self.owner is None) != (self.name is None):
            raise ValueError("an AMI filter needs both 'owner' (account id) and 'name' (pattern)")
        return self

    def owner_and_name(self) -> tuple[str, str] | None:
        """The (owner, name filter) to look the image up by; None when an id is given."""
        if self.distro is not None:
            owner, name, _ = DISTRO_IMAGES[self.distro]
            return owner, name
        if self.owner is not None and self.name is not None:
            return self.owner, self.name
        return None

    def describe(self) -> str:
        if self.id:
            return self.id
        found = self.owner_and_name()
        return f"{self.distro or 'newest'} ({found[1]} by {found[0]})" if found else "?"


DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ZONE_ID = re.compile(r"^[A-Z0-9]{1,32}$")


def dns_name(value: str, what: str) -> str:
    """A fully qualified DNS name, lower case, without the trailing dot; `*.` first for a wildcard."""
    name = value.strip().lower().removesuffix(".")
    labels = name.split(".")
    wildcard = labels[0] == "*"
    plain = labels[1:] if wildcard else labels
    bad = next((label for label in plain if not DNS_LABEL.match(label)), None)
    if len(plain) < 2 or bad is not None or len(name) > 253:
        reason = (
            f"the label {bad!r} is not 1-63 letters, digits or '-' (not at either end)"
            if bad is not None
            else "it needs at least two labels, like 'example.com'"
            if len(plain) < 2
            else "it is longer than 253 characters"
        )
        example = "'*.apps.example.com' or 'ingress.example.com'" if what == "record" else "'example.com'"
        raise ValueError(f"{value!r} is not a DNS {what} name: {reason}; write e.g. {example}")
    return name


def in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


class DnsSettings(_Model):
    """Route53 A records for the load-balancer nodes: one value per node (round robin), in a hosted zone
    that already exists (given by name or id)."""

    zone: str | None = None
    zone_id: str | None = None
    records: Annotated[list[str], Field(min_length=1, max_length=20)]
    ttl: Annotated[int, Field(ge=10, le=86400)] = 60

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else dns_name(value, "zone")

    @field_validator("zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        bare = value.strip().removeprefix("/hostedzone/")
        if not ZONE_ID.match(bare):
            raise ValueError(f"{value!r} is not a Route53 hosted zone id like 'Z0123456789ABCDEFGHIJ'")
        return bare

    @field_validator("records")
    @classmethod
    def _records(cls, value: list[str]) -> list[str]:
        names = [dns_name(name, "record") for name in value]
        if len(set(names)) != len(names):
            raise ValueError("a record name is listed twice")
        return names

    @model_validator(mode="after")
    def _one_zone(self) -> DnsSettings:
        if (self.zone is None) == (self.zone_id is None):
            raise ValueError(
                "name the hosted zone one way: 'zone: example.com' or 'zone_id: Z0123456789ABCDEFGHIJ'"
            )
        outside = [name for name in self.records if self.zone and not in_zone(name, self.zone)]
        if outside:
            raise ValueError(f"record {outside[0]!r} is not in the zone {self.zone!r}")
        return self


def _default_groups() -> list[NodeGroup]:
    return [
        NodeGroup(name="cp", count=3, roles=["control_plane", "etcd"], instance_type="t3.medium"),
        NodeGroup(name="worker", count=3, roles=["worker", "loadbalancer"], instance_type="t3.large"),
    ]


class ProvisionSettings(_Model):
    """Everything kwizard creates for the cluster on AWS."""

    region: str
    azs: Annotated[int, Field(ge=2, le=6)] | list[str] = 3
    vpc_cidr: str = "10.139.0.0/16"
    groups: list[NodeGroup] = Field(default_factory=_default_groups)
    ami: AmiChoice = Field(default_factory=lambda: AmiChoice(distro="ubuntu-24.04"))
    key_name: str
    operator_cidr: str
    nat: Literal["instances", "gateway", "none"] = "instances"
    nat_instance_type: str = "t3.small"
    bastion_instance_type: str = "t3.micro"
    dns: DnsSettings | None = None

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region like 'eu-west-1'")
        return value

    @field_validator("azs")
    @classmethod
    def _azs(cls, value: int | list[str]) -> int | list[str]:
        if isinstance(value, list):
            if len(value) < 2:
                raise ValueError("give at least 2 availability zones: one AZ is not highly available")
            bad = [az for az in value if not AZ_NAME.match(az)]
            if bad:
                raise ValueError(f"{bad[0]!r} is not an availability zone like 'eu-west-1a'")
            if len(set(value)) != len(value):
                raise ValueError("an availability zone is listed twice")
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc(cls, value: str) -> str:
        network = ipaddress.ip_network(check_cidr(value))
        if network.version != 4 or not 16 <= network.prefixlen <= 20:
            raise ValueError(f"{value!r}: the VPC needs an IPv4 range from /16 to /20 (e.g. 10.139.0.0/16)")
        return str(network)

    @field_validator("operator_cidr")
    @classmethod
    def _operator(cls, value: str) -> str:
        network = ipaddress.ip_network(check_cidr(value))
        if network.prefixlen == 0:
            raise ValueError(
                f"{value!r} opens SSH to the whole internet: give your own address, e.g. 198.51.100.7/32 "
                "(curl https://checkip.amazonaws.com shows it)"
            )
        return str(network)

    @field_validator("key_name")
    @classmethod
    def _key_name(cls, value: str) -> str:
        if not KEY_NAME.match(value) or value != value.strip():
            raise ValueError(f"{value!r} is not an EC2 key pair name")
        return value

    @field_validator("nat_instance_type")
    @classmethod
    def _nat_type(cls, value: str) -> str:
        size = SIZES.get(_instance_type(value))
        if size is not None and (size.vcpus < NAT_MINIMUM.vcpus or size.memory_mb < NAT_MINIMUM.memory_mb):
            raise ValueError(
                f"{value} is too small for a NAT instance: every image pull of the private nodes goes "
                "through it, and the smallest types throttle their network; use t3.small or larger"
            )
        return value

    @field_validator("bastion_instance_type")
    @classmethod
    def _bastion_type(cls, value: str) -> str:
        return _instance_type(value)

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: list[NodeGroup]) -> list[NodeGroup]:
        names = [g.name for g in value]
        if len(set(names)) != len(names):
            raise ValueError("two groups have the same name")
        counted = {role for g in value if g.count for role in g.roles}
        for role in ("control_plane", "etcd"):
            if role not in counted:
                raise ValueError(f"no group with a count above 0 has the {role} role")
        etcd = sum(g.count for g in value if "etcd" in g.roles)
        if etcd % 2 == 0:
            raise ValueError(f"{etcd} instances have the etcd role: etcd needs an odd count (1, 3, 5)")
        return value

    @model_validator(mode="after")
    def _zone_region(self) -> ProvisionSettings:
        if isinstance(self.azs, list):
            foreign = [az for az in self.azs if az[:-1] != self.region]
            if foreign:
                raise ValueError(f"availability zone {foreign[0]!r} is not in region {self.region!r}")
        if self.dns is not None and not any(g.count and "loadbalancer" in g.roles for g in self.groups):
            raise ValueError("dns: the records point at load-balancer nodes, and no group has that role")
        return self

    def login_user(self) -> str | None:
        """The image's default login user when kwizard knows it (Ubuntu: ubuntu, Debian: admin)."""
        return DISTRO_IMAGES[self.ami.distro][2] if self.ami.distro else None
