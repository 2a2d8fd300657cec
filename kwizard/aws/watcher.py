"""The one place provisioning touches the HA NAT watcher: its user data and its IAM policies."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from kwizard.aws.client import endpoint_url
from kwizard.errors import EnvironmentProblem


def _natwatch() -> ModuleType:
    import importlib

    try:
        return importlib.import_module("kwizard.aws.natwatch")
    except ModuleNotFoundError as exc:
        if exc.name != "kwizard.aws.natwatch":
            raise
        raise EnvironmentProblem(
            "NAT instances are not available in this kwizard",
            "This build has no HA NAT watcher, which NAT instances need to take over each other's routes.",
            "Use 'nat: gateway' (managed NAT) or 'nat: none' in the provision section, or upgrade kwizard.",
        ) from None


def nat_user_data(cluster: str, region: str, az: str, vpc_cidr: str) -> str:
    """The NAT instance's user data: NAT set-up plus the watcher of the other AZs' NAT instances."""
    text: str = _natwatch().user_data(
        cluster=cluster, region=region, az=az, vpc_cidr=vpc_cidr, endpoint_url=endpoint_url()
    )
    return text


def iam_policy() -> dict[str, Any]:
    policy: dict[str, Any] = _natwatch().IAM_POLICY
    return policy


def trust_policy() -> dict[str, Any]:
    policy: dict[str, Any] = _natwatch().TRUST_POLICY
    return policy
