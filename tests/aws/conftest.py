"""A moto server (real HTTP, 127.0.0.1) for the AWS tests, and a preset that creates hosts on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.moto_server import MotoServer, moto_server, prepare_account

KEY_NAME = "kwizard-test"


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """A fresh account on the server (an image, a key pair), with this process pointed at it."""
    moto.reset()
    prepare_account(moto, KEY_NAME)
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto


def provision_preset(name: str = "awst", **provision: Any) -> dict[str, Any]:
    """A preset that creates its hosts; `provision` overrides the provision section's values."""
    section: dict[str, Any] = {
        "region": "eu-west-1",
        "key_name": KEY_NAME,
        "operator_cidr": "198.51.100.7/32",
        "nat": "gateway",
    }
    section.update(provision)
    return {
        "version": 1,
        "name": name,
        "target": "aws",
        "ssh": {"user": "ubuntu", "key": "~/.ssh/kwizard-aws.pem"},
        "provision": section,
        # Up to the inventory: later phases need SSH to the instances, which do not exist here.
        "phases": ["provision", "discover", "inventory"],
        "storage": {"type": "aws-ebs"},
    }


def write_preset(path: Path, data: dict[str, Any]) -> Path:
    path.write_text("# kwizard preset\n" + yaml.safe_dump(data, sort_keys=False))
    return path
