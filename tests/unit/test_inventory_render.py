"""The generated inventory: groups, host variables, group_vars, host-key settings and stable output."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from kwizard import preset, yamlout
from kwizard.inventory.render import ALL_VARS_FILE, HOSTS_FILE, K8S_VARS_FILE, group_vars, render
from kwizard.spec import Bastion, ClusterSpec, Host

PRESETS = Path(__file__).resolve().parents[2] / "presets"
# AWS hosts that exist already (the shipped aws-3az preset creates its own).
AWS_HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "presets" / "aws-3az-hosts.yaml"
KNOWN_HOSTS = Path("/work space/100%/known_hosts")  # a space and a '%' on purpose


def _load(name: str) -> ClusterSpec:
    return preset.load(AWS_HOSTS if name == "aws-3az" else PRESETS / f"{name}.yaml")


def _documents(spec: ClusterSpec, results: dict[str, Any] | None = None) -> dict[str, Any]:
    files = render(spec, KNOWN_HOSTS, results)
    return {name: yamlout.load(text) for name, text in files.files.items()}


@pytest.mark.parametrize("name", ["baremetal-ha", "aws-3az", "lab"])
def test_same_spec_gives_byte_identical_files(name: str, tmp_path: Path) -> None:
    spec = _load(name)
    first = render(spec, KNOWN_HOSTS).files
    preset.save(spec, tmp_path / "again.yaml")
    again = render(preset.load(tmp_path / "again.yaml"), KNOWN_HOSTS).files
    assert first == again
    for text in first.values():
        assert text.startswith(f"# Written by kwizard from preset '{name}'")


def test_groups_follow_the_roles() -> None:
    inventory = _documents(_load("baremetal-ha"))[HOSTS_FILE]["all"]
    children = inventory["children"]
    assert list(children["kube_control_plane"]["hosts"]) == ["cp1", "cp2", "cp3"]
    assert list(children["kube_node"]["hosts"]) == ["worker1", "worker2", "worker3"]
    assert list(children["etcd"]["hosts"]) == ["cp1", "cp2", "cp3"]
    assert list(children["kwizard_loadbalancer"]["hosts"]) == ["worker1", "worker2"]
    assert list(children["gfs_cluster"]["hosts"]) == ["gluster1", "gluster2", "gluster3"]
    assert "bastion" not in children
    assert list(inventory["hosts"]) == [
        "cp1", "cp2", "cp3", "worker1", "worker2", "worker3", "gluster1", "gluster2", "gluster3",
    ]  # fmt: skip


def test_host_variables() -> None:
    hosts = _documents(_load("baremetal-ha"))[HOSTS_FILE]["all"]["hosts"]
    assert hosts["cp1"] == {
        "ansible_host": "10.0.0.11",
        "ip": "10.0.0.11",
        "access_ip": "10.0.0.11",
        "ansible_user": "ubuntu",
        "ansible_port": 22,
        "etcd_member_name": "cp1",
    }
    assert hosts["worker1"]["node_labels"] == {"role": "loadbalancer"}
    assert "node_labels" not in hosts["worker3"]
    assert hosts["gluster2"]["kwizard_storage_device"] == "/dev/sdb"
    assert hosts["gluster2"]["kwizard_brick_dir"] == "/data/glusterfs/brick1"
    assert "node_labels" not in hosts["gluster2"]  # not a Kubernetes node


def test_availability_zones_become_topology_labels() -> None:
    hosts = _documents(_load("aws-3az"))[HOSTS_FILE]["all"]["hosts"]
    assert hosts["worker-b"]["node_labels"] == {
        "node.kubernetes.io/instance-type": "t3.large",
        "role": "loadbalancer",
        "topology.kubernetes.io/region": "eu-west-1",
        "topology.kubernetes.io/zone": "eu-west-1b",
    }


def test_host_keys_are_checked_against_the_workspace_known_hosts() -> None:
    """Kubespray's ansible.cfg disables host key checking; the inventory turns it back on."""
    variables = _documents(_load("baremetal-ha"))[HOSTS_FILE]["all"]["vars"]
    assert variables["ansible_host_key_checking"] is True
    args = shlex.split(variables["ansible_ssh_args"])
    assert "UserKnownHostsFile=/work space/100%%/known_hosts" in args  # ssh expands %-tokens
    assert "StrictHostKeyChecking=yes" in args
    assert not any("/dev/null" in a or "StrictHostKeyChecking=no" in a for a in args)
    assert variables["ansible_ssh_private_key_file"] == str(Path("~/.ssh/id_ed25519").expanduser())
    assert "ansible_ssh_common_args" not in variables  # no bastion, no proxy


