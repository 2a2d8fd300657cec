"""Refusals: bad provision sections (on load, before any AWS call) and AWS's own refusals on moto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from kwizard import preset
from kwizard.aws.client import client_error
from kwizard.aws.plan import provision_plan
from kwizard.errors import PresetError
from tests.aws.conftest import provision_preset, write_preset
from tests.aws.test_provision_cli import tagged
from tests.cli import run_kwizard
from tests.moto_server import MotoServer


def _parse(**provision: Any) -> Any:
    return preset.parse(yaml.safe_dump(provision_preset(**provision)), "p.yaml")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            {
                "groups": [
                    {
                        "name": "cp",
                        "count": 3,
                        "roles": ["control_plane", "etcd"],
                        "instance_type": "t2.small",
                    }
                ]
            },
            "t2.small (1 vCPU, 2048 MB) is too small for control_plane: it needs at least 2 vCPUs and "
            "1700 MB",
        ),
        ({"azs": 1}, "provision.azs"),
        ({"azs": ["eu-west-1a"]}, "at least 2 availability zones"),
        ({"azs": ["eu-west-1a", "us-east-1b"]}, "'us-east-1b' is not in region 'eu-west-1'"),
        ({"operator_cidr": "0.0.0.0/0"}, "opens SSH to the whole internet"),
        ({"nat": "maybe"}, "provision.nat"),
        ({"nat_instance_type": "t3.micro"}, "too small for a NAT instance"),
        ({"ami": {"id": "ami-0123456789abcdef0", "distro": "debian-12"}}, "choose the image one way"),
        ({"ami": {"owner": "099720109477"}}, "needs both 'owner'"),
        ({"region": "mars-1"}, "not an AWS region"),
        (
            {"groups": [{"name": "cp", "count": 2, "roles": ["control_plane", "etcd"]}]},
            "etcd needs an odd count",
        ),
        ({"groups": [{"name": "w", "count": 3, "roles": ["worker"]}]}, "control_plane role"),
        ({"vpc_cidr": "10.0.0.0/8"}, "from /16 to /20"),
        ({"typo": 1}, "unknown key 'typo'"),
    ],
)
def test_bad_provision_sections_are_refused_with_the_reason(change: dict[str, Any], says: str) -> None:
    with pytest.raises(PresetError) as refused:
        _parse(**change)
    assert says in refused.value.problem
    assert "p.yaml:" in refused.value.problem


def test_a_provision_section_needs_target_aws() -> None:
    data = provision_preset()
    data["target"] = "baremetal"
    with pytest.raises(PresetError) as refused:
        preset.parse(yaml.safe_dump(data), "p.yaml")
    assert "provision: a provision section creates AWS hosts: it needs 'target: aws'" in refused.value.problem


def test_the_plan_counts_and_prices_what_is_created() -> None:
    spec = _parse(nat="instances")
    plan = provision_plan(spec.provision)
    counts = {line.what: line.count for line in plan.lines}
    assert counts["cp instance"] == 3 and counts["worker instance"] == 3 and counts["NAT instance"] == 3
    assert counts["Elastic IP"] == 4 and counts["private subnet"] == 3
    # eu-west-1 list prices: 3 × t3.medium = 3 × 0.0456 × 730 h, plus 3 × 40 GB gp3 at 0.088.
    cp = next(line for line in plan.lines if line.what == "cp instance")
    assert cp.monthly_usd == pytest.approx(3 * 0.0456 * 730 + 3 * 40 * 0.088, abs=0.02)
    assert "list prices of 2025-06-01" in plan.footer()
    gateway = provision_plan(_parse(nat="gateway").provision)
    assert next(line for line in gateway.lines if line.what == "NAT gateway").monthly_usd == pytest.approx(
        3 * 0.048 * 730, abs=0.02
    )
    elsewhere = provision_plan(_parse(region="ap-south-1", nat="none").provision)
    assert "us-east-1 prices" in elsewhere.footer() and "private subnet" not in {
        line.what for line in elsewhere.lines
    }


def test_a_shipped_style_preset_round_trips_with_its_whole_provision_section() -> None:
    spec = _parse()
    text = preset.dump(spec)
    assert "nat_instance_type: t3.small" in text and "azs: 3" in text and "id:" not in text
    assert preset.parse(text) == spec


def _error(code: str, message: str = "m") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "RunInstances")


@pytest.mark.parametrize(
    ("code", "title", "fix"),
    [
        ("VcpuLimitExceeded", "AWS quota reached", "Service Quotas"),
        ("AddressLimitExceeded", "AWS quota reached", "unused Elastic IPs"),
        ("RequestLimitExceeded", "AWS is throttling kwizard", "Wait a minute"),
        ("AuthFailure", "AWS refused the credentials", "aws sts get-caller-identity"),
        ("UnauthorizedOperation", "AWS credentials lack a permission", "permissions"),
        ("InvalidAMIID.NotFound", "AMI not found", "provision.ami"),
        ("Unsupported", "Instance type not available there", "another instance type"),
    ],
)
def test_aws_error_codes_become_messages_with_a_fix(code: str, title: str, fix: str) -> None:
    error = client_error(_error(code), "create instance:cp-a")
    assert error.title == title and fix in error.fix and code in error.problem


def _run(tmp_path: Path, name: str, **provision: Any) -> Any:
    path = write_preset(tmp_path / f"{name}.yaml", provision_preset(name, **provision))
    return run_kwizard(
        tmp_path, "--preset", str(path), "--yes", "--until", "discover", home=tmp_path, timeout=300
    )


def _unboxed(text: str) -> str:
    """The words of an error panel as one line (the panel wraps long sentences inside its box)."""
    return " ".join(text.replace("│", " ").split())


def test_an_ami_that_does_not_exist_is_named_with_the_fix(aws: MotoServer, tmp_path: Path) -> None:
    result = _run(tmp_path, "awsa", ami={"id": "ami-00000000deadbeef0"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "AMI not found" in result.stdout and "ami-00000000deadbeef0" in result.stdout
    assert "distro: ubuntu-24.04" in result.stdout  # the fix
    assert tagged(aws, "awsa") == {}  # refused before anything was created
    by_name = _run(tmp_path, "awsb", ami={"owner": "099720109477", "name": "debian-12-*"})
    assert by_name.returncode == 2 and "No image matches" in by_name.stdout
    assert "Name=name,Values=PATTERN" in _unboxed(by_name.stdout)  # how to try the filter


def test_a_missing_key_pair_is_named_with_the_fix(aws: MotoServer, tmp_path: Path) -> None:
    result = _run(tmp_path, "awsp", key_name="nobody")
    assert result.returncode == 2
    assert "EC2 key pair not found" in result.stdout and "import-key-pair" in result.stdout
    assert tagged(aws, "awsp") == {}


def test_an_az_without_the_instance_type_is_refused_before_creating(aws: MotoServer, tmp_path: Path) -> None:
    # us-east-1e offers no t3 instances (AWS's own offerings, as moto serves them).
    result = _run(tmp_path, "awsz", region="us-east-1", azs=["us-east-1a", "us-east-1e"])
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "Instance type not offered in an AZ" in result.stdout
        and "t3.medium is not offered in us-east-1e" in result.stdout
    )


def test_no_credentials_is_a_clear_error(
    aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = _run(tmp_path, "awsc")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "No AWS credentials" in result.stdout and "aws configure" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_destroy_of_a_cluster_that_kwizard_did_not_create_is_refused(tmp_path: Path) -> None:
    import shutil

    shutil.copy(
        Path(__file__).parents[1] / "fixtures" / "presets" / "aws-3az-hosts.yaml", tmp_path / "p.yaml"
    )
    made = run_kwizard(
        tmp_path, "--preset", str(tmp_path / "p.yaml"), "--yes", "--only", "inventory", home=tmp_path
    )
    assert made.returncode == 0, made.stdout + made.stderr
    refused = run_kwizard(tmp_path, "aws", "destroy", "aws-3az", "--yes", home=tmp_path)
    assert refused.returncode == 2 and "Not a cluster kwizard created on AWS" in refused.stderr


def test_the_ami_fix_follows_how_the_preset_chose_the_image() -> None:
    """No image found: the fix for a distro is not "use a distro" (the preset already does)."""
    from kwizard.aws.checks import _ami_fix
    from kwizard.aws.settings import AmiChoice

    by_distro = _ami_fix(AmiChoice(distro="ubuntu-24.04"), "eu-central-1")
    assert "not visible in eu-central-1" in by_distro and "distro:" not in by_distro
    by_id = _ami_fix(AmiChoice(id="ami-0123456789abcdef0"), "eu-west-1")
    assert "ami-0123456789abcdef0 is in eu-west-1" in by_id and "'distro: ubuntu-24.04'" in by_id
    by_filter = _ami_fix(AmiChoice(owner="099720109477", name="debian-12-*"), "eu-west-1")
    assert "Name=name,Values=PATTERN" in by_filter
