"""The NAT instances' user data and IAM policy: what is refused, what is quoted, what is allowed."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from kwizard.aws import natwatch
from kwizard.errors import EXIT_BAD_INPUT, InputError

GOOD = {"cluster": "prod", "region": "eu-west-1", "az": "eu-west-1a", "vpc_cidr": "10.0.0.0/16"}
ROOT = Path(__file__).resolve().parents[2]
SCRIPT_NAMES = ("watcher", "forwarding", "user-data")
SCRIPTS = [natwatch.script(), natwatch.forward_script(), natwatch.user_data(**GOOD)]


def test_package_docstring_is_the_only_content() -> None:
    text = (ROOT / "kwizard/aws/__init__.py").read_text()
    assert text == '"""Creating, watching and removing kwizard\'s AWS hosts."""\n'


def test_scripts_ship_as_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "kwizard"
    ]
    assert "**/*.sh" in globs
    assert natwatch.script() == (ROOT / "kwizard/aws/data/natwatch.sh").read_text()
    assert natwatch.forward_script() == (ROOT / "kwizard/aws/data/nat-forward.sh").read_text()


@pytest.mark.parametrize("text", SCRIPTS, ids=list(SCRIPT_NAMES))
def test_shell_parses(text: str, tmp_path: Path) -> None:
    """dash (Debian's and Ubuntu's /bin/sh) and bash in POSIX mode both accept every script."""
    path = tmp_path / "script.sh"
    path.write_text(text)
    shells = [["sh", "-n"], ["bash", "--posix", "-n"]]
    if shutil.which("dash"):
        shells.append(["dash", "-n"])
    for shell in shells:
        done = subprocess.run([*shell, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, (shell, done.stderr)


@pytest.mark.skipif(
    not shutil.which("shellcheck"), reason="shellcheck is not installed (.ci/install adds it)"
)
@pytest.mark.parametrize("text", SCRIPTS, ids=list(SCRIPT_NAMES))
def test_shellcheck_finds_nothing(text: str, tmp_path: Path) -> None:
    path = tmp_path / "script.sh"
    path.write_text(text)
    done = subprocess.run(["shellcheck", "-s", "sh", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_user_data_carries_both_scripts_verbatim_and_its_settings() -> None:
    text = natwatch.user_data(
        **GOOD, interval=7, threshold=4, endpoint_url="https://ec2.eu-west-1.amazonaws.com"
    )
    assert text.startswith("#!/bin/sh\n")
    assert natwatch.script() in text
    assert natwatch.forward_script() in text
    for line in [
        "NATWATCH_CLUSTER=prod",
        "NATWATCH_REGION=eu-west-1",
        "NATWATCH_AZ=eu-west-1a",
        "NATWATCH_VPC_CIDR=10.0.0.0/16",
        "NATWATCH_INTERVAL=7",
        "NATWATCH_THRESHOLD=4",
        "NATWATCH_ENDPOINT_URL=https://ec2.eu-west-1.amazonaws.com",
        "vpc_cidr=10.0.0.0/16",
        "systemctl enable --now kwizard-nat.service kwizard-natwatch.service",
    ]:
        assert line in [each.strip() for each in text.splitlines()], line
    # Every file is written through a quoted here-document: nothing inside it is expanded.
    assert text.count("<<'KWIZARD_FILE_END'") == 5
    assert "NATWATCH_ENDPOINT_URL" not in natwatch.user_data(**GOOD).split("KWIZARD_FILE_END")[0]


def test_user_data_fits_ec2s_limit() -> None:
    """EC2 takes at most 16 KB of user data (before base64); the longest values allowed fit."""
    longest = natwatch.user_data(
        cluster="a" * 63,
        region="us-gov-west-1",
        az="us-gov-west-1a",
        vpc_cidr="172.16.0.0/16",
        interval=3600,
        threshold=100,
        endpoint_url="https://ec2.us-gov-west-1.amazonaws.com/" + "x" * 200,
    )
    assert len(longest.encode()) < 16 * 1024


def test_other_partitions_and_local_zones_are_accepted() -> None:
    assert natwatch.user_data(**{**GOOD, "region": "us-gov-west-1", "az": "us-gov-west-1b"})
    assert natwatch.user_data(**{**GOOD, "region": "us-west-2", "az": "us-west-2-lax-1a"})


@pytest.mark.parametrize(
    ("key", "value", "title"),
    [
        ("cluster", "prod; reboot", "cluster name"),
        ("cluster", "Prod", "cluster name"),
        ("cluster", "", "cluster name"),
        ("cluster", "a" * 64, "cluster name"),
        ("region", "eu-west-1'", "region"),
        ("region", "$(id)", "region"),
        ("region", "eu west 1", "region"),
        ("az", "eu-west-2a", "availability zone"),
        ("az", "eu-west-1a\nreboot", "availability zone"),
        ("az", "eu-west-1", "availability zone"),
        ("vpc_cidr", "10.0.0.1/16", "VPC CIDR"),
        ("vpc_cidr", "10.0.0.0/8", "VPC CIDR"),
        ("vpc_cidr", "10.0.0.0/16 -j ACCEPT", "VPC CIDR"),
        ("vpc_cidr", "fd00::/56", "VPC CIDR"),
        ("interval", 0, "check interval"),
        ("interval", True, "check interval"),
        ("threshold", "3", "failure threshold"),
        ("threshold", 101, "failure threshold"),
        ("endpoint_url", "ftp://example.com", "EC2 endpoint URL"),
        ("endpoint_url", "http://127.0.0.1:5000/`id`", "EC2 endpoint URL"),
        ("endpoint_url", "http://x' ; reboot", "EC2 endpoint URL"),
    ],
)
def test_bad_values_are_refused_with_a_fix(key: str, value: object, title: str) -> None:
    with pytest.raises(InputError) as caught:
        natwatch.user_data(**{**GOOD, key: value})  # type: ignore[arg-type]
    error = caught.value
    assert error.exit_code == EXIT_BAD_INPUT
    assert error.title == f"Invalid {title} for the NAT instances"
    assert repr(value) in error.problem
    assert error.fix


def test_watcher_looks_for_the_tags_kwizard_sets() -> None:
    text = natwatch.script()
    assert natwatch.TAG_CLUSTER == "kwizard:cluster"
    assert natwatch.TAG_ROLE == "kwizard:role"
    assert natwatch.TAG_AZ == "kwizard:az"
    assert f"Name=tag:{natwatch.TAG_CLUSTER},Values=$cluster" in text
    assert f'"Name=tag:{natwatch.TAG_ROLE},Values={natwatch.ROLE_NAT}"' in text
    assert f'"Name=tag:{natwatch.TAG_ROLE},Values={natwatch.ROLE_PRIVATE_ROUTES}"' in text
    assert f"Tags[?Key=='{natwatch.TAG_AZ}']" in text


def test_watcher_never_calls_anything_but_describe_and_route_changes() -> None:
    """Every `ec2 <call>` in the script is one of the calls its policy allows."""
    calls = set(re.findall(r"\bec2 ([a-z]+(?:-[a-z]+)+)", natwatch.script()))
    camel = {"".join(part.title() for part in call.split("-")) for call in calls}
    assert camel == {a.removeprefix("ec2:") for a in natwatch.WATCHER_ACTIONS}
    for word in ("stop-instances", "terminate-instances", "reboot-instances", "shutdown", "poweroff"):
        assert word not in natwatch.script()


def test_iam_policy_is_least_privilege() -> None:
    statements = natwatch.IAM_POLICY["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    actions = {a for s in allowed for a in s["Action"]}
    assert actions == set(natwatch.WATCHER_ACTIONS)
    assert not [a for a in actions if "*" in a]
    describe, routes = allowed
    assert all(a.startswith("ec2:Describe") for a in describe["Action"])
    assert routes["Resource"] == "arn:aws:ec2:*:*:route-table/*"
    condition = routes["Condition"]["StringEquals"]
    assert condition["ec2:ResourceTag/kwizard:cluster"] == "${aws:PrincipalTag/kwizard:cluster}"
    assert condition["ec2:ResourceTag/kwizard:role"] == natwatch.ROLE_PRIVATE_ROUTES
    denied = [s for s in statements if s["Effect"] == "Deny"]
    assert {a for s in denied for a in s["Action"]} == {"ec2:StopInstances", "ec2:TerminateInstances"}
    json.dumps(natwatch.IAM_POLICY)  # plain JSON, as IAM takes it


def test_iam_policy_is_valid_for_aws() -> None:
    """parliament (AWS's own action, resource and condition-key tables) finds nothing wrong in the policy,
    and does find a route permission aimed at instances instead of route tables."""
    from parliament import analyze_policy_string

    assert [f.issue for f in analyze_policy_string(json.dumps(natwatch.IAM_POLICY)).findings] == []
    wrong = copy.deepcopy(natwatch.IAM_POLICY)
    wrong["Statement"][1]["Resource"] = "arn:aws:ec2:*:*:instance/*"
    assert "RESOURCE_MISMATCH" in [f.issue for f in analyze_policy_string(json.dumps(wrong)).findings]


def test_trust_policy_lets_only_ec2_assume_the_role() -> None:
    (statement,) = natwatch.TRUST_POLICY["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("NATWATCH_INTERVAL", "0", "setting interval must be a whole number"),
        ("NATWATCH_THRESHOLD", "x", "setting threshold must be a whole number"),
        ("NATWATCH_MAX_ROUNDS", "-1", "NATWATCH_MAX_ROUNDS must be a whole number"),
        ("NATWATCH_CLUSTER", "a,b", "setting NATWATCH_CLUSTER may hold only"),
        ("NATWATCH_REGION", "eu west", "setting NATWATCH_REGION may hold only"),
        ("NATWATCH_AZ", "$(id)", "setting NATWATCH_AZ may hold only"),
    ],
)
def test_watcher_refuses_bad_settings_before_any_call(key: str, value: str, message: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "NATWATCH_CLUSTER": "c", "NATWATCH_REGION": "r", "NATWATCH_AZ": "z"}
    done = subprocess.run(
        ["sh", "-c", natwatch.script()], env={**env, key: value}, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2, done.stdout
    assert message in done.stdout


def test_watcher_needs_its_cluster() -> None:
    done = subprocess.run(
        ["sh", "-c", natwatch.script()], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )
    assert done.returncode != 0 and "NATWATCH_CLUSTER is not set" in done.stderr
