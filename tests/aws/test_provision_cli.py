"""provision → discover → inventory through the real CLI against moto in server mode, then destroy.

What is asserted comes from EC2 itself (boto3 against the same endpoint), not from what kwizard says.
"""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import yaml

from kwizard import yamlout
from kwizard.aws.resources import TAG_CLUSTER, TAG_KEY
from tests.aws.conftest import provision_preset, write_preset
from tests.cli import run_kwizard
from tests.moto_server import NEWEST_UBUNTU, MotoServer, prepare_account


def tagged(server: MotoServer, cluster: str) -> dict[str, list[str]]:
    """Every live resource tagged with the cluster, by kind, read from EC2 and IAM."""
    ec2 = server.client()
    tag = [{"Name": f"tag:{TAG_CLUSTER}", "Values": [cluster]}]
    instances = [
        i["InstanceId"]
        for r in ec2.describe_instances(Filters=tag)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]
    found = {
        "instance": instances,
        "vpc": [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag)["Vpcs"]],
        "subnet": [s["SubnetId"] for s in ec2.describe_subnets(Filters=tag)["Subnets"]],
        "igw": [
            g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=tag)["InternetGateways"]
        ],
        "route-table": [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=tag)["RouteTables"]],
        "security-group": [g["GroupId"] for g in ec2.describe_security_groups(Filters=tag)["SecurityGroups"]],
        "eip": [a["AllocationId"] for a in ec2.describe_addresses(Filters=tag)["Addresses"]],
        "nat-gateway": [
            g["NatGatewayId"]
            for g in ec2.describe_nat_gateways(Filter=tag)["NatGateways"]
            if g["State"] not in ("deleted", "deleting")
            and any(t["Key"] == TAG_CLUSTER and t["Value"] == cluster for t in g.get("Tags", []))
        ],
        "volume": [
            v["VolumeId"] for v in ec2.describe_volumes(Filters=tag)["Volumes"] if v["State"] != "deleted"
        ],
    }
    roles = server.client("iam").list_roles()["Roles"]
    found["iam-role"] = [r["RoleName"] for r in roles if cluster in r["RoleName"]]
    return {kind: ids for kind, ids in found.items() if ids}


def keys_by_kind(server: MotoServer, cluster: str) -> list[str]:
    """The kwizard:key tag of every live EC2 resource of the cluster (duplicates show up twice)."""
    ec2 = server.client()
    tag = [{"Name": f"tag:{TAG_CLUSTER}", "Values": [cluster]}]
    items: list[dict[str, Any]] = [
        i for r in ec2.describe_instances(Filters=tag)["Reservations"] for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]  # fmt: skip
    items += ec2.describe_vpcs(Filters=tag)["Vpcs"] + ec2.describe_subnets(Filters=tag)["Subnets"]
    items += ec2.describe_internet_gateways(Filters=tag)["InternetGateways"]
    items += ec2.describe_route_tables(Filters=tag)["RouteTables"]
    items += ec2.describe_security_groups(Filters=tag)["SecurityGroups"]
    items += ec2.describe_addresses(Filters=tag)["Addresses"]
    items += [g for g in ec2.describe_nat_gateways(Filter=tag)["NatGateways"] if g["State"] == "available"]
    return sorted(
        t["Value"]
        for item in items
        for t in item.get("Tags", [])
        if t["Key"] == TAG_KEY
        and any(c["Key"] == TAG_CLUSTER and c["Value"] == cluster for c in item.get("Tags", []))
    )


