"""Creating a cluster's AWS hosts, idempotently: each resource is looked up by its tag first.

Every create carries its tags in the same call (TagSpecifications), and the ledger is written right
after, so a kwizard killed anywhere leaves nothing that a re-run would create a second time.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kwizard.aws import dns
from kwizard.aws import resources as res
from kwizard.aws.checks import PreCreateChecks
from kwizard.aws.client import Clients, aws_errors
from kwizard.aws.layout import PlannedHost, hosts, subnet_cidrs
from kwizard.aws.ledger import Ledger
from kwizard.aws.plan import BASTION_DISK_GB, NAT_DISK_GB
from kwizard.aws.settings import ProvisionSettings
from kwizard.errors import KwizardError

EVERYWHERE = "0.0.0.0/0"


class Cancelled(Exception):
    """The run was cancelled between two creates (what exists is in the ledger)."""


@dataclass
class Provisioner(PreCreateChecks):
    settings: ProvisionSettings
    cluster: str
    ledger: Ledger
    clients: Clients
    log: Callable[[str], None] = lambda text: None
    cancel: threading.Event = field(default_factory=threading.Event)
    lb_ports: tuple[int, int] = (30800, 30443)
    created: list[str] = field(default_factory=list)  # keys created by this run
    root_device: str = "/dev/sda1"  # the image's root device name (set by image())

    @property
    def ec2(self) -> Any:
        return self.clients.ec2

    # -- the generic step ---------------------------------------------------------------------------
    def ensure(self, key: str, kind: str, create: Callable[[list[dict[str, Any]]], str], **tags: str) -> str:
        """The id of resource `key`: found by its tags, else created (tagged) and written to the ledger."""
        if self.cancel.is_set():
            raise Cancelled
        with aws_errors(f"look up {key}"):
            found = res.find(self.ec2, kind, self.cluster, key)
        tag_list = [
            {"Key": res.TAG_CLUSTER, "Value": self.cluster},
            {"Key": res.TAG_KEY, "Value": key},
            {"Key": "Name", "Value": f"{self.cluster}-{key.replace(':', '-')}"},
            *({"Key": k, "Value": v} for k, v in tags.items()),
        ]
        known = self.ledger.get(key)
        if not found and known:
            from kwizard.aws.destroy import exists

            with aws_errors(f"look up {key} ({known})"):
                if exists(self.clients, kind, known):  # in the ledger, its tags removed by hand
                    found = [{res.DESCRIBE[kind][1]: known, "Tags": []}]
        if found:
            resource_id = res.resource_id(kind, found[0])
            present = res.tags_of(found[0])
            adopted = not present  # known from the ledger only: all its tags come back
            missing = [
                tag
                for tag in tag_list
                if present.get(tag["Key"]) != tag["Value"] and (adopted or tag["Key"] != "Name")
            ]
            if missing:  # created by an older kwizard, or tags removed by hand (a renamed one is kept)
                with aws_errors(f"tag {key}"):
                    self.ec2.create_tags(Resources=[resource_id], Tags=missing)
        else:
            with aws_errors(f"create {key}"):
                resource_id = create(tag_list)
            self.created.append(key)
            self.log(f"created {kind} {key}: {resource_id}")
        if self.ledger.get(key) != resource_id:
            self.ledger.record(key, kind, resource_id)
        return resource_id

    def made(
        self, call: str, resource_type: str, answer_path: tuple[str, ...], **arguments: Any
    ) -> Callable[[list[dict[str, Any]]], str]:
        """A create step for `ensure`: EC2 `call` with these arguments and the tags, returning the new id."""

        def create(tags: list[dict[str, Any]]) -> str:
            answer = getattr(self.ec2, call)(**arguments, TagSpecifications=self._spec(resource_type, tags))
            for part in answer_path:
                answer = answer[part]
            return str(answer)

        return create

    @staticmethod
    def _spec(resource_type: str, tags: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"ResourceType": resource_type, "Tags": tags}]

    # -- the whole build -----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Create whatever is missing; returns what discovery needs (zones and the image)."""
        s = self.settings
        self.ledger.region = s.region
        zones = self.zones()
        self.check_offerings(zones)
        image = self.image()
        self.check_key_pair()
        zone = dns.checked_zone(self.clients, self.ledger, s.dns) if s.dns else None
        vpc = self.network(zones)
        groups = self.security_groups(vpc)
        subnets = {
            key: self.ledger.get(key) or "" for key in self.ledger.entries if key.startswith("subnet:")
        }
        bastion = self.instance(
            "instance:bastion",
            image,
            s.bastion_instance_type,
            subnets[f"subnet:public:{zones[0]}"],
            [groups["bastion"]],
            BASTION_DISK_GB,
            public=True,
            role="bastion",
            az=zones[0],
        )
        self.elastic_ip("eip:bastion", instance=bastion)
        if s.nat == "instances":
            self.nat_instances(zones, image, groups["nat"], subnets)
        elif s.nat == "gateway":
            self.nat_gateways(zones, subnets)
        if s.nat != "none":
            self.private_routes(vpc, zones, subnets)
        node_ids = []
        for host in hosts(s):
            node_ids.append(self.node(host, zones, image, groups, subnets))
        with aws_errors("wait for the instances to run"):
            ids = [i for i in self.ledger.entries.values() if i.kind == "instance"]
            self.ec2.get_waiter("instance_running").wait(
                InstanceIds=[e.id for e in ids], WaiterConfig={"Delay": 2, "MaxAttempts": 150}
            )
        if self.cancel.is_set():
            raise Cancelled
        lb_nodes = [
            self.ledger.get(f"instance:{h.name}") or "" for h in hosts(s) if "loadbalancer" in h.roles
        ]
        self.created += dns.update(self.clients, self.ledger, zone, s.dns, lb_nodes, self.log)
        return {"zones": zones, "image": image, "created": list(self.created)}

    def network(self, zones: list[str]) -> str:
        s = self.settings
        vpc = self.ensure(
            "vpc",
            "vpc",
            self.made("create_vpc", "vpc", ("Vpc", "VpcId"), CidrBlock=s.vpc_cidr),
        )
        with aws_errors("turn on DNS host names in the VPC"):
            self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        igw = self.ensure(
            "igw",
            "igw",
            self.made(
                "create_internet_gateway", "internet-gateway", ("InternetGateway", "InternetGatewayId")
            ),
        )
        with aws_errors("attach the internet gateway"):
            attached = self.ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"][0]
            if not any(a.get("VpcId") == vpc for a in attached.get("Attachments", [])):
                self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        for index, zone in enumerate(zones):
            public_cidr, private_cidr = subnet_cidrs(s, index)
            kinds = [("public", public_cidr)] + ([("private", private_cidr)] if s.nat != "none" else [])
            for kind, cidr in kinds:
                self.ensure(
                    f"subnet:{kind}:{zone}",
                    "subnet",
                    self.made(
                        "create_subnet",
                        "subnet",
                        ("Subnet", "SubnetId"),
                        VpcId=vpc,
                        CidrBlock=cidr,
                        AvailabilityZone=zone,
                    ),
                    **{res.TAG_AZ: zone},
                )
        public_table = self.route_table(vpc, "route-table:public")
        self.route(public_table, gateway=igw)
        for zone in zones:
            self.associate(public_table, self.ledger.get(f"subnet:public:{zone}") or "")
        return vpc

    def route_table(self, vpc: str, key: str, **tags: str) -> str:
        return self.ensure(
            key,
            "route-table",
            self.made("create_route_table", "route-table", ("RouteTable", "RouteTableId"), VpcId=vpc),
            **tags,
        )

    def route(
        self,
        table: str,
        *,
        gateway: str | None = None,
        instance: str | None = None,
        nat_gateway: str | None = None,
    ) -> None:
        """The table's default route, through the target given (kept when it already exists)."""
        with aws_errors(f"add the default route of {table}"):
            routes = self.ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
            if any(r.get("DestinationCidrBlock") == EVERYWHERE for r in routes):
                return  # the NAT watcher may have moved it: it owns the target from now on
            target: dict[str, str] = (
                {"GatewayId": gateway}
                if gateway
                else {"InstanceId": instance}
                if instance
                else {"NatGatewayId": nat_gateway or ""}
            )
            self.ec2.create_route(RouteTableId=table, DestinationCidrBlock=EVERYWHERE, **target)

    def associate(self, table: str, subnet: str) -> None:
        with aws_errors(f"associate {subnet} with {table}"):
            current = self.ec2.describe_route_tables(
                Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
            )["RouteTables"]
            if any(t["RouteTableId"] == table for t in current):
                return
            self.ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)

    def security_groups(self, vpc: str) -> dict[str, str]:
        s = self.settings
        descriptions = {
            "bastion": "SSH from the operator only",
            "nodes": "cluster traffic inside the VPC",
            "lb": "ingress node ports on load-balancer nodes",
            "nat": "NAT instances: forwarded traffic from the VPC, ICMP between NAT instances",
        }
        groups = {
            name: self.ensure(
                f"sg:{name}",
                "security-group",
                self.made(
                    "create_security_group",
                    "security-group",
                    ("GroupId",),
                    GroupName=f"{self.cluster}-{name}",
                    Description=f"kwizard {self.cluster}: {text}",
                    VpcId=vpc,
                ),
            )
            for name, text in descriptions.items()
        }
        self.allow(groups["bastion"], [tcp(22, s.operator_cidr)])
        self.allow(groups["nodes"], [everything_from(s.vpc_cidr)])
        self.allow(groups["lb"], [tcp(port, EVERYWHERE) for port in self.lb_ports])
        self.allow(
            groups["nat"],
            [
                everything_from(s.vpc_cidr),
                {
                    "IpProtocol": "icmp",
                    "FromPort": -1,
                    "ToPort": -1,
                    "UserIdGroupPairs": [{"GroupId": groups["nat"]}],
                },
            ],
        )
        return groups

    def allow(self, group: str, permissions: list[dict[str, Any]]) -> None:
        from botocore.exceptions import ClientError

        for permission in permissions:
            try:
                with aws_errors(f"open {group}"):
                    self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
            except KwizardError as error:
                if "InvalidPermission.Duplicate" not in error.problem:
                    raise
            except ClientError:  # pragma: no cover - aws_errors maps every ClientError
                raise

    def instance(
        self,
        key: str,
        image: str,
        instance_type: str,
        subnet: str,
        groups: list[str],
        disk_gb: int,
        *,
        public: bool,
        role: str,
        az: str,
        user_data: str = "",
        profile: str | None = None,
        **tags: str,
    ) -> str:
        def create(tag_list: list[dict[str, Any]]) -> str:
            arguments: dict[str, Any] = {
                "ImageId": image,
                "InstanceType": instance_type,
                "MinCount": 1,
                "MaxCount": 1,
                "KeyName": self.settings.key_name,
                "NetworkInterfaces": [
                    {
                        "DeviceIndex": 0,
                        "SubnetId": subnet,
                        "Groups": groups,
                        "AssociatePublicIpAddress": public,
                    }
                ],
                "BlockDeviceMappings": [
                    {
                        "DeviceName": self.root_device,
                        "Ebs": {"VolumeSize": disk_gb, "VolumeType": "gp3", "DeleteOnTermination": True},
                    }
                ],
                "MetadataOptions": {"HttpTokens": "required"},
                "TagSpecifications": self._spec("instance", tag_list) + self._spec("volume", tag_list),
                # One token per create: botocore's own retries of this call cannot start a second
                # instance, and a later run is not handed back an instance someone terminated since.
                "ClientToken": f"{uuid.uuid4().hex}-{self.cluster}"[:64],
            }
            if user_data:
                arguments["UserData"] = user_data
            if profile:
                arguments["IamInstanceProfile"] = {"Name": profile}
            return launch(self.ec2, arguments)

        return self.ensure(key, "instance", create, **{res.TAG_ROLE: role, res.TAG_AZ: az, **tags})

    def elastic_ip(self, key: str, *, instance: str | None = None) -> str:
        allocation = self.ensure(
            key,
            "eip",
            self.made("allocate_address", "elastic-ip", ("AllocationId",), Domain="vpc"),
        )
        if instance:
            with aws_errors(f"attach {key} to {instance}"):
                self.ec2.get_waiter("instance_running").wait(
                    InstanceIds=[instance], WaiterConfig={"Delay": 2, "MaxAttempts": 150}
                )
                address = self.ec2.describe_addresses(AllocationIds=[allocation])["Addresses"][0]
                if address.get("InstanceId") != instance:
                    self.ec2.associate_address(AllocationId=allocation, InstanceId=instance)
        return allocation

    def nat_role(self) -> str:
        """The NAT instances' instance profile (the watcher's permissions only); its name."""
        from kwizard.aws.watcher import iam_policy, trust_policy

        name = res.nat_role_name(self.cluster)
        iam = self.clients.iam
        from botocore.exceptions import ClientError

        tags = [{"Key": res.TAG_CLUSTER, "Value": self.cluster}]
        with aws_errors("create the NAT instances' IAM role"):
            try:
                iam.get_role(RoleName=name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                    raise
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_policy()), Tags=tags)
                self.created.append("iam-role")
            self.ledger.record("iam-role", "iam-role", name)
            iam.put_role_policy(
                RoleName=name, PolicyName="kwizard-natwatch", PolicyDocument=json.dumps(iam_policy())
            )
            try:
                profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                    raise
                profile = iam.create_instance_profile(InstanceProfileName=name, Tags=tags)["InstanceProfile"]
                self.created.append("instance-profile")
            self.ledger.record("instance-profile", "instance-profile", name)
            if not any(r.get("RoleName") == name for r in profile.get("Roles", [])):
                iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        return name

    def nat_instances(self, zones: list[str], image: str, group: str, subnets: dict[str, str]) -> None:
        from kwizard.aws.watcher import nat_user_data

        profile = self.nat_role()
        for zone in zones:
            key = f"instance:nat:{zone}"
            data = nat_user_data(self.cluster, self.settings.region, zone, self.settings.vpc_cidr)
            instance = self.instance(
                key,
                image,
                self.settings.nat_instance_type,
                subnets[f"subnet:public:{zone}"],
                [group],
                NAT_DISK_GB,
                public=True,
                role="nat",
                az=zone,
                user_data=data,
                profile=profile,
            )
            self.elastic_ip(f"eip:nat:{zone}", instance=instance)  # waits until the instance runs
            with aws_errors(f"turn off source/destination check on {key}"):
                self.ec2.modify_instance_attribute(InstanceId=instance, SourceDestCheck={"Value": False})

    def nat_gateways(self, zones: list[str], subnets: dict[str, str]) -> None:
        for zone in zones:
            allocation = self.elastic_ip(f"eip:natgw:{zone}")
            self.ensure(
                f"natgw:{zone}",
                "nat-gateway",
                self.made(
                    "create_nat_gateway",
                    "natgateway",
                    ("NatGateway", "NatGatewayId"),
                    SubnetId=subnets[f"subnet:public:{zone}"],
                    AllocationId=allocation,
                ),
                **{res.TAG_AZ: zone},
            )
        with aws_errors("wait for the NAT gateways"):  # a route to a pending gateway carries nothing yet
            gateways = [self.ledger.get(f"natgw:{zone}") or "" for zone in zones]
            self.ec2.get_waiter("nat_gateway_available").wait(
                NatGatewayIds=gateways, WaiterConfig={"Delay": 10, "MaxAttempts": 60}
            )

    def private_routes(self, vpc: str, zones: list[str], subnets: dict[str, str]) -> None:
        for zone in zones:
            # Tagged as the NAT watcher looks for them: role "private", and the AZ whose NAT they use.
            tags = {res.TAG_AZ: zone, res.TAG_ROLE: res.ROLE_PRIVATE_ROUTES}
            table = self.route_table(vpc, f"route-table:private:{zone}", **tags)
            if self.settings.nat == "instances":
                self.route(table, instance=self.ledger.get(f"instance:nat:{zone}"))
            else:
                self.route(table, nat_gateway=self.ledger.get(f"natgw:{zone}"))
            self.associate(table, subnets[f"subnet:private:{zone}"])

    def node(
        self, host: PlannedHost, zones: list[str], image: str, groups: dict[str, str], subnets: dict[str, str]
    ) -> str:
        zone = zones[host.az_index]
        subnet = subnets[f"subnet:{'public' if host.public else 'private'}:{zone}"]
        security = [groups["nodes"]] + ([groups["lb"]] if "loadbalancer" in host.roles else [])
        return self.instance(
            f"instance:{host.name}",
            image,
            host.instance_type,
            subnet,
            security,
            host.disk_gb,
            public=host.public,
            role="node",
            az=zone,
            **{"kwizard:host": host.name, res.TAG_HOST_ROLES: "+".join(host.roles)},
        )


def tcp(port: int, cidr: str) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]}


def everything_from(cidr: str) -> dict[str, Any]:
    return {"IpProtocol": "-1", "IpRanges": [{"CidrIp": cidr}]}


PROFILE_ATTEMPTS = 12  # × 5 s: a new IAM instance profile takes a few seconds to reach EC2


def launch(ec2: Any, arguments: dict[str, Any]) -> str:
    """run_instances, retried while EC2 does not know a just-created instance profile yet."""
    from botocore.exceptions import ClientError

    for attempt in range(PROFILE_ATTEMPTS):
        try:
            return str(ec2.run_instances(**arguments)["Instances"][0]["InstanceId"])
        except ClientError as exc:
            error = exc.response.get("Error", {})
            young_profile = error.get("Code") == "InvalidParameterValue" and "iamInstanceProfile" in str(
                error.get("Message", "")
            )
            if not (young_profile and "IamInstanceProfile" in arguments) or attempt == PROFILE_ATTEMPTS - 1:
                raise
            time.sleep(5)
    raise AssertionError("unreachable")  # pragma: no cover
