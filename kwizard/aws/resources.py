"""Finding kwizard's resources by tag, per kind: the one lookup create and destroy share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TAG_CLUSTER = "kwizard:cluster"  # the same keys the NAT watcher reads
TAG_ROLE = "kwizard:role"
TAG_AZ = "kwizard:az"
ROLE_PRIVATE_ROUTES = "private"  # TAG_ROLE of the private route tables (the NAT watcher moves their routes)
TAG_KEY = "kwizard:key"  # the resource's key in the ledger
TAG_HOST_ROLES = "kwizard:roles"  # a cluster instance's Kubernetes roles, '+'-separated
LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped"]

# Kinds in the order they are deleted (a kind's resources depend only on kinds after it).
DELETE_ORDER = (
    "route53-record",  # the names first: no client is sent to an instance about to go
    "instance",
    "nat-gateway",
    "eip",
    "route-table",
    "igw",
    "subnet",
    "security-group",
    "vpc",
    "instance-profile",
    "iam-role",
)


def tag_filters(cluster: str, key: str | None = None) -> list[dict[str, Any]]:
    filters = [{"Name": f"tag:{TAG_CLUSTER}", "Values": [cluster]}]
    if key is not None:
        filters.append({"Name": f"tag:{TAG_KEY}", "Values": [key]})
    return filters


def tags_of(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags", []) or []}


def _instances(ec2: Any, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    live = [*filters, {"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES}]
    found = []
    for page in ec2.get_paginator("describe_instances").paginate(Filters=live):
        for reservation in page["Reservations"]:
            found.extend(reservation["Instances"])
    return found


def _nat_gateways(ec2: Any, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    gateways = ec2.describe_nat_gateways(Filter=filters)["NatGateways"]
    return [g for g in gateways if g.get("State") in ("pending", "available")]


# kind: (describe(ec2, filters) -> items, the id field)
DESCRIBE: dict[str, tuple[Callable[[Any, list[dict[str, Any]]], list[dict[str, Any]]], str]] = {
    "vpc": (lambda ec2, f: ec2.describe_vpcs(Filters=f)["Vpcs"], "VpcId"),
    "subnet": (lambda ec2, f: ec2.describe_subnets(Filters=f)["Subnets"], "SubnetId"),
    "igw": (
        lambda ec2, f: ec2.describe_internet_gateways(Filters=f)["InternetGateways"],
        "InternetGatewayId",
    ),
    "route-table": (lambda ec2, f: ec2.describe_route_tables(Filters=f)["RouteTables"], "RouteTableId"),
    "security-group": (lambda ec2, f: ec2.describe_security_groups(Filters=f)["SecurityGroups"], "GroupId"),
    "instance": (_instances, "InstanceId"),
    "eip": (lambda ec2, f: ec2.describe_addresses(Filters=f)["Addresses"], "AllocationId"),
    "nat-gateway": (_nat_gateways, "NatGatewayId"),
}


def find(ec2: Any, kind: str, cluster: str, key: str | None = None) -> list[dict[str, Any]]:
    """The live resources of `kind` tagged with the cluster (and `key`)."""
    describe, _ = DESCRIBE[kind]
    wanted = {TAG_CLUSTER: cluster, **({TAG_KEY: key} if key is not None else {})}
    # Checked here too: a filter an endpoint ignores must not make another resource look like ours.
    return [
        item
        for item in describe(ec2, tag_filters(cluster, key))
        if all(tags_of(item).get(k) == v for k, v in wanted.items())
    ]


def resource_id(kind: str, item: dict[str, Any]) -> str:
    return str(item[DESCRIBE[kind][1]])


def nat_role_name(cluster: str) -> str:
    """The NAT instances' IAM role and instance profile (IAM names are global: found by name)."""
    return f"kwizard-{cluster}-nat"[:64]
