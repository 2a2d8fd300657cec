"""Hosts from AWS: running EC2 instances carrying a tag, with their AZ and instance type (boto3).

`address` is how kwizard reaches the instance (its public IP when it has one and no bastion is used,
else its private IP); `ip` is always the private IP, the one on the instance's interface that Kubespray
must bind to. The AZ spreads control plane and load-balancer roles; the type feeds preflight sizing.
"""

from __future__ import annotations

from typing import Any, Literal

from kwizard.discovery.model import Candidate, Discovery
from kwizard.errors import EnvironmentProblem, InputError

AddressChoice = Literal["auto", "public", "private"]


def from_ec2(
    tag: str,
    value: str | None = None,
    *,
    region: str | None = None,
    profile: str | None = None,
    address: AddressChoice = "auto",
    client: Any = None,
) -> Discovery:
    """Running instances with tag `tag` (equal to `value` when given), in instance-launch order."""
    if not tag.strip():
        raise InputError(
            "No tag given", "EC2 discovery needs a tag key (e.g. kubernetes-cluster).", "Type a tag key."
        )
    ec2 = client or _client(region, profile)
    filters = [{"Name": "instance-state-name", "Values": ["running"]}]
    if value:
        filters.append({"Name": f"tag:{tag}", "Values": [value]})
    else:
        filters.append({"Name": "tag-key", "Values": [tag]})
    instances = list(_describe(ec2, filters))
    instances.sort(
        key=lambda i: (str(i.get("LaunchTime", "")), _tag(i, "Name") or "", i.get("InstanceId", ""))
    )
    candidates = [c for c in (_candidate(i, address) for i in instances) if c is not None]
    where = f"tag {tag}={value}" if value else f"tag {tag}"
    notes = () if candidates else (f"no running EC2 instance has {where}",)
    return Discovery(tuple(candidates), notes=notes)


def _client(region: str | None, profile: str | None) -> Any:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError
    except ImportError:
        raise EnvironmentProblem(
            "boto3 is not installed",
            "Finding EC2 instances needs the AWS SDK for Python.",
            "Install kwizard's AWS extra: pip install 'kwizard[aws]'",
        ) from None
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except BotoCoreError as exc:
        raise InputError(
            "AWS profile problem", str(exc), "Check the profile name (aws configure list-profiles)."
        ) from None
    if session.region_name is None:
        raise InputError(
            "No AWS region",
            "No region was given and none is configured.",
            "Pick a region (e.g. eu-west-1), or set AWS_DEFAULT_REGION.",
        )
    from kwizard.aws.client import endpoint_url

    return session.client("ec2", endpoint_url=endpoint_url())


def _describe(ec2: Any, filters: list[dict[str, Any]]) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
            for reservation in page.get("Reservations", []):
                yield from reservation.get("Instances", [])
    except NoCredentialsError:
        raise InputError(
            "No AWS credentials",
            "boto3 found no credentials to call EC2.",
            "Run `aws configure` (or `aws sso login`), or set AWS_PROFILE.",
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise InputError(
            "EC2 refused the request",
            f"{error.get('Code', 'Error')}: {error.get('Message', exc)}",
            "Check the credentials' permissions (ec2:DescribeInstances) and the region.",
        ) from None
    except BotoCoreError as exc:
        raise InputError("Cannot reach EC2", str(exc), "Check the network and the region name.") from None


def _tag(instance: dict[str, Any], key: str) -> str | None:
    return next((t.get("Value") for t in instance.get("Tags", []) if t.get("Key") == key), None)


def _candidate(instance: dict[str, Any], choice: AddressChoice) -> Candidate | None:
    private = instance.get("PrivateIpAddress")
    public = instance.get("PublicIpAddress")
    use_private = choice == "private" or (choice == "auto" and not public)
    address = private if use_private else public
    if not address:
        return None
    dns = (instance.get("PrivateDnsName") or "").split(".")[0]
    return Candidate(
        address,
        name=_tag(instance, "Name") or dns or instance.get("InstanceId"),
        ip=private if address != private else None,
        az=instance.get("Placement", {}).get("AvailabilityZone"),
        instance_type=instance.get("InstanceType"),
        source=f"ec2 {instance.get('InstanceId', '')}".strip(),
    )
