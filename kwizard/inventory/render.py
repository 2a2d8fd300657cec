"""ClusterSpec → the Ansible inventory Kubespray reads: `hosts.yaml` and kwizard's group_vars files.

Pure functions of the spec (plus preflight findings): no clock, no randomness, stable key order, so the
same spec always yields byte-identical files and the Review screen can show an honest diff.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kwizard import yamlout
from kwizard.protocol.outputs import PreflightOutput
from kwizard.spec import ClusterSpec, Host

HOSTS_FILE = "hosts.yaml"
ALL_VARS_FILE = "group_vars/all/kwizard.yml"
K8S_VARS_FILE = "group_vars/k8s_cluster/kwizard.yml"
GENERATED_FILES: tuple[str, ...] = (HOSTS_FILE, ALL_VARS_FILE, K8S_VARS_FILE)

BASTION_NAME = "bastion"  # Kubespray recognises the jump host by this exact inventory name
LOADBALANCER_GROUP = "kwizard_loadbalancer"
GLUSTER_GROUP = "gfs_cluster"
# Label of the nodes that carry the HA ingress load balancer (DESIGN.md §4).
LOADBALANCER_LABEL = ("role", "loadbalancer")
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
_AWS_ZONE = re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d+)[a-z]$")

# Kubespray's ansible.cfg sets `ssh_args` with UserKnownHostsFile=/dev/null and host_key_checking=False.
# ssh keeps the first value it sees for an option and ansible puts ssh_args first, so the only way to
# really verify host keys is to replace ssh_args itself (a variable beats ansible.cfg and the environment).
# The rest matches what kwizard's runner sets: connection reuse that does not outlive a run by long, and
# few connection attempts (Kubespray's 100 would make a host that went away hang for minutes).
SSH_ARGS = "-C -o ControlMaster=auto -o ControlPersist=60s -o ConnectionAttempts=3 -o ServerAliveInterval=15"


@dataclass(frozen=True)
class InventoryFiles:
    """The generated files: path relative to the inventory directory → text."""

    files: dict[str, str]

    def __getitem__(self, relative: str) -> str:
        return self.files[relative]


def render(spec: ClusterSpec, known_hosts: Path, results: Mapping[str, Any] | None = None) -> InventoryFiles:
    """All files of the inventory of `spec`, as text."""
    header = _header(spec)
    all_vars, k8s_vars = group_vars(spec)
    return InventoryFiles(
        {
            HOSTS_FILE: header + _dump(hosts_document(spec, known_hosts, results or {})),
            ALL_VARS_FILE: header
            + "# Settings for every host (Kubespray's defaults apply to the rest).\n"
            + _dump(all_vars),
            K8S_VARS_FILE: header + "# Settings for the Kubernetes nodes (k8s_cluster).\n" + _dump(k8s_vars),
        }
    )


def _header(spec: ClusterSpec) -> str:
    return (
        f"# Written by kwizard from preset {spec.name!r}; kwizard rewrites this file on every run.\n"
        f"# Change the preset (kwizard --preset … or the wizard), not this file.\n"
    )


def _dump(data: dict[str, Any]) -> str:
    # Every string that could be Jinja is tagged !unsafe: nothing from a preset is ever evaluated.
    return "---\n" + yamlout.dump(data, unsafe=True)


def k8s_hosts(spec: ClusterSpec) -> list[Host]:
    """Hosts in Kubespray's k8s_cluster (control plane and nodes), in spec order."""
    return [h for h in spec.hosts if h.has("control_plane") or h.has("worker")]


def node_hosts(spec: ClusterSpec) -> list[Host]:
    """kube_node: the workers; without any worker the control plane runs the workloads too."""
    workers = spec.hosts_with("worker")
    return workers or spec.hosts_with("control_plane")


