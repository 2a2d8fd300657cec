"""Discovery of created hosts: the ledger's instances as spec Hosts, the bastion's Elastic IP as bastion."""

from __future__ import annotations

from typing import Any

from kwizard.aws import resources as res
from kwizard.aws.client import Clients, aws_errors
from kwizard.aws.layout import hosts as planned_hosts
from kwizard.aws.ledger import Ledger
from kwizard.errors import KwizardError
from kwizard.spec import Bastion, ClusterSpec, Host


def created_hosts(spec: ClusterSpec, ledger: Ledger, clients: Clients) -> tuple[list[Host], Bastion]:
    """The cluster's instances (private addresses, AZ, type, roles) in plan order, and the bastion."""
    assert spec.provision is not None
    planned = planned_hosts(spec.provision)
    keys = {f"instance:{h.name}": h for h in planned}
    missing = [key.removeprefix("instance:") for key in keys if not ledger.get(key)]
    if missing or not ledger.get("eip:bastion"):
        raise KwizardError(
            "The AWS hosts are not all created",
            f"The ledger has no instance for {', '.join(missing) or 'the bastion'}.",
            "Run the provision phase again (kwizard --resume, or the same command): it creates what is "
            "missing.",
        )
    with aws_errors("read the created instances"):
        ids = [ledger.get(key) or "" for key in keys]
        found: dict[str, dict[str, Any]] = {}
        for page in clients.ec2.get_paginator("describe_instances").paginate(InstanceIds=ids):
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    found[instance["InstanceId"]] = instance
        address = clients.ec2.describe_addresses(AllocationIds=[ledger.get("eip:bastion") or ""])[
            "Addresses"
        ][0]
    result = []
    for key, plan in keys.items():
        instance = found.get(ledger.get(key) or "")
        state = (instance or {}).get("State", {}).get("Name")
        if instance is None or state not in ("pending", "running"):
            raise KwizardError(
                f"Instance {plan.name} is not running",
                f"{ledger.get(key)} is {state or 'gone'}.",
                "Start it in the EC2 console, or terminate it and run the provision phase again.",
            )
        result.append(
            Host(
                name=plan.name,
                address=str(instance["PrivateIpAddress"]),
                roles=list(plan.roles),  # type: ignore[arg-type]
                az=str(instance["Placement"]["AvailabilityZone"]),
                instance_type=str(instance["InstanceType"]),
            )
        )
    user = (spec.bastion.user if spec.bastion else None) or spec.provision.login_user()
    bastion = Bastion(address=str(address["PublicIp"]), user=user)
    return result, bastion


def tagged_cluster_instances(clients: Clients, cluster: str) -> list[dict[str, Any]]:
    """Every live instance tagged with the cluster (nodes, bastion and NAT instances)."""
    with aws_errors("list the cluster's instances"):
        return res.find(clients.ec2, "instance", cluster)
