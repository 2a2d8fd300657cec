"""EC2 instances by tag, against moto's EC2 (the AWS API cannot run here)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from kwizard.discovery.aws import from_ec2
from kwizard.discovery.naming import to_hosts
from kwizard.errors import InputError
from kwizard.roles import default_roles

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def ec2() -> Iterator[object]:
    """Five tagged instances over three AZs plus one of another cluster (built once: moto is slow)."""
    with pytest.MonkeyPatch.context() as monkeypatch, mock_aws():
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        client = boto3.client("ec2", region_name=REGION)
        image = client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        vpc = client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        for index, az in enumerate(["a", "b", "c", "a", "b"]):
            subnet = client.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{index}.0/24", AvailabilityZone=f"{REGION}{az}"
            )["Subnet"]["SubnetId"]
            client.run_instances(
                ImageId=image,
                MinCount=1,
                MaxCount=1,
                InstanceType="t3.medium" if index < 3 else "t3.large",
                SubnetId=subnet,
                TagSpecifications=[
                    {
                        "ResourceType": "instance",
                        "Tags": [
                            {"Key": "kubernetes-cluster", "Value": "prod"},
                            {"Key": "Name", "Value": f"K8s Node {index}"},
                        ],
                    }
                ],
            )
        other = client.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")
        client.create_tags(
            Resources=[other["Instances"][0]["InstanceId"]],
            Tags=[{"Key": "kubernetes-cluster", "Value": "dev"}],
        )
        yield client


def test_instances_by_tag_with_az_type_and_private_ip(ec2: object) -> None:
    found = from_ec2("kubernetes-cluster", "prod", region=REGION, address="private")
    assert len(found.candidates) == 5
    assert [c.az for c in found.candidates] == [f"{REGION}{z}" for z in "abcab"]
    assert [c.instance_type for c in found.candidates] == ["t3.medium"] * 3 + ["t3.large"] * 2
    assert all(c.address.startswith("10.0.") and c.ip is None for c in found.candidates)
    hosts, problems = to_hosts(found.candidates)
    assert problems == []
    assert [h.name for h in hosts] == [f"k8s-node-{i}" for i in range(5)]
    control = [h.az for h in default_roles(hosts) if h.has("control_plane")]
    assert sorted(control) == [f"{REGION}{z}" for z in "abc"]  # one control plane per AZ


def test_public_address_keeps_private_ip_for_binding(ec2: object) -> None:
    found = from_ec2("kubernetes-cluster", "prod", region=REGION, address="public")
    for candidate in found.candidates:
        assert candidate.ip is not None and candidate.ip.startswith("10.0.")
        assert candidate.address != candidate.ip


def test_tag_key_only_and_no_match(ec2: object) -> None:
    assert len(from_ec2("kubernetes-cluster", region=REGION).candidates) == 6
    empty = from_ec2("kubernetes-cluster", "staging", region=REGION)
    assert empty.candidates == () and "no running EC2 instance" in empty.notes[0]


def test_missing_region_is_an_input_error(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path) + "/none")
    with pytest.raises(InputError, match="No AWS region"):
        from_ec2("kubernetes-cluster")


def test_missing_credentials_is_an_input_error(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path) + "/none")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path) + "/none")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(InputError, match="No AWS credentials"):  # fails before any network call
        from_ec2("kubernetes-cluster", region=REGION)
