"""Each spec Kubespray would reject is refused before any run, with a message naming the spec field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kwizard import preset
from kwizard.errors import InputError
from kwizard.inventory.checks import check_spec, raise_for_problems
from kwizard.spec import ClusterSpec, Host

PRESETS = Path(__file__).resolve().parents[2] / "presets"


@pytest.fixture(scope="module")
def base() -> ClusterSpec:
    return preset.load(PRESETS / "baremetal-ha.yaml")


# Specs are changed with model_copy/model_construct on purpose: that is how code (forms, migrations)
# can produce a spec pydantic never validated, and the inventory checks must still catch it.
def _hosts(spec: ClusterSpec, change: Callable[[list[Host]], list[Host]]) -> ClusterSpec:
    return spec.model_copy(update={"hosts": change([h.model_copy() for h in spec.hosts])})


def _roles(name: str, roles: list[str]) -> Callable[[list[Host]], list[Host]]:
    def change(hosts: list[Host]) -> list[Host]:
        return [h.model_copy(update={"roles": roles}) if h.name == name else h for h in hosts]

    return change


def _kubespray(spec: ClusterSpec, **update: Any) -> ClusterSpec:
    return spec.model_copy(update={"kubespray": spec.kubespray.model_copy(update=update)})


def _extra(spec: ClusterSpec, **extra_vars: Any) -> ClusterSpec:
    return _kubespray(spec, extra_vars=extra_vars)


def _added(host: Host) -> Callable[[list[Host]], list[Host]]:
    return lambda hosts: [*hosts, host]


CASES: list[tuple[str, Callable[[ClusterSpec], ClusterSpec], str, str]] = [
    (
        "empty control plane",
        lambda s: _hosts(
            s,
            lambda hs: [
                h.model_copy(update={"roles": [r for r in h.roles if r != "control_plane"]}) for h in hs
            ],
        ),
        "hosts[].roles",
        "Stop if kube_control_plane group is empty",
    ),
    (
        "even etcd count",
        lambda s: _hosts(s, _roles("cp3", ["control_plane"])),
        "hosts[].roles",
        "2 hosts have the etcd role",
    ),
    (
        "no etcd",
        lambda s: _hosts(
            s, lambda hs: [h.model_copy(update={"roles": [r for r in h.roles if r != "etcd"]}) for h in hs]
        ),
        "hosts[].roles",
        "Group 'etcd' cannot be empty",
    ),
    (
        "upper-case host name",
        lambda s: _hosts(
            s, _added(Host.model_construct(name="Worker_4", address="10.0.0.24", roles=["worker"]))
        ),
        "hosts[9].name",
        "Hostname must consist of lower case alphanumeric characters",
    ),
    (
        "host name label over 63 characters",
        lambda s: _hosts(
            s, _added(Host.model_construct(name="w" * 64, address="10.0.0.24", roles=["worker"]))
        ),
        "hosts[9].name",
        "63 characters",
    ),
    (
        "host named bastion",
        lambda s: _hosts(s, _added(Host(name="bastion", address="10.0.0.24", roles=["worker"]))),
        "hosts[9].name",
        "'bastion' is reserved",
    ),
    (
        "duplicate host name",
        lambda s: _hosts(s, _added(Host(name="worker1", address="10.0.0.24", roles=["worker"]))),
        "hosts[].name",
        "'worker1' is used by more than one host",
    ),
    (
        "duplicate bind ip",
        lambda s: _hosts(
            s, _added(Host(name="worker4", address="w4.example.com", ip="10.0.0.21", roles=["worker"]))
        ),
        "hosts[].ip",
        "10.0.0.21 is the bind address (ip) of more than one host",
    ),
    (
        "Kubernetes newer than Kubespray supports",
        lambda s: _kubespray(s, kube_version="1.36.0"),
        "kubespray.kube_version",
        "Kubernetes 1.36.0 is not supported by Kubespray v2.31.0, which supports "
        "1.33.0-1.33.11, 1.34.0-1.34.7, 1.35.0-1.35.4",
    ),
    (
        "Kubernetes older than Kubespray supports",
        lambda s: _kubespray(s, kube_version="1.32.9"),
        "kubespray.kube_version",
        "Kubernetes 1.32.9 is not supported by Kubespray v2.31.0",
    ),
    (
        "patch release Kubespray has no checksums for",
        lambda s: _kubespray(s, kube_version="1.34.8"),
        "kubespray.kube_version",
        "Kubernetes 1.34.8 is not supported",
    ),
    (
        "kube_version with a v in extra_vars",
        lambda s: _extra(s, kube_version="v1.35.4"),
        "kubespray.extra_vars.kube_version",
        "without a 'v'",
    ),
    (
        "overlapping pod and service ranges",
        lambda s: _kubespray(s, pods_subnet="10.233.0.0/17"),
        "kubespray.pods_subnet",
        "kube_pods_subnet cannot be the same network segment as kube_service_addresses",
    ),
    (
        "pod range too small for the nodes (flannel: one range per node)",
        lambda s: _kubespray(s, pods_subnet="10.233.64.0/22", network_plugin="flannel"),
        "kubespray.pods_subnet",
        "room for 4 node ranges of /24 but the cluster has 6 nodes",
    ),
    (
        "pod range not a network",
        lambda s: _kubespray(s, pods_subnet="10.233.64.1/18"),
        "kubespray.pods_subnet",
        "is not a valid network range",
    ),
    (
        "pod range holding the hosts' addresses",
        lambda s: _kubespray(s, pods_subnet="10.0.0.0/16"),
        "kubespray.pods_subnet",
        "contains the address of cp1 (10.0.0.11), cp2 (10.0.0.12), cp3 (10.0.0.13) and 6 more",
    ),
    (
        "boolean as a string",
        lambda s: _extra(s, download_run_once="true"),
        "kubespray.extra_vars.download_run_once",
        "Stop if known booleans are set as strings",
    ),
    (
        "an _enabled switch as a string",
        lambda s: _extra(s, metallb_enabled="false"),
        "kubespray.extra_vars.metallb_enabled",
        "a quoted 'false' counts as true",
    ),
    (
        "ingress-nginx (removed in v2.31.0)",
        lambda s: _extra(s, ingress_nginx_enabled=True),
        "kubespray.extra_vars.ingress_nginx_enabled",
        "removed in Kubespray v2.31.0",
    ),
    (
        "in-tree AWS cloud provider",
        lambda s: _extra(s, cloud_provider="aws"),
        "kubespray.extra_vars.cloud_provider",
        "in-tree cloud providers were removed in Kubernetes 1.31",
    ),
    (
        "external cloud provider aws",
        lambda s: _extra(s, cloud_provider="external", external_cloud_provider="aws"),
        "kubespray.extra_vars.external_cloud_provider",
        "there is no aws",
    ),
    (
        "bootstrap_os variable",
        lambda s: _extra(s, bootstrap_os="ubuntu"),
        "kubespray.extra_vars.bootstrap_os",
        "bootstrap_os was removed in Kubespray 2.8",
    ),
    (
        "kubelet_static_pod_path (removed in v2.31.0)",
        lambda s: _extra(s, kubelet_static_pod_path="/etc/kubernetes/manifests"),
        "kubespray.extra_vars.kubelet_static_pod_path",
        "Fail if removed variables are used",
    ),
    (
        "unsupported network plugin",
        lambda s: _extra(s, kube_network_plugin="weave"),
        "kubespray.extra_vars.kube_network_plugin",
        "The selected choice is not supported",
    ),
    (
        "unsupported proxy mode",
        lambda s: _extra(s, kube_proxy_mode="userspace"),
        "kubespray.extra_vars.kube_proxy_mode",
        "it accepts iptables, ipvs, nftables",
    ),
    (
        "download_localhost without download_run_once",
        lambda s: _extra(s, download_localhost=True),
        "kubespray.extra_vars.download_localhost",
        "download_localhost requires enable download_run_once",
    ),
    (
        "more pods per node than addresses",
        lambda s: _extra(s, kube_network_plugin="flannel", kubelet_max_pods=300),
        "kubespray.extra_vars.kubelet_max_pods",
        "Do not schedule more pods on a node than inet addresses are available",
    ),
    (
        "proxy that is not a URL",
        lambda s: _kubespray(s, http_proxy="proxy:3128"),
        "kubespray.http_proxy",
        "not a proxy URL",
    ),
    (
        "EBS storage on bare metal",
        lambda s: s.model_copy(update={"storage": s.storage.model_copy(update={"type": "aws-ebs"})}),
        "storage.type",
        "aws-ebs storage needs target: aws",
    ),
    (
        "gluster without storage hosts",
        lambda s: _hosts(s, lambda hs: [h for h in hs if not h.has("storage")]),
        "hosts[].roles",
        "storage.type is gluster but no host has the storage role",
    ),
    (
        "load balancer on a host that is no node",
        lambda s: _hosts(s, _roles("gluster1", ["loadbalancer", "storage"])),
        "hosts[6].roles",
        "gluster1 has the loadbalancer role but is not a Kubernetes node",
    ),
    ("no hosts", lambda s: s.model_copy(update={"hosts": []}), "hosts", "the spec has no hosts"),
    (
        "Kubespray version that is no tag name",
        lambda s: _kubespray(s, version="../../etc"),
        "kubespray.version",
        "is not a Kubespray release tag",
    ),
]


@pytest.mark.parametrize(("mutate", "field", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_spec_is_rejected_with_the_expected_message(
    base: ClusterSpec, mutate: Callable[[ClusterSpec], ClusterSpec], field: str, message: str
) -> None:
    problems = check_spec(mutate(base))
    errors = [p for p in problems if p.severity == "error"]
    assert any(p.field == field and message in p.message for p in errors), [p.text() for p in problems]
    with pytest.raises(InputError) as raised:
        raise_for_problems(problems)
    assert field in raised.value.problem
    assert raised.value.exit_code == 2


def test_every_case_starts_from_a_spec_without_errors(base: ClusterSpec) -> None:
    assert [p for p in check_spec(base) if p.severity == "error"] == []


def test_warnings_do_not_stop_a_run(base: ClusterSpec) -> None:
    no_workers = _hosts(base, lambda hs: [h for h in hs if not h.has("worker")])
    problems = check_spec(no_workers)
    assert [p.severity for p in problems] == ["warning"]
    assert "control plane hosts are put in kube_node" in problems[0].message
    raise_for_problems(problems)  # must not raise


def test_unknown_kubespray_version_is_a_warning_not_a_guess(base: ClusterSpec) -> None:
    problems = check_spec(_kubespray(base, version="v2.99.0"))
    assert [(p.field, p.severity) for p in problems] == [("kubespray.version", "warning")]


def test_a_checkout_refines_the_supported_versions(base: ClusterSpec, tmp_path: Path) -> None:
    """A user's checkout is the authority: its checksums list decides, not kwizard's table."""
    checksums = tmp_path / "roles/kubespray_defaults/vars/main/checksums.yml"
    checksums.parent.mkdir(parents=True)
    checksums.write_text("kubelet_checksums:\n  amd64:\n    1.36.1: abc\n    1.36.0: def\n")
    newer = _kubespray(base, kube_version="1.36.1")
    assert [p for p in check_spec(newer, tmp_path) if p.severity == "error"] == []
    problems = check_spec(base, tmp_path)  # 1.35.4 is not in that checkout
    assert any("which supports 1.36.0-1.36.1" in p.message for p in problems)


def test_several_errors_are_reported_together(base: ClusterSpec) -> None:
    broken = _extra(_kubespray(base, kube_version="1.30.0"), bootstrap_os="ubuntu")
    with pytest.raises(InputError) as raised:
        raise_for_problems(check_spec(broken))
    assert raised.value.title == "Inventory is not valid"
    assert "kubespray.kube_version" in raised.value.problem
    assert "kubespray.extra_vars.bootstrap_os" in raised.value.problem


def test_calico_hands_out_blocks_as_needed_so_many_nodes_fit_the_default_range(base: ClusterSpec) -> None:
    # 3 control planes + 70 workers on the default /18: more nodes than /24 ranges, which Kubespray
    # checks for every plugin but calico.
    workers = [Host(name=f"w{i}", address=f"10.0.1.{i}", roles=["worker"]) for i in range(1, 71)]
    spec = _hosts(base, lambda hs: [h for h in hs if h.has("control_plane") or h.has("storage")] + workers)
    assert spec.kubespray.network_plugin == "calico"
    assert [p for p in check_spec(spec) if p.severity == "error"] == []
    flannel = _kubespray(spec, network_plugin="flannel")
    assert any("room for 64 node ranges" in p.message for p in check_spec(flannel))
