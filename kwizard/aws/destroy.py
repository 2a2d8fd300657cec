"""Removing exactly what kwizard created for a cluster: the ledger's resources and those tagged with it.

Deleted in dependency order (instances before their addresses and subnets, the VPC last, the IAM role
after the instances that used it); a resource already gone is skipped, so a second run is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kwizard.aws import dns
from kwizard.aws import resources as res
from kwizard.aws.client import Clients, aws_errors
from kwizard.aws.ledger import Ledger
from kwizard.aws.resources import nat_role_name
from kwizard.errors import KwizardError

GONE_CODES = (
    "InvalidVpcID.NotFound", "InvalidSubnetID.NotFound", "InvalidInternetGatewayID.NotFound",
    "InvalidRouteTableID.NotFound", "InvalidGroup.NotFound", "InvalidInstanceID.NotFound",
    "InvalidAllocationID.NotFound", "NatGatewayNotFound", "InvalidNatGatewayID.NotFound", "NoSuchEntity",
    "InvalidAssociationID.NotFound", "InvalidVolume.NotFound", "Gateway.NotAttached",
)  # fmt: skip
WAIT_SECONDS = 600


@dataclass(frozen=True)
class Doomed:
    kind: str
    key: str
    id: str


def inventory(ledger: Ledger, clients: Clients, cluster: str) -> list[Doomed]:
    """What destroy removes, in deletion order: tagged resources plus the ledger's still-existing ones."""
    found: dict[tuple[str, str], Doomed] = {}
    with aws_errors("list the cluster's resources"):
        for kind in res.DESCRIBE:
            for item in res.find(clients.ec2, kind, cluster):
                rid = res.resource_id(kind, item)
                found[(kind, rid)] = Doomed(kind, res.tags_of(item).get(res.TAG_KEY, rid), rid)
        for entry in ledger.entries.values():
            if (entry.kind, entry.id) not in found and exists(clients, entry.kind, entry.id):
                found[(entry.kind, entry.id)] = Doomed(entry.kind, entry.key, entry.id)
        role = nat_role_name(cluster)  # found by name too: a kill can come before the ledger is written
        for kind in ("instance-profile", "iam-role"):
            if (kind, role) not in found and exists(clients, kind, role):
                found[(kind, role)] = Doomed(kind, kind, role)
        for volume in clients.ec2.describe_volumes(Filters=res.tag_filters(cluster))["Volumes"]:
            if volume.get("State") in ("available", "creating"):
                found[("volume", volume["VolumeId"])] = Doomed("volume", "volume", volume["VolumeId"])
    order = {
        kind: index for index, kind in enumerate((*res.DELETE_ORDER[:2], "volume", *res.DELETE_ORDER[2:]))
    }
    return sorted(found.values(), key=lambda d: (order.get(d.kind, 99), d.key))


def exists(clients: Clients, kind: str, rid: str) -> bool:
    """Whether resource `rid` of `kind` still exists (a terminated instance or deleted gateway does not)."""
    from botocore.exceptions import ClientError

    ec2 = clients.ec2
    try:
        if kind == "iam-role":
            clients.iam.get_role(RoleName=rid)
        elif kind == "instance-profile":
            clients.iam.get_instance_profile(InstanceProfileName=rid)
        elif kind == "instance":
            states = [
                i["State"]["Name"]
                for r in ec2.describe_instances(InstanceIds=[rid])["Reservations"]
                for i in r["Instances"]
            ]
            return any(state != "terminated" for state in states)
        elif kind == dns.KIND:
            return dns.record_exists(clients, rid)
        elif kind == "nat-gateway":
            gateways = ec2.describe_nat_gateways(NatGatewayIds=[rid])["NatGateways"]
            return any(g.get("State") not in ("deleted", "deleting") for g in gateways)
        elif kind in res.DESCRIBE:
            describe, field = res.DESCRIBE[kind]
            id_filter = {"instance": "instance-id", "eip": "allocation-id"}.get(kind, f"{kind}-id")
            name = {"igw": "internet-gateway-id", "security-group": "group-id"}.get(kind, id_filter)
            return any(item.get(field) == rid for item in describe(ec2, [{"Name": name, "Values": [rid]}]))
        else:
            return False
    except ClientError as exc:
        if _gone(exc):
            return False
        raise
    return True


def _gone(exc: Any) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in GONE_CODES or code.endswith(".NotFound")


