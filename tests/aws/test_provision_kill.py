"""A provisioning kwizard killed (SIGKILL) at random points, then run again: nothing is created twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.aws.conftest import provision_preset, write_preset
from tests.aws.test_provision_cli import keys_by_kind, tagged
from tests.aws.test_provision_dns import a_records, lb_addresses, zone_of
from tests.cli import REPO, run_kwizard
from tests.moto_server import MotoServer

KILLS = 4


def _start(workdir: Path, preset: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KWIZARD_WORKDIR": str(workdir), "PYTHONPATH": str(REPO), "HOME": str(workdir)}
    return subprocess.Popen(
        [sys.executable, "-m", "kwizard", "--preset", str(preset), "--yes", "--only", "provision"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_at_random_points_then_a_rerun_leaves_no_duplicates(aws: MotoServer, tmp_path: Path) -> None:
    seed = random.randrange(1_000_000)
    chooser = random.Random(seed)
    zone = zone_of(aws)
    dns = {"zone": "example.com", "records": ["*.example.com"]}  # written last: after every instance
    preset = write_preset(tmp_path / "awsk.yaml", provision_preset("awsk", nat="instances", dns=dns))
    ledger_file = tmp_path / "clusters" / "awsk" / "aws-ledger.json"
    seen: list[int] = []
    for _ in range(KILLS):
        process = _start(tmp_path, preset)
        # Python and boto3 take about a second to start; the whole build takes a few more.
        time.sleep(chooser.uniform(1.0, 5.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        keys = keys_by_kind(aws, "awsk")
        assert len(keys) == len(set(keys)), f"seed {seed}: duplicates after a kill: {keys}"
        if ledger_file.exists():  # never half-written: always valid JSON
            json.loads(ledger_file.read_text())
        seen.append(len(keys))
    finished = run_kwizard(tmp_path, "--resume", "awsk", "--yes", home=tmp_path, timeout=300)
    if finished.returncode != 0:  # the last kill may have come before the run was journalled
        args = ("--preset", str(preset), "--yes", "--only", "provision")
        finished = run_kwizard(tmp_path, *args, home=tmp_path, timeout=300)
    assert finished.returncode == 0, f"seed {seed}: {finished.stdout}{finished.stderr}"
    keys = keys_by_kind(aws, "awsk")
    assert len(keys) == len(set(keys)), f"seed {seed}: duplicates: {keys}"
    # 1 VPC, 1 IGW, 6 subnets, 4 route tables, 4 groups, 10 instances (bastion, 3 NAT, 6 nodes), 4 addresses.
    assert len(keys) == 30, f"seed {seed}: {keys}"
    ledger = json.loads(ledger_file.read_text())
    owned = ["iam-role", "instance-profile", "dns:*.example.com"]  # untagged: known from the ledger
    assert sorted(r["key"] for r in ledger["resources"]) == sorted([*keys, *owned])
    assert a_records(aws, zone) == {"*.example.com.": (60, lb_addresses(aws, "awsk", "PublicIpAddress"))}
    assert len(tagged(aws, "awsk")["instance"]) == 10, f"seed {seed}; resources after each kill: {seen}"
    iam = aws.client("iam")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["kwizard-awsk-nat"]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]] == [
        "kwizard-awsk-nat"
    ]