def hosts_document(spec: ClusterSpec, known_hosts: Path, results: Mapping[str, Any]) -> dict[str, Any]:
    """The content of hosts.yaml as a dict (YAML inventory format)."""
    hosts: dict[str, Any] = {h.name: host_vars(spec, h, results) for h in spec.hosts}
    children: dict[str, Any] = {
        "kube_control_plane": _group(spec.hosts_with("control_plane")),
        "kube_node": _group(node_hosts(spec)),
        "etcd": _group(spec.hosts_with("etcd")),
        # Kubespray derives k8s_cluster at run time (roles/dynamic_groups); declaring it too changes nothing
        # for Kubespray but lets `ansible-inventory --list` apply group_vars/k8s_cluster when validating.
        "k8s_cluster": {"children": {"kube_control_plane": {}, "kube_node": {}}},
    }
    if spec.bastion is not None:
        hosts[BASTION_NAME] = bastion_vars(spec)
        children["bastion"] = {"hosts": {BASTION_NAME: {}}}
    balancers = [h for h in spec.hosts_with("loadbalancer")]
    if balancers:
        children[LOADBALANCER_GROUP] = _group(balancers)
    if spec.storage.type == "gluster" and spec.hosts_with("storage"):
        children[GLUSTER_GROUP] = _group(spec.hosts_with("storage"))
    return {"all": {"vars": connection_vars(spec, known_hosts), "hosts": hosts, "children": children}}


def _group(members: list[Host]) -> dict[str, Any]:
    return {"hosts": {h.name: {} for h in members}}


def connection_vars(spec: ClusterSpec, known_hosts: Path) -> dict[str, Any]:
    """How Ansible reaches every host: the key, and host keys checked against the workspace known_hosts."""
    known = _ssh_path(known_hosts)
    data: dict[str, Any] = {
        "ansible_ssh_private_key_file": str(key_path(spec)),
        "ansible_host_key_checking": True,
        "ansible_ssh_args": (
            f"{SSH_ARGS} -o UserKnownHostsFile={shlex.quote(known)} -o StrictHostKeyChecking=yes "
            "-o HashKnownHosts=no"
        ),
    }
    if spec.bastion is not None:
        data["ansible_ssh_common_args"] = proxy_args(spec, known_hosts)
    return data


def key_path(spec: ClusterSpec) -> Path:
    return Path(spec.ssh.key).expanduser()


def proxy_args(spec: ClusterSpec, known_hosts: Path) -> str:
    """ansible_ssh_common_args that reach a host through the bastion, verifying the bastion's key too.

    Replaces Kubespray's default, which jumps with UserKnownHostsFile=/dev/null and
    StrictHostKeyChecking=no. Two levels of quoting: ansible splits the value with shlex, then ssh runs
    ProxyCommand through /bin/sh; '%' is doubled because ssh expands %-tokens in both.
    """
    assert spec.bastion is not None
    bastion = spec.bastion
    key = Path(bastion.key).expanduser() if bastion.key else key_path(spec)
    command = [
        "ssh",
        "-o", f"UserKnownHostsFile={_ssh_path(known_hosts)}",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes",
        "-i", _ssh_path(key),
        "-p", str(bastion.port),
        "-W", "%h:%p",
        f"{bastion.user or spec.ssh.user}@{bastion.address}",
    ]  # fmt: skip
    return "-o " + shlex.quote("ProxyCommand=" + shlex.join(command))


def _ssh_path(path: Path) -> str:
    return str(path).replace("%", "%%")


def bastion_vars(spec: ClusterSpec) -> dict[str, Any]:
    assert spec.bastion is not None
    bastion = spec.bastion
    data: dict[str, Any] = {
        "ansible_host": bastion.address,
        "ansible_user": bastion.user or spec.ssh.user,
        "ansible_port": bastion.port,
        "ansible_ssh_common_args": "",  # the jump host itself is reached directly
    }
    if bastion.key:
        data["ansible_ssh_private_key_file"] = str(Path(bastion.key).expanduser())
    return data