def destroy(ledger: Ledger, clients: Clients, cluster: str, say: Callable[[str], None]) -> list[Doomed]:
    """Delete everything `inventory` lists; returns what was deleted."""
    doomed = inventory(ledger, clients, cluster)
    ec2 = clients.ec2
    by_kind: dict[str, list[Doomed]] = {}
    for item in doomed:
        by_kind.setdefault(item.kind, []).append(item)
    records = by_kind.get(dns.KIND, [])
    for item in records:
        _call(f"delete the DNS record {item.key}", lambda item=item: dns.delete_record(clients, item.id))  # type: ignore[misc]
    _done(ledger, records, say)
    instances = [d.id for d in by_kind.get("instance", [])]
    if instances:
        _call(f"terminate {len(instances)} instances", lambda: ec2.terminate_instances(InstanceIds=instances))
        with aws_errors("wait for the instances to terminate"):
            ec2.get_waiter("instance_terminated").wait(
                InstanceIds=instances, WaiterConfig={"Delay": 3, "MaxAttempts": WAIT_SECONDS // 3}
            )
        _done(ledger, by_kind.get("instance", []), say)
    steps: list[tuple[str, Callable[[Doomed], None]]] = [
        ("volume", lambda d: ec2.delete_volume(VolumeId=d.id)),
        ("nat-gateway", lambda d: _delete_nat_gateway(ec2, d.id)),
        ("eip", lambda d: _release(ec2, d.id)),
        ("route-table", lambda d: _delete_route_table(ec2, d.id)),
        ("igw", lambda d: _delete_igw(ec2, d.id)),
        ("subnet", lambda d: ec2.delete_subnet(SubnetId=d.id)),
    ]
    for kind, delete in steps:
        for item in by_kind.get(kind, []):
            _call(f"delete {item.key} ({item.id})", lambda item=item, delete=delete: delete(item))  # type: ignore[misc]
        _done(ledger, by_kind.get(kind, []), say)
    groups = by_kind.get("security-group", [])
    for item in groups:  # rules first: groups that name each other cannot be deleted otherwise
        _call(f"empty {item.key}", lambda item=item: _revoke_all(ec2, item.id))  # type: ignore[misc]
    for item in groups:
        _call(f"delete {item.key} ({item.id})", lambda item=item: ec2.delete_security_group(GroupId=item.id))  # type: ignore[misc]
    _done(ledger, groups, say)
    for item in by_kind.get("vpc", []):
        _call(f"delete {item.key} ({item.id})", lambda item=item: ec2.delete_vpc(VpcId=item.id))  # type: ignore[misc]
    _done(ledger, by_kind.get("vpc", []), say)
    iam = clients.iam
    for item in by_kind.get("instance-profile", []):
        _call(f"delete instance profile {item.id}", lambda item=item: _delete_profile(iam, item.id))  # type: ignore[misc]
    _done(ledger, by_kind.get("instance-profile", []), say)
    for item in by_kind.get("iam-role", []):
        _call(f"delete IAM role {item.id}", lambda item=item: _delete_role(iam, item.id))  # type: ignore[misc]
    _done(ledger, by_kind.get("iam-role", []), say)
    return doomed


def _call(doing: str, action: Callable[[], Any]) -> None:
    from botocore.exceptions import ClientError

    with aws_errors(doing):
        try:
            action()
        except ClientError as exc:
            if not _gone(exc):
                raise


def _done(ledger: Ledger, items: list[Doomed], say: Callable[[str], None]) -> None:
    for item in items:
        say(f"deleted {item.kind} {item.key} ({item.id})")
        if ledger.get(item.key) == item.id:
            ledger.forget(item.key)


def _delete_nat_gateway(ec2: Any, gateway: str) -> None:
    ec2.delete_nat_gateway(NatGatewayId=gateway)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        gateways = ec2.describe_nat_gateways(NatGatewayIds=[gateway])["NatGateways"]
        if all(g.get("State") in ("deleted", "failed") for g in gateways):
            return
        time.sleep(3)
    raise KwizardError(
        "NAT gateway not deleted in time",
        f"{gateway} is still being deleted after {WAIT_SECONDS} s.",
        "Run `kwizard aws destroy` again in a few minutes: it continues where it stopped.",
    )


def _release(ec2: Any, allocation: str) -> None:
    for address in ec2.describe_addresses(AllocationIds=[allocation])["Addresses"]:
        if address.get("AssociationId"):
            ec2.disassociate_address(AssociationId=address["AssociationId"])
    ec2.release_address(AllocationId=allocation)


def _delete_route_table(ec2: Any, table: str) -> None:
    for described in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"]:
        for association in described.get("Associations", []):
            if not association.get("Main") and association.get("RouteTableAssociationId"):
                ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
    ec2.delete_route_table(RouteTableId=table)


def _delete_igw(ec2: Any, gateway: str) -> None:
    for described in ec2.describe_internet_gateways(InternetGatewayIds=[gateway])["InternetGateways"]:
        for attachment in described.get("Attachments", []):
            ec2.detach_internet_gateway(InternetGatewayId=gateway, VpcId=attachment["VpcId"])
    ec2.delete_internet_gateway(InternetGatewayId=gateway)


def _revoke_all(ec2: Any, group: str) -> None:
    for described in ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]:
        if described.get("IpPermissions"):
            ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=described["IpPermissions"])


def _delete_profile(iam: Any, name: str) -> None:
    profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    for role in profile.get("Roles", []):
        iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
    iam.delete_instance_profile(InstanceProfileName=name)


def _delete_role(iam: Any, name: str) -> None:
    for policy in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)
