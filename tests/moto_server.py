"""moto in server mode: a real EC2/IAM-compatible HTTP endpoint on 127.0.0.1, in its own process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account: the owner of the images a test registers
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
START_TIMEOUT = 60.0
CANONICAL = "099720109477"
DEBIAN = "136693071363"
# The public images the server knows, in every region: the distributions kwizard looks up by name, with an
# older Ubuntu build (the newest must win) and another publisher's look-alike (the owner must match).
IMAGES = [  # (owner, name, date, root device)
    (
        CANONICAL,
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250115",
        "2025-01-15",
        "/dev/sda1",
    ),
    (
        CANONICAL,
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250601",
        "2025-06-01",
        "/dev/sda1",
    ),
    (DEBIAN, "debian-12-amd64-20250601-2130", "2025-06-01", "/dev/xvda"),
    (
        "111122223333",
        "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20260101",
        "2026-01-01",
        "/dev/sda1",
    ),
]
NEWEST_UBUNTU = "ami-0000000000000b002"


def _images_file(folder: Path) -> Path:
    images = [
        {
            "ami_id": f"ami-0000000000000b{index:03d}",
            "name": name,
            "owner_id": owner,
            "creation_date": f"{date}T00:00:00.000Z",
            "state": "available",
            "public": True,
            "architecture": "x86_64",
            "virtualization_type": "hvm",
            "root_device_type": "ebs",
            "root_device_name": root,
            "image_type": "machine",
            "hypervisor": "xen",
            "sriov": "simple",
            "description": name,
        }
        for index, (owner, name, date, root) in enumerate(IMAGES, start=1)
    ]
    path = folder / "amis.json"
    path.write_text(json.dumps(images))
    return path


@dataclass(frozen=True)
class MotoServer:
    url: str
    process: subprocess.Popen[bytes]

    def env(self) -> dict[str, str]:
        """What a kwizard process needs to talk to this endpoint."""
        return {**CREDENTIALS, "KWIZARD_AWS_ENDPOINT_URL": self.url, "AWS_DEFAULT_REGION": REGION}

    def client(self, service: str = "ec2") -> Any:
        import boto3

        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    """Start `moto.server` on a free loopback port; stop it afterwards."""
    port = _free_port()
    folder = Path(tempfile.mkdtemp(prefix="kwizard-moto-"))
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **CREDENTIALS, "MOTO_AMIS_PATH": str(_images_file(folder))},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {url}") from None
                time.sleep(0.2)
        yield MotoServer(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def prepare_account(server: MotoServer, key_name: str = "kwizard-test") -> None:
    """The EC2 key pair an AWS account would have."""
    ec2 = server.client()
    if not ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": [key_name]}])["KeyPairs"]:
        ec2.create_key_pair(KeyName=key_name)
