"""boto3 clients for kwizard's AWS work, and AWS errors turned into messages that say what to do.

`KWIZARD_AWS_ENDPOINT_URL` points every client at another endpoint (a local EC2-compatible server, a VPC
endpoint). Throttling is retried by botocore's adaptive mode, with backoff, as AWS advises.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kwizard.errors import EnvironmentProblem, InputError, KwizardError

ENV_ENDPOINT = "KWIZARD_AWS_ENDPOINT_URL"
MAX_ATTEMPTS = 8

QUOTA_CODES = (
    "InstanceLimitExceeded",
    "VcpuLimitExceeded",
    "AddressLimitExceeded",
    "VpcLimitExceeded",
    "InternetGatewayLimitExceeded",
    "NatGatewayLimitExceeded",
    "RouteTableLimitExceeded",
    "SecurityGroupLimitExceeded",
    "SubnetLimitExceeded",
    "LimitExceeded",
    "MaxSpotInstanceCountExceeded",
)
CREDENTIAL_CODES = ("AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken")
THROTTLE_CODES = ("Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled")


@dataclass(frozen=True)
class Clients:
    """The EC2 and IAM clients of one region, and Route53's (a global service)."""

    ec2: Any
    iam: Any
    region: str
    endpoint_url: str | None
    route53: Any = None


def endpoint_url() -> str | None:
    return os.environ.get(ENV_ENDPOINT) or None


def connect(region: str) -> Clients:
    """Clients for `region` (the endpoint of KWIZARD_AWS_ENDPOINT_URL when set)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - boto3 is a dependency
        raise EnvironmentProblem(
            "boto3 is not installed", "Creating AWS hosts needs the AWS SDK for Python.", "pip install boto3"
        ) from None
    config = Config(retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS}, connect_timeout=10)
    url = endpoint_url()
    with aws_errors("connect to AWS"):
        session = boto3.Session(region_name=region)
        return Clients(
            session.client("ec2", endpoint_url=url, config=config),
            session.client("iam", endpoint_url=url, config=config),
            region,
            url,
            session.client("route53", endpoint_url=url, config=config),
        )


@contextlib.contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn what boto3 raises while `doing` into a KwizardError with the fix."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        WaiterError,
    )

    try:
        yield
    except KwizardError:
        raise
    except (NoCredentialsError, PartialCredentialsError):
        raise InputError(
            "No AWS credentials",
            f"kwizard could not {doing}: boto3 found no (complete) credentials.",
            "Run `aws configure` or `aws sso login`, or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY), then run the same command again.",
        ) from None
    except NoRegionError:
        raise InputError(
            "No AWS region", f"kwizard could not {doing}: no region.", "Set provision.region."
        ) from None
    except ClientError as exc:
        raise client_error(exc, doing) from None
    except WaiterError as exc:
        raise KwizardError(
            "AWS did not finish in time",
            f"kwizard could not {doing}: {exc}",
            "Look at the resource in the EC2 console; run the same command again to continue (nothing "
            "already created is created twice).",
        ) from None
    except EndpointConnectionError as exc:
        raise KwizardError(
            "Cannot reach AWS",
            f"kwizard could not {doing}: {exc}",
            "Check the network, the region name and any proxy; run the same command again to continue.",
        ) from None
    except BotoCoreError as exc:
        raise KwizardError(
            "AWS request failed", f"kwizard could not {doing}: {exc}", "Run it again."
        ) from None


def client_error(exc: Any, doing: str) -> KwizardError:
    """One ClientError as a KwizardError naming the cause and the fix."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Error"))
    message = f"kwizard could not {doing}: {code}: {error.get('Message', '')}".rstrip(": ")
    again = "then run the same command again (what exists is kept and not created twice)"
    if code in CREDENTIAL_CODES:
        return InputError(
            "AWS refused the credentials",
            message,
            f"Check or renew the credentials (aws sts get-caller-identity); {again}.",
        )
    if code in ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException"):
        return InputError(
            "AWS credentials lack a permission",
            message,
            "Grant the user or role the EC2, IAM (and, for provision.dns, Route53) permissions kwizard "
            "needs (README, AWS section); "
            f"{again}.",
        )
    if code in THROTTLE_CODES:
        return KwizardError(
            "AWS is throttling kwizard",
            f"{message} (after {MAX_ATTEMPTS} attempts with backoff)",
            f"Wait a minute (other tools may be calling the same account); {again}.",
        )
    if code in QUOTA_CODES or code.endswith("LimitExceeded"):
        return KwizardError(
            "AWS quota reached",
            message,
            "Free some (unused Elastic IPs, stopped instances, old VPCs) or ask AWS for a higher quota "
            f"(Service Quotas console, EC2); {again}.",
        )
    if code == "NoSuchHostedZone":
        return InputError(
            "Route53 hosted zone not found",
            message,
            "Check provision.dns (aws route53 list-hosted-zones shows the zones and their ids), or create "
            "the zone first.",
        )
    if code.startswith("InvalidAMIID"):
        return InputError(
            "AMI not found",
            message,
            "Check provision.ami: the id must exist in this region (AMI ids differ per region), or use "
            "'distro: ubuntu-24.04' to look the image up by name.",
        )
    if code == "InvalidKeyPair.NotFound":
        return InputError(
            "EC2 key pair not found",
            message,
            "Create or import it in this region (aws ec2 import-key-pair --key-name NAME "
            "--public-key-material fileb://key.pub), or fix provision.key_name.",
        )
    if code == "Unsupported" or "InsufficientInstanceCapacity" in code:
        return KwizardError(
            "Instance type not available there",
            message,
            "Pick another instance type for the group, or list the AZs yourself in provision.azs.",
        )
    return KwizardError("AWS refused a request", message, f"Read AWS's message above; {again}.")