def host_vars(spec: ClusterSpec, host: Host, results: Mapping[str, Any]) -> dict[str, Any]:
    """Per-host variables: connection, Kubespray's ip/access_ip, labels and storage settings."""
    data: dict[str, Any] = {"ansible_host": host.address}
    bind_ip = spec.bind_ip(host)
    if bind_ip:
        data["ip"] = bind_ip
        data["access_ip"] = bind_ip
    data["ansible_user"] = spec.ssh_user(host)
    data["ansible_port"] = spec.ssh_port(host)
    if host.has("etcd"):
        # Kubespray's default is etcd<N> by position: reordering hosts would rename members of a live etcd.
        data["etcd_member_name"] = host.name
    interpreter = host.python_interpreter or preflight_python(results, host.name)
    if interpreter:
        data["ansible_python_interpreter"] = interpreter
    labels = node_labels(spec, host)
    if labels:
        data["node_labels"] = labels
    if spec.storage.type == "gluster" and host.has("storage"):
        if host.storage_device:
            data["kwizard_storage_device"] = host.storage_device
        data["kwizard_brick_dir"] = spec.storage.gluster.brick_dir
    return data


def node_labels(spec: ClusterSpec, host: Host) -> dict[str, str]:
    """Labels the kubelet registers the node with (Kubespray's `node_labels`), sorted for stable output."""
    if not (host.has("control_plane") or host.has("worker")):
        return {}
    labels: dict[str, str] = {}
    if host.az:
        labels[ZONE_LABEL] = host.az
        region = _AWS_ZONE.match(host.az) if spec.target == "aws" else None
        if region:
            labels[REGION_LABEL] = region.group(1)
    if host.instance_type:
        labels[INSTANCE_TYPE_LABEL] = host.instance_type
    if spec.loadbalancer.enabled and host.has("loadbalancer"):
        labels[LOADBALANCER_LABEL[0]] = LOADBALANCER_LABEL[1]
    return dict(sorted(labels.items()))


def preflight_python(results: Mapping[str, Any], host_name: str) -> str | None:
    """The interpreter preflight chose for the host (None when preflight did not run or found none)."""
    preflight = PreflightOutput.of(results)
    return preflight.interpreter(host_name) if preflight else None


def group_vars(spec: ClusterSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(group_vars/all, group_vars/k8s_cluster) with the spec's choices; extra_vars override them.

    An extra var goes to the file where kwizard sets the same key (so it wins there, as group_vars of
    k8s_cluster beat those of all), otherwise to all, so it reaches every host.
    """
    options = spec.kubespray
    all_vars: dict[str, Any] = {}
    if "loadbalancer_apiserver" not in options.extra_vars:
        # nginx on every node proxies the API servers: HA without an external load balancer. Kubespray
        # documents it as exclusive with an external `loadbalancer_apiserver`, so only without one.
        all_vars["loadbalancer_apiserver_localhost"] = True
    if options.http_proxy:
        all_vars["http_proxy"] = options.http_proxy
    if options.https_proxy:
        all_vars["https_proxy"] = options.https_proxy
    if options.no_proxy:
        # Appended to the no_proxy Kubespray computes (nodes, service and pod ranges), not replacing it.
        all_vars["additional_no_proxy"] = options.no_proxy
    k8s_vars: dict[str, Any] = {
        "kube_version": options.kube_version,
        "kube_network_plugin": options.network_plugin,
        "container_manager": options.container_manager,
        "kube_pods_subnet": options.pods_subnet,
        "kube_service_addresses": options.service_addresses,
        "kubeconfig_localhost": True,  # admin.conf lands in the inventory's artifacts/ for the laptop
    }
    if spec.storage.type == "local-path":
        k8s_vars["local_path_provisioner_enabled"] = True
    if spec.target == "aws" and spec.storage.type == "aws-ebs":
        k8s_vars["aws_ebs_csi_enabled"] = True
    for key in sorted(options.extra_vars):
        (k8s_vars if key in k8s_vars else all_vars)[key] = options.extra_vars[key]
    return all_vars, k8s_vars


def effective_vars(spec: ClusterSpec) -> dict[str, Any]:
    """What Kubespray will see on a k8s_cluster host from kwizard's files (all, overridden by k8s_cluster)."""
    all_vars, k8s_vars = group_vars(spec)
    return {**all_vars, **k8s_vars}
