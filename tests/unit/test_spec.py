"""ClusterSpec validation: each invalid spec is refused with a message naming the key and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from kwizard import preset as presets
from kwizard.errors import InputError, PresetError
from kwizard.spec import ClusterSpec, Host


def spec_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": 1,
        "name": "demo",
        "hosts": [
            {"name": "cp1", "address": "10.0.0.1", "roles": ["control_plane", "etcd"]},
            {"name": "w1", "address": "10.0.0.2", "roles": ["worker"]},
        ],
    }
    data.update(changes)
    return data


def host(name: str, address: str, *roles: str) -> dict[str, Any]:
    return {"name": name, "address": address, "roles": list(roles)}


INVALID: list[tuple[str, dict[str, Any], str]] = [
    (
        "bad IPv4",
        spec_data(hosts=[host("cp1", "10.0.0.300", "control_plane", "etcd")]),
        "hosts[0].address: '10.0.0.300' is not a valid IP address",
    ),
    (
        "bad host name",
        spec_data(hosts=[host("Node_1", "10.0.0.1", "control_plane", "etcd")]),
        "hosts[0].name: 'Node_1' is not a valid host name",
    ),
    (
        "duplicate name",
        spec_data(hosts=[host("a", "10.0.0.1", "control_plane", "etcd"), host("a", "10.0.0.2", "worker")]),
        "duplicate host name 'a'",
    ),
    (
        "duplicate address",
        spec_data(hosts=[host("a", "10.0.0.1", "control_plane", "etcd"), host("b", "10.0.0.1", "worker")]),
        "duplicate host address '10.0.0.1'",
    ),
    (
        "no control plane",
        spec_data(hosts=[host("a", "10.0.0.1", "etcd", "worker")]),
        "no host has the control_plane role",
    ),
    (
        "even etcd",
        spec_data(hosts=[host("a", "10.0.0.1", "control_plane", "etcd"), host("b", "10.0.0.2", "etcd")]),
        "2 hosts have the etcd role: etcd needs an odd count",
    ),
    ("no etcd", spec_data(hosts=[host("a", "10.0.0.1", "control_plane")]), "no host has the etcd role"),
    (
        "unknown key",
        spec_data(hosts=[{**host("a", "10.0.0.1", "control_plane", "etcd"), "rolez": []}]),
        "hosts[0].rolez: unknown key 'rolez'",
    ),
    (
        "unknown role",
        spec_data(hosts=[host("a", "10.0.0.1", "control_plane", "etcd", "boss")]),
        "hosts[0].roles[2]",
    ),
    ("bad port", spec_data(ssh={"port": 70000}), "ssh.port: Input should be less than or equal to 65535"),
    (
        "bad cidr",
        spec_data(kubespray={"pods_subnet": "10.233.64.0/33"}),
        "kubespray.pods_subnet: '10.233.64.0/33' is not a valid network range",
    ),
    (
        "overlapping cidrs",
        spec_data(kubespray={"pods_subnet": "10.233.0.0/16"}),
        "pods_subnet 10.233.0.0/16 overlaps service_addresses 10.233.0.0/18",
    ),
    (
        "kube_version with v",
        spec_data(kubespray={"kube_version": "v1.35.4"}),
        "wants kube_version without the 'v'",
    ),
    (
        "nodeport out of range",
        spec_data(loadbalancer={"http_node_port": 80}),
        "loadbalancer.http_node_port: Input should be greater than or equal to 30000",
    ),
    (
        "same nodeports",
        spec_data(loadbalancer={"http_node_port": 30800, "https_node_port": 30800}),
        "http_node_port and https_node_port must differ",
    ),
    (
        "boolean as string",
        spec_data(apps={"grafana": "yes"}),
        "apps.grafana: Input should be a valid boolean",
    ),
    ("unknown target", spec_data(target="gcp"), "target: Input should be 'baremetal' or 'aws'"),
    ("bad cluster name", spec_data(name="My Cluster"), "name: 'My Cluster' is not a valid cluster name"),
    (
        "too few storage hosts",
        spec_data(
            hosts=[host("a", "10.0.0.1", "control_plane", "etcd", "storage")], storage={"type": "gluster"}
        ),
        "replicas is 3 but only 1 hosts have the storage role",
    ),
    ("env var name", spec_data(ssh={"password_env": "NOT A NAME"}), "is not an environment variable name"),
]


@pytest.mark.parametrize(("case", "data", "expected"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_specs_are_refused_with_the_key_and_reason(case: str, data: dict[str, Any], expected: str):
    text = presets.yaml.safe_dump(data)
    with pytest.raises(PresetError) as caught:
        presets.parse(text, "p.yaml")
    assert expected in caught.value.problem
    assert caught.value.problem.startswith("p.yaml:")
    assert caught.value.exit_code == 2


def test_valid_spec_defaults_and_views():
    spec = ClusterSpec.model_validate(spec_data())
    assert [h.name for h in spec.hosts_with("control_plane")] == ["cp1"]
    assert spec.ssh_user(spec.hosts[0]) == "root"
    assert spec.bind_ip(spec.hosts[0]) == "10.0.0.1"
    assert spec.phases[0] == "discover"
    assert spec.kubespray.version == "v2.31.0"


def test_dns_names_are_addresses_but_digit_strings_must_be_ips():
    assert Host(name="a", address="Node1.Example.com").address == "node1.example.com"
    assert Host(name="a", address="::1").address == "::1"
    with pytest.raises(ValueError, match="not a valid IP address"):
        Host(name="a", address="1.2.3")


def test_roles_are_stored_in_canonical_order_and_not_twice():
    assert Host(name="a", address="10.0.0.1", roles=["worker", "etcd"]).roles == ["etcd", "worker"]
    with pytest.raises(ValueError, match="listed twice"):
        Host(name="a", address="10.0.0.1", roles=["etcd", "etcd"])


def test_updated_validates_the_whole_spec():
    spec = ClusterSpec.model_validate(spec_data())
    changed = spec.updated(target="aws")
    assert changed.target == "aws" and spec.target == "baremetal"
    with pytest.raises(InputError) as caught:
        spec.updated(hosts=[Host(name="x", address="10.0.0.9", roles=["worker"])])
    assert "no host has the control_plane role" in caught.value.problem


def test_phases_are_kept_in_pipeline_order():
    spec = ClusterSpec.model_validate(spec_data(phases=["storage", "access"]))
    assert spec.phases == ["access", "storage"]
