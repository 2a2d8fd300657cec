"""Hosts from ~/.ssh/config, Terraform (the real binary when installed) and EC2 (moto)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kwizard.discovery.sshconfig import from_ssh_config
from kwizard.discovery.terraform import from_outputs, from_state_file, from_terraform_dir
from kwizard.errors import InputError


def test_ssh_config_hosts_with_include_and_no_match_exec(tmp_path: Path) -> None:
    marker = tmp_path / "exec-ran"
    (tmp_path / "more.conf").write_text("Host db1\n  HostName 10.0.0.21\n")
    config = tmp_path / "config"
    config.write_text(
        f"""
Include {tmp_path}/more.conf
Host web1
  HostName 10.0.0.11
  User admin
  Port 2222
Host web2 web3
  HostName web2.example.com
Host *.internal bastion-*
  User ops
Host jumped
  HostName 10.0.0.30
  ProxyJump gate
Host badname
  HostName 10.0.0.999
Match exec "touch {marker}"
  User nobody
"""
    )
    found = from_ssh_config(config)
    assert [(c.name, c.address, c.user, c.port) for c in found.candidates] == [
        ("db1", "10.0.0.21", None, None),
        ("jumped", "10.0.0.30", None, None),
        ("web1", "10.0.0.11", "admin", 2222),
        ("web2", "web2.example.com", None, None),
        ("web3", "web2.example.com", None, None),
    ]
    assert [p.subject for p in found.problems] == ["Host badname"]
    assert any("jumped" in note for note in found.notes)
    assert not marker.exists()  # reading the config never runs its commands


def test_missing_ssh_config_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    found = from_ssh_config(tmp_path / "nope")
    assert found.candidates == () and "cannot read it" in found.problems[0].problem


OUTPUTS = {
    "masters": {"value": "10.0.1.10\n10.0.2.10\n10.0.3.10", "type": "string", "sensitive": False},
    "workers": {"value": ["10.0.1.20", "10.0.2.20"], "type": ["list", "string"], "sensitive": False},
    "etcd": {"value": "10.0.1.10,10.0.2.10,10.0.3.10", "type": "string", "sensitive": False},
    "bastion_ip": {"value": "52.1.2.3", "type": "string", "sensitive": False},
    "named": {"value": {"lb-a": "10.0.1.30"}, "type": ["map", "string"], "sensitive": False},
    "admin_password": {"value": "10.9.9.9", "type": "string", "sensitive": True},
    "vpc_id": {"value": "vpc-123", "type": "string", "sensitive": False},
}


def test_terraform_outputs_give_hosts_roles_and_bastion() -> None:
    found = from_outputs(OUTPUTS, "terraform")
    by_address = {c.address: c for c in found.candidates}
    assert found.bastion == "52.1.2.3"
    assert "10.9.9.9" not in by_address  # sensitive outputs are never read
    assert by_address["10.0.1.10"].role_hints == ("etcd", "control_plane")  # listed in both outputs
    assert by_address["10.0.1.20"].role_hints == ("worker",)
    assert by_address["10.0.1.30"].name == "lb-a"
    assert any("admin_password" in note for note in found.notes)


def test_terraform_outputs_without_addresses_is_a_problem() -> None:
    found = from_outputs({"vpc_id": {"value": "vpc-1"}}, "terraform")
    assert found.candidates == () and "no output holds IP addresses" in found.problems[0].problem


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_output_of_a_real_configuration(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'output "control_plane_ips" { value = ["10.0.1.10", "10.0.2.10", "10.0.3.10"] }\n'
        'output "worker_ips" { value = ["10.0.1.20"] }\n'
        'output "bastion_ip" { value = "52.1.2.3" }\n'
    )
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", *args], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    found = from_terraform_dir(tmp_path)
    assert [(c.address, c.role_hints) for c in found.candidates] == [
        ("10.0.1.10", ("control_plane",)),
        ("10.0.2.10", ("control_plane",)),
        ("10.0.3.10", ("control_plane",)),
        ("10.0.1.20", ("worker",)),
    ]
    assert found.bastion == "52.1.2.3"
    state = from_state_file(tmp_path / "terraform.tfstate")  # the state file terraform itself wrote
    assert [c.address for c in state.candidates] == [c.address for c in found.candidates]


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_dir_missing_or_without_outputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        from_terraform_dir(tmp_path / "missing")
    found = from_terraform_dir(tmp_path)  # real terraform in an empty folder: no outputs at all
    assert found.candidates == () and "no output holds IP addresses" in found.problems[0].problem


def test_state_file_aws_instances_with_az_and_type(tmp_path: Path) -> None:
    # The layout of a version-4 state file with aws_instance resources (as terraform writes it).
    state = {
        "version": 4,
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": "aws_instance",
                "name": "master",
                "instances": [
                    {
                        "index_key": i,
                        "attributes": {
                            "private_ip": f"10.0.{i}.10",
                            "public_ip": "" if i else "54.0.0.10",
                            "availability_zone": f"eu-west-1{'abc'[i]}",
                            "instance_type": "t3.medium",
                            "tags": {"Name": f"k8s-master-{i}"} if i != 2 else {},
                        },
                    }
                    for i in range(3)
                ],
            },
            {"mode": "data", "type": "aws_instance", "name": "ignored", "instances": []},
        ],
    }
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(state))
    found = from_state_file(path)
    assert [(c.name, c.address, c.ip, c.az, c.instance_type, c.role_hints) for c in found.candidates] == [
        ("k8s-master-0", "54.0.0.10", "10.0.0.10", "eu-west-1a", "t3.medium", ("control_plane",)),
        ("k8s-master-1", "10.0.1.10", None, "eu-west-1b", "t3.medium", ("control_plane",)),
        ("master-2", "10.0.2.10", None, "eu-west-1c", "t3.medium", ("control_plane",)),
    ]


def test_state_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "terraform.tfstate"
    path.write_text("{not json")
    with pytest.raises(InputError, match="Not Terraform JSON"):
        from_state_file(path)