def test_bastion_is_named_bastion_and_its_jump_verifies_keys_too() -> None:
    spec = _load("aws-3az")
    spec = spec.model_copy(
        update={"bastion": Bastion(address="203.0.113.10", user="ec2-user", port=2222, key="/k/b key")}
    )
    inventory = _documents(spec)[HOSTS_FILE]["all"]
    assert inventory["children"]["bastion"] == {"hosts": {"bastion": {}}}
    assert inventory["hosts"]["bastion"] == {
        "ansible_host": "203.0.113.10",
        "ansible_user": "ec2-user",
        "ansible_port": 2222,
        "ansible_ssh_common_args": "",
        "ansible_ssh_private_key_file": "/k/b key",
    }
    option, proxy = shlex.split(inventory["vars"]["ansible_ssh_common_args"])
    assert option == "-o"
    assert proxy.startswith("ProxyCommand=")
    jump = shlex.split(proxy.removeprefix("ProxyCommand="))  # what /bin/sh will run
    assert jump == [
        "ssh",
        "-o", "UserKnownHostsFile=/work space/100%%/known_hosts",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes",
        "-i", "/k/b key",
        "-p", "2222",
        "-W", "%h:%p",
        "ec2-user@203.0.113.10",
    ]  # fmt: skip


def test_python_interpreter_from_the_spec_or_from_preflight() -> None:
    spec = _load("lab")
    hosts = [
        h.model_copy(update={"python_interpreter": "/opt/py/bin/python3"}) if h.name == "lab2" else h
        for h in spec.hosts
    ]
    spec = spec.model_copy(update={"hosts": hosts})
    # The preflight phase's data: the interpreter it chose per host.
    results = {
        "preflight": {"python_interpreters": {"lab1": "/usr/bin/python3.11", "lab2": "/usr/bin/python3"}}
    }
    rendered = _documents(spec, results)[HOSTS_FILE]["all"]["hosts"]
    assert rendered["lab1"]["ansible_python_interpreter"] == "/usr/bin/python3.11"
    assert rendered["lab2"]["ansible_python_interpreter"] == "/opt/py/bin/python3"  # the spec wins
    assert "ansible_python_interpreter" not in rendered["lab3"]  # nothing found: Ansible discovers


def test_group_vars_carry_the_choices() -> None:
    spec = _load("baremetal-ha")
    options = spec.kubespray.model_copy(
        update={
            "http_proxy": "http://proxy:3128",
            "no_proxy": ".corp",
            "network_plugin": "cilium",
            "extra_vars": {"kube_proxy_strict_arp": True, "kube_network_plugin": "flannel"},
        }
    )
    spec = spec.model_copy(
        update={"kubespray": options, "storage": spec.storage.model_copy(update={"type": "local-path"})}
    )
    documents = _documents(spec)
    assert documents[ALL_VARS_FILE] == {
        "loadbalancer_apiserver_localhost": True,
        "http_proxy": "http://proxy:3128",
        "additional_no_proxy": ".corp",
        "kube_proxy_strict_arp": True,
    }
    assert documents[K8S_VARS_FILE] == {
        "kube_version": "1.35.4",
        "kube_network_plugin": "flannel",  # extra_vars win, in the file where kwizard sets the key
        "container_manager": "containerd",
        "kube_pods_subnet": "10.233.64.0/18",
        "kube_service_addresses": "10.233.0.0/18",
        "kubeconfig_localhost": True,
        "local_path_provisioner_enabled": True,
    }


def test_ebs_csi_only_on_aws_with_ebs_storage() -> None:
    assert _documents(_load("aws-3az"))[K8S_VARS_FILE]["aws_ebs_csi_enabled"] is True
    assert "aws_ebs_csi_enabled" not in _documents(_load("baremetal-ha"))[K8S_VARS_FILE]


def test_without_workers_the_control_plane_is_the_node_group() -> None:
    spec = ClusterSpec(
        name="tiny",
        hosts=[Host(name="solo", address="192.0.2.5", roles=["control_plane", "etcd"])],
    )
    children = _documents(spec)[HOSTS_FILE]["all"]["children"]
    assert children["kube_node"] == {"hosts": {"solo": {}}}


def test_dns_name_without_ip_leaves_binding_to_kubespray() -> None:
    spec = ClusterSpec(
        name="dns",
        hosts=[
            Host(
                name="n1",
                address="n1.example.com",
                roles=["control_plane", "etcd", "worker"],
                port=2200,
                user="ops",
            )
        ],
    )
    host = _documents(spec)[HOSTS_FILE]["all"]["hosts"]["n1"]
    assert host == {
        "ansible_host": "n1.example.com",
        "ansible_user": "ops",
        "ansible_port": 2200,
        "etcd_member_name": "n1",
    }


def test_an_external_api_load_balancer_replaces_the_local_nginx_proxy(tmp_path: Path) -> None:
    spec = preset.load(PRESETS / "baremetal-ha.yaml")
    assert group_vars(spec)[0]["loadbalancer_apiserver_localhost"] is True
    external = {"address": "10.0.0.100", "port": 6443}
    spec = spec.model_copy(
        update={
            "kubespray": spec.kubespray.model_copy(
                update={"extra_vars": {"loadbalancer_apiserver": external}}
            )
        }
    )
    all_vars, _ = group_vars(spec)
    assert all_vars["loadbalancer_apiserver"] == external
    assert "loadbalancer_apiserver_localhost" not in all_vars  # Kubespray: the two exclude each other