def test_provision_discover_inventory_then_destroy(aws: MotoServer, tmp_path: Path) -> None:
    preset = write_preset(tmp_path / "awst.yaml", provision_preset("awst"))
    run = run_kwizard(
        tmp_path, "--preset", str(preset), "--yes", "--until", "inventory", home=tmp_path, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The plan came first: what, how many, the monthly estimate and the price table's date.
    out = run.stdout
    assert out.index("AWS hosts for awst in eu-west-1") < out.index("▶ Create AWS hosts")
    assert "3 × cp instance (t3.medium" in out and "3 × NAT gateway" in out and "/month on demand" in out

    ec2 = aws.client()
    instances = {
        i["InstanceId"]: i
        for r in ec2.describe_instances(Filters=[{"Name": f"tag:{TAG_CLUSTER}", "Values": ["awst"]}])[
            "Reservations"
        ]
        for i in r["Instances"]
    }
    by_host = {
        tags["kwizard:host"]: i
        for i in instances.values()
        if (tags := {t["Key"]: t["Value"] for t in i["Tags"]}).get("kwizard:role") == "node"
    }
    bastion = next(i for i in instances.values() if {"Key": "kwizard:role", "Value": "bastion"} in i["Tags"])
    bastion_ip = ec2.describe_addresses(Filters=[{"Name": "instance-id", "Values": [bastion["InstanceId"]]}])[
        "Addresses"
    ][0]["PublicIp"]

    cluster_dir = tmp_path / "clusters" / "awst"
    inventory = yamlout.load((cluster_dir / "inventory" / "awst" / "hosts.yaml").read_text())
    hosts = inventory["all"]["hosts"]
    assert sorted(h for h in hosts if h != "bastion") == sorted(by_host) == [
        "cp-a", "cp-b", "cp-c", "worker-a", "worker-b", "worker-c"
    ]  # fmt: skip
    for name, instance in by_host.items():
        assert hosts[name]["ansible_host"] == instance["PrivateIpAddress"]
        labels = hosts[name]["node_labels"]
        assert labels["topology.kubernetes.io/zone"] == instance["Placement"]["AvailabilityZone"]
        assert labels["node.kubernetes.io/instance-type"] == instance["InstanceType"]
    assert {by_host[f"cp-{x}"]["Placement"]["AvailabilityZone"] for x in "abc"} == {
        "eu-west-1a", "eu-west-1b", "eu-west-1c"
    }  # fmt: skip
    assert hosts["bastion"]["ansible_host"] == bastion_ip
    assert f"ubuntu@{bastion_ip}" in inventory["all"]["vars"]["ansible_ssh_common_args"]
    control_plane = inventory["all"]["children"]["kube_control_plane"]["hosts"]
    assert sorted(control_plane) == ["cp-a", "cp-b", "cp-c"]

    # Ledger: private, written, and naming exactly the tagged resources.
    ledger_file = cluster_dir / "aws-ledger.json"
    assert stat.S_IMODE(ledger_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(cluster_dir.stat().st_mode) == 0o700
    ledger = json.loads(ledger_file.read_text())
    assert sorted(r["key"] for r in ledger["resources"]) == keys_by_kind(aws, "awst")
    # The cluster's saved preset now holds the created hosts and the bastion.
    saved = yaml.safe_load((cluster_dir / "preset.yaml").read_text())
    assert saved["bastion"]["address"] == bastion_ip
    assert {h["name"]: h["address"] for h in saved["hosts"]} == {
        n: i["PrivateIpAddress"] for n, i in by_host.items()
    }

    # A second run creates nothing.
    before = tagged(aws, "awst")
    again = run_kwizard(
        tmp_path, "--preset", str(preset), "--yes", "--until", "inventory", home=tmp_path, timeout=300
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "all existed already" in again.stdout
    assert tagged(aws, "awst") == before

    # Destroy shows its plan, deletes everything, and a second destroy has nothing to do.
    gone = run_kwizard(tmp_path, "aws", "destroy", "awst", "--yes", home=tmp_path, timeout=300)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert gone.stdout.index("7 × instance") < gone.stdout.index("deleted instance")
    assert tagged(aws, "awst") == {}
    assert json.loads(ledger_file.read_text())["resources"] == []
    twice = run_kwizard(tmp_path, "aws", "destroy", "awst", "--yes", home=tmp_path, timeout=120)
    assert twice.returncode == 0 and "Nothing to delete" in twice.stdout


def test_destroy_without_yes_and_without_a_terminal_asks_for_it(aws: MotoServer, tmp_path: Path) -> None:
    preset = write_preset(tmp_path / "awsq.yaml", provision_preset("awsq", nat="none", azs=2))
    created = run_kwizard(
        tmp_path, "--preset", str(preset), "--yes", "--until", "discover", home=tmp_path, timeout=300
    )
    assert created.returncode == 0, created.stdout + created.stderr
    before = tagged(aws, "awsq")
    assert "nat-gateway" not in before and len(before["instance"]) == 1 + 3 + 3  # bastion, cps, workers
    refused = run_kwizard(tmp_path, "aws", "destroy", "awsq", home=tmp_path, timeout=120)
    assert refused.returncode == 2 and "Confirmation needed" in refused.stderr
    assert "kwizard aws destroy awsq --yes" in refused.stderr
    assert tagged(aws, "awsq") == before
    assert (
        run_kwizard(tmp_path, "aws", "destroy", "awsq", "--yes", home=tmp_path, timeout=300).returncode == 0
    )
    assert tagged(aws, "awsq") == {}


def test_nat_instances_are_built_as_the_watcher_needs_them(aws: MotoServer, tmp_path: Path) -> None:
    from kwizard.aws import natwatch

    preset = write_preset(tmp_path / "awsn.yaml", provision_preset("awsn", nat="instances"))
    run = run_kwizard(
        tmp_path, "--preset", str(preset), "--yes", "--only", "provision", home=tmp_path, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 × NAT instance (t3.small" in run.stdout
    ec2 = aws.client()
    tag = [{"Name": f"tag:{TAG_CLUSTER}", "Values": ["awsn"]}]
    instances = [i for r in ec2.describe_instances(Filters=tag)["Reservations"] for i in r["Instances"]]
    assert {i["ImageId"] for i in instances} == {NEWEST_UBUNTU}  # distro ubuntu-24.04: Canonical's newest
    nats = {}
    for instance in instances:
        tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        if tags.get(natwatch.TAG_ROLE) == "nat":
            nats[tags[natwatch.TAG_AZ]] = instance
    assert sorted(nats) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    for az, nat in nats.items():
        assert nat["Placement"]["AvailabilityZone"] == az
        check = ec2.describe_instance_attribute(InstanceId=nat["InstanceId"], Attribute="sourceDestCheck")
        assert check["SourceDestCheck"]["Value"] is False
        data = ec2.describe_instance_attribute(InstanceId=nat["InstanceId"], Attribute="userData")
        text = base64.b64decode(data["UserData"]["Value"]).decode()
        assert f"NATWATCH_AZ={az}" in text and "NATWATCH_CLUSTER=awsn" in text
        assert nat["IamInstanceProfile"]["Arn"].endswith("/kwizard-awsn-nat")
        assert ec2.describe_addresses(Filters=[{"Name": "instance-id", "Values": [nat["InstanceId"]]}])[
            "Addresses"
        ]
    # Each private route table: tagged for the watcher, its default route through its own AZ's NAT.
    private = ec2.describe_route_tables(
        Filters=[*tag, {"Name": f"tag:{natwatch.TAG_ROLE}", "Values": ["private"]}]
    )
    tables = private["RouteTables"]
    assert len(tables) == 3
    for table in tables:
        az = {t["Key"]: t["Value"] for t in table["Tags"]}[natwatch.TAG_AZ]
        default = next(r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0")
        assert default["InstanceId"] == nats[az]["InstanceId"]
        subnets = [a["SubnetId"] for a in table["Associations"] if a.get("SubnetId")]
        assert [s["AvailabilityZone"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]] == [az]
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=tag)["SecurityGroups"]}
    nat_group = groups["awsn-nat"]
    assert any(
        p["IpProtocol"] == "icmp" and p["UserIdGroupPairs"][0]["GroupId"] == nat_group["GroupId"]
        for p in nat_group["IpPermissions"]
    )
    assert [(p["FromPort"], p["IpRanges"]) for p in groups["awsn-bastion"]["IpPermissions"]] == [
        (22, [{"CidrIp": "198.51.100.7/32"}])
    ]
    assert sorted(p["FromPort"] for p in groups["awsn-lb"]["IpPermissions"]) == [30443, 30800]
    iam = aws.client("iam")
    role = iam.get_role(RoleName="kwizard-awsn-nat")["Role"]
    assert {"Key": TAG_CLUSTER, "Value": "awsn"} in role["Tags"]
    policy = iam.get_role_policy(RoleName="kwizard-awsn-nat", PolicyName="kwizard-natwatch")["PolicyDocument"]
    assert policy == natwatch.IAM_POLICY

    gone = run_kwizard(tmp_path, "aws", "destroy", "awsn", "--yes", home=tmp_path, timeout=300)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert tagged(aws, "awsn") == {}
    assert iam.list_instance_profiles()["InstanceProfiles"] == []


def test_the_shipped_aws_preset_creates_its_hosts_and_writes_their_inventory_in_one_command(
    aws: MotoServer, tmp_path: Path
) -> None:
    """presets/aws-3az.yaml as shipped (Ubuntu 24.04 by name, HA NAT instances), provision → discover →
    inventory in one command. access and preflight need SSH to the instances (moto's have no sshd): the
    run leaves them out with --skip, as an operator would before the bastion can be reached, and says so."""
    prepare_account(aws, "kwizard-aws")  # the key pair the preset names
    args = ("--preset", "presets/aws-3az.yaml", "--yes", "--until", "inventory", "--skip", "access,preflight")
    run = run_kwizard(tmp_path, *args, home=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "not run, as --skip asks: access, preflight" in out
    started = [line.split("▶ ", 1)[1] for line in out.splitlines() if line.startswith("▶ ")]
    assert started == ["Create AWS hosts", "Discover hosts", "Inventory"]
    (report,) = (tmp_path / "clusters" / "aws-3az" / "runs").glob("*/report.md")
    assert "- **Not run (--skip):** access, preflight;" in report.read_text()  # the table omits them
    ec2 = aws.client()
    instances = [
        i
        for r in ec2.describe_instances(Filters=[{"Name": f"tag:{TAG_CLUSTER}", "Values": ["aws-3az"]}])[
            "Reservations"
        ]
        for i in r["Instances"]
    ]
    nodes = {
        tags["kwizard:host"]: i
        for i in instances
        if (tags := {t["Key"]: t["Value"] for t in i["Tags"]}).get("kwizard:role") == "node"
    }
    bastion = next(i for i in instances if {"Key": "kwizard:role", "Value": "bastion"} in i["Tags"])
    bastion_ip = ec2.describe_addresses(Filters=[{"Name": "instance-id", "Values": [bastion["InstanceId"]]}])[
        "Addresses"
    ][0]["PublicIp"]
    hosts_file = tmp_path / "clusters" / "aws-3az" / "inventory" / "aws-3az" / "hosts.yaml"
    inventory = yamlout.load(hosts_file.read_text())
    hosts = inventory["all"]["hosts"]
    assert {
        name: (
            h["ansible_host"],
            h["node_labels"]["topology.kubernetes.io/zone"],
            h["node_labels"]["node.kubernetes.io/instance-type"],
        )
        for name, h in hosts.items()
        if name != "bastion"
    } == {
        name: (i["PrivateIpAddress"], i["Placement"]["AvailabilityZone"], i["InstanceType"])
        for name, i in nodes.items()
    }
    assert {i["InstanceType"] for n, i in nodes.items() if n.startswith("cp-")} == {"t3.medium"}
    assert {i["InstanceType"] for n, i in nodes.items() if n.startswith("worker-")} == {"t3.large"}
    assert hosts["bastion"]["ansible_host"] == bastion_ip
    assert f"ubuntu@{bastion_ip}" in inventory["all"]["vars"]["ansible_ssh_common_args"]
    assert len(tagged(aws, "aws-3az")["instance"]) == 1 + 3 + 6  # bastion, NAT per AZ, nodes
    # The same command resumed: nothing changed, so nothing runs again (discovery filled in the hosts
    # itself: that is no "host addresses changed").
    again = run_kwizard(tmp_path, "--resume", "aws-3az", *args[2:], home=tmp_path, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not [line for line in again.stdout.splitlines() if line.startswith("▶ ")], again.stdout
    assert "changed since it succeeded" not in again.stdout
    gone = run_kwizard(tmp_path, "aws", "destroy", "aws-3az", "--yes", home=tmp_path, timeout=300)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert tagged(aws, "aws-3az") == {}


def test_a_debian_image_gets_its_own_root_disk_sized(aws: MotoServer, tmp_path: Path) -> None:
    groups = [{"name": "cp", "count": 1, "roles": ["control_plane", "etcd", "worker"], "disk_gb": 60}]
    data = provision_preset("awsd", nat="none", azs=2, groups=groups, ami={"distro": "debian-12"})
    run = run_kwizard(tmp_path, "--preset", str(write_preset(tmp_path / "d.yaml", data)), "--yes", "--only",
                      "provision", home=tmp_path, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    ec2 = aws.client()
    node = next(
        i
        for r in ec2.describe_instances(Filters=[{"Name": "tag:kwizard:host", "Values": ["cp-a"]}])[
            "Reservations"
        ]
        for i in r["Instances"]
    )
    assert [m["DeviceName"] for m in node["BlockDeviceMappings"]] == ["/dev/xvda"]
    volume = ec2.describe_volumes(VolumeIds=[node["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]])["Volumes"][0]
    assert volume["Size"] == 60 and volume["VolumeType"] == "gp3"
    assert node["PublicIpAddress"]  # nat: none puts every node in a public subnet


def test_resources_whose_tags_were_removed_are_found_through_the_ledger(
    aws: MotoServer, tmp_path: Path
) -> None:
    groups = [{"name": "cp", "count": 1, "roles": ["control_plane", "etcd", "worker"]}]
    preset = write_preset(tmp_path / "awsl.yaml", provision_preset("awsl", nat="none", azs=2, groups=groups))
    args = ("--preset", str(preset), "--yes", "--only", "provision")
    assert run_kwizard(tmp_path, *args, home=tmp_path, timeout=300).returncode == 0
    ledger = {
        r["key"]: r["id"]
        for r in json.loads((tmp_path / "clusters/awsl/aws-ledger.json").read_text())["resources"]
    }
    ec2 = aws.client()
    stripped = [ledger["vpc"], ledger["instance:cp-a"], ledger["subnet:public:eu-west-1b"]]
    for resource in stripped:
        tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource]}])["Tags"]
        ec2.delete_tags(Resources=[resource], Tags=[{"Key": t["Key"]} for t in tags])
    before = sorted(keys_by_kind(aws, "awsl"))
    assert len(before) == len(ledger) - len(stripped)
    again = run_kwizard(tmp_path, *args, home=tmp_path, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "all existed already" in again.stdout
    assert keys_by_kind(aws, "awsl") == sorted(ledger)  # the same resources, tagged again
    assert len(ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.139.0.0/16"]}])["Vpcs"]) == 1
