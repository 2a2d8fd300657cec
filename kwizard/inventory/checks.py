"""Validation of a spec's inventory before anything runs: what Kubespray's asserts would reject, and more.

Kubespray checks its inventory only once a play is under way (roles/validate_inventory, then the
preinstall asserts after fact gathering) and names the variable, not where the user set it. These checks
run in milliseconds on the spec itself and point at the spec field to change. The spec model already
refuses much of this on load, but a spec built in code (model_copy, the wizard's forms) skips pydantic,
so every rule is checked again here.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kwizard.errors import InputError
from kwizard.inventory.render import BASTION_NAME, effective_vars, k8s_hosts
from kwizard.kubespray.checkout import VERSION_NAME, user_dir
from kwizard.kubespray.releases import KubesprayRelease, release
from kwizard.options import RunOptions
from kwizard.spec import ClusterSpec, is_rfc1123

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding: the spec field it concerns, what is wrong, and what to do."""

    field: str
    message: str
    fix: str = ""
    severity: Severity = "error"

    def text(self) -> str:
        return f"{self.field}: {self.message}" + (f" — {self.fix}" if self.fix else "")


# Kubespray's "Stop if unsupported options selected" (roles/validate_inventory), by variable.
SUPPORTED_CHOICES: dict[str, tuple[str, ...]] = {
    "kube_network_plugin": (
        "calico", "flannel", "cloud", "cilium", "cni", "kube-ovn", "kube-router", "macvlan", "custom_cni",
        "none",
    ),
    "dns_mode": ("coredns", "coredns_dual", "manual", "none"),
    "kube_proxy_mode": ("iptables", "ipvs", "nftables"),
    "cert_management": ("script", "none"),
    "resolvconf_mode": ("docker_dns", "host_resolvconf", "none"),
    "etcd_deployment_type": ("host", "docker", "kubeadm"),
    "container_manager": ("docker", "crio", "containerd"),
}  # fmt: skip
# Where kwizard sets the variable itself, a user should change the spec field instead.
SPEC_FIELD_OF_VAR: dict[str, str] = {
    "kube_version": "kubespray.kube_version",
    "kube_network_plugin": "kubespray.network_plugin",
    "container_manager": "kubespray.container_manager",
    "kube_pods_subnet": "kubespray.pods_subnet",
    "kube_service_addresses": "kubespray.service_addresses",
}
# Variables Kubespray tests with `type_debug == 'bool'` or uses as booleans, plus the name patterns of its
# switches: a quoted "true" there is a string, and Kubespray refuses or misreads it.
KNOWN_BOOLEANS = frozenset(
    {
        "download_run_once", "download_always_pull", "download_localhost", "download_force_cache",
        "helm_enabled", "openstack_lbaas_enabled", "kubeconfig_localhost", "kubectl_localhost",
        "kubeconfig_localhost_ansible_host", "kube_proxy_strict_arp", "ignore_assert_errors",
        "loadbalancer_apiserver_localhost", "ping_access_ip", "override_system_hostname",
        "kubelet_fail_swap_on", "allow_unsupported_distribution_setup", "ipv4_stack", "ipv6_stack",
        "auto_renew_certificates", "kube_external_ca_mode", "persistent_volumes_enabled",
    }
)  # fmt: skip
BOOLEAN_SUFFIXES = ("_enabled",)
BOOLEAN_PREFIXES = ("enable_",)
ALLOWED_CLOUD_PROVIDERS = ("", "external")
ALLOWED_EXTERNAL_CLOUD_PROVIDERS = ("hcloud", "huaweicloud", "oci", "openstack", "vsphere", "manual")
DEFAULT_NODE_PREFIX = 24
DEFAULT_MAX_PODS = 110

Rule = Callable[[ClusterSpec, dict[str, Any], "KubesprayRelease | None"], Iterator[Problem]]


def check_spec(
    spec: ClusterSpec, kubespray_dir: Path | None = None, *, require_hosts: bool = True
) -> list[Problem]:
    """Every problem found in `spec`, errors first; kubespray_dir refines the supported versions.

    None of these checks contacts a host. Without require_hosts, a spec with no hosts yet (a draft the
    wizard is still filling in) is not a problem.
    """
    variables = effective_vars(spec)
    known = release(spec.kubespray.version, kubespray_dir)
    problems = [problem for rule in RULES for problem in rule(spec, variables, known)]
    if not require_hosts and not spec.hosts:
        problems = [p for p in problems if p.field != "hosts"]
    return sorted(problems, key=lambda p: p.severity != "error")


def preset_checks(
    options: RunOptions | None = None, *, require_hosts: bool = True
) -> Callable[[ClusterSpec], list[tuple[str, str]]]:
    """The checks of `check_spec` for a preset being loaded: its errors as (key path, reason and fix).

    They run before any host is contacted, so a preset with several problems is fixed in one go.
    """

    def check(spec: ClusterSpec) -> list[tuple[str, str]]:
        mine = user_dir(spec, options)  # a user's checkout knows its own supported versions
        # A preset with a provision section gets its hosts from the provision and discover phases.
        hosts_needed = require_hosts and spec.provision is None
        problems = check_spec(spec, mine if mine and mine.is_dir() else None, require_hosts=hosts_needed)
        return [
            (p.field, p.message + (f" — {p.fix}" if p.fix else "")) for p in problems if p.severity == "error"
        ]

    return check


def raise_for_problems(problems: list[Problem]) -> None:
    """Raise one InputError listing every error; warnings alone do not stop a run."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return
    first = errors[0]
    lines = "\n".join(f"• {p.field}: {p.message}" for p in errors)
    fixes = "\n".join(f"• {p.fix}" for p in errors if p.fix)
    title = "Inventory is not valid" if len(errors) > 1 else f"Inventory is not valid: {first.field}"
    raise InputError(title, lines, fixes or "Correct the preset (or the wizard's answers) and run again.")


def _hosts(spec: ClusterSpec, variables: dict[str, Any], known: KubesprayRelease | None) -> Iterator[Problem]:
    if not spec.hosts:
        yield Problem(
            "hosts", "the spec has no hosts", "Add the cluster's servers in the Hosts step or under hosts:."
        )
        return
    for index, host in enumerate(spec.hosts):
        where = f"hosts[{index}].name"
        if not is_rfc1123(host.name) or any(len(label) > 63 for label in host.name.split(".")):
            yield Problem(
                where,
                f'{host.name!r} is not a valid host name: Kubespray stops with "Hostname must consist of '
                "lower case alphanumeric characters, '.' or '-', and must start and end with an alphanumeric "
                'character" (and Kubernetes limits each dot-separated part to 63 characters)',
                f"Rename it, e.g. {_suggest_name(host.name)!r}.",
            )
        if host.name == BASTION_NAME:
            yield Problem(
                where,
                "'bastion' is reserved: Kubespray routes every host through a host of that name",
                "Rename the host, or describe the jump host under bastion: instead.",
            )
    for attribute in ("name", "address"):
        counts = Counter(getattr(h, attribute) for h in spec.hosts)
        for value in sorted(v for v, n in counts.items() if n > 1):
            yield Problem(
                f"hosts[].{attribute}", f"{value!r} is used by more than one host", "Each host needs its own."
            )
    ips = Counter(ip for ip in (spec.bind_ip(h) for h in spec.hosts) if ip)
    for value in sorted(v for v, n in ips.items() if n > 1):
        yield Problem(
            "hosts[].ip",
            f"{value} is the bind address (ip) of more than one host",
            "Give each host its own ip.",
        )


def _suggest_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in ".-" else "-" for c in name.lower())
    labels = [label[:63].strip("-") for label in cleaned.split(".")]
    return ".".join(label for label in labels if label) or "node1"


def _roles(spec: ClusterSpec, variables: dict[str, Any], known: KubesprayRelease | None) -> Iterator[Problem]:
    if not spec.hosts:
        return
    if not spec.hosts_with("control_plane"):
        yield Problem(
            "hosts[].roles",
            "no host has the control_plane role; Kubespray stops at "
            '"Stop if kube_control_plane group is empty"',
            "Give the control_plane role to 1 or 3 hosts.",
        )
    etcd = len(spec.hosts_with("etcd"))
    if etcd == 0 and variables.get("etcd_deployment_type") != "kubeadm":
        yield Problem(
            "hosts[].roles",
            "no host has the etcd role (Kubespray: \"Group 'etcd' cannot be empty in external etcd mode\")",
            "Give the etcd role to an odd number of hosts (1, 3, 5), usually the control plane hosts.",
        )
    elif etcd % 2 == 0 and etcd:
        yield Problem(
            "hosts[].roles",
            f'{etcd} hosts have the etcd role; Kubespray stops at "Stop if even number of etcd hosts" '
            "(an even count adds no fault tolerance)",
            f"Give the etcd role to {etcd - 1} or {etcd + 1} hosts.",
        )
    nodes = {h.name for h in k8s_hosts(spec)}
    for index, host in enumerate(spec.hosts):
        if host.has("loadbalancer") and host.name not in nodes:
            yield Problem(
                f"hosts[{index}].roles",
                f"{host.name} has the loadbalancer role but is not a Kubernetes node: the ingress load "
                "balancer runs as a pod on the nodes that carry that role",
                f"Also give {host.name} the worker role, or move the loadbalancer role to a worker.",
            )
        if host.storage_device and not host.has("storage"):
            yield Problem(
                f"hosts[{index}].storage_device",
                f"{host.name} has a storage_device but not the storage role, so it is not used",
                "Add the storage role or remove storage_device.",
                "warning",
            )
    if not spec.hosts_with("worker") and spec.hosts_with("control_plane"):
        yield Problem(
            "hosts[].roles",
            "no host has the worker role: the control plane hosts are put in kube_node and run the workloads",
            "Add worker hosts if the control plane should stay dedicated.",
            "warning",
        )


def _kubernetes_version(
    spec: ClusterSpec, variables: dict[str, Any], known: KubesprayRelease | None
) -> Iterator[Problem]:
    if not VERSION_NAME.match(spec.kubespray.version) or ".." in spec.kubespray.version:
        yield Problem(
            "kubespray.version",
            f"{spec.kubespray.version!r} is not a Kubespray release tag",
            "Use a tag such as v2.31.0, or kubespray.dir for another checkout.",
        )
        return
    version = variables.get("kube_version")
    field = _field_of("kube_version", spec)
    if not isinstance(version, str) or version.startswith("v"):
        yield Problem(
            field,
            f"kube_version {version!r} must be a string like '1.35.4', without a 'v' (Kubespray ≥ 2.28)",
            "Write it without the leading v.",
        )
        return
    if known is None:
        yield Problem(
            "kubespray.version",
            f"kwizard does not know which Kubernetes versions Kubespray {spec.kubespray.version} supports, "
            f"so kube_version {version} is checked only when the Kubespray run starts",
            "Use a released Kubespray version kwizard knows (e.g. v2.31.0), or point kubespray.dir at a "
            "checkout.",
            "warning",
        )
        return
    if not known.supports(version):
        yield Problem(
            field,
            f"Kubernetes {version} is not supported by Kubespray {known.version}, which supports "
            f'{known.kube_range_text()} (it would stop at "Kubernetes v{version} is not supported")',
            f"Set {field} to a supported version, e.g. {known.default_kube_version or known.kube_max} "
            "(or pick a Kubespray version that supports it).",
        )


def _networks(
    spec: ClusterSpec, variables: dict[str, Any], known: KubesprayRelease | None
) -> Iterator[Problem]:
    networks: dict[str, ipaddress.IPv4Network | ipaddress.IPv6Network] = {}
    for var in ("kube_pods_subnet", "kube_service_addresses"):
        value = variables.get(var)
        try:
            network = ipaddress.ip_network(str(value), strict=True)
        except ValueError:
            yield Problem(
                _field_of(var, spec),
                f"{var} = {value!r} is not a valid network range",
                "Use a CIDR such as 10.233.64.0/18 whose host bits are zero.",
            )
            continue
        if network.version != 4:
            yield Problem(_field_of(var, spec), f"{var} {network} is not IPv4", "Use an IPv4 range.")
            continue
        networks[var] = network
    pods = networks.get("kube_pods_subnet")
    services = networks.get("kube_service_addresses")
    if pods and services and pods.overlaps(services):
        yield Problem(
            _field_of("kube_pods_subnet", spec),
            f'pods subnet {pods} overlaps the service range {services} (Kubespray: "kube_pods_subnet cannot '
            'be the same network segment as kube_service_addresses")',
            "Pick two disjoint ranges, e.g. 10.233.64.0/18 for pods and 10.233.0.0/18 for services.",
        )
    yield from _address_space(spec, variables, pods)
    for var, network in networks.items():
        inside = [
            f"{host.name} ({ip})"
            for host in spec.hosts
            if (ip := spec.bind_ip(host)) and ipaddress.ip_address(ip) in network
        ]
        if inside:
            more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
            yield Problem(
                _field_of(var, spec),
                f"{var} {network} contains the address of {', '.join(inside[:3])}{more}: traffic to those "
                "hosts would be routed into the cluster network",
                "Choose a range that none of the hosts' addresses fall into.",
            )


def _address_space(
    spec: ClusterSpec, variables: dict[str, Any], pods: ipaddress.IPv4Network | ipaddress.IPv6Network | None
) -> Iterator[Problem]:
    prefix = variables.get("kube_network_node_prefix", DEFAULT_NODE_PREFIX)
    if not isinstance(prefix, int) or isinstance(prefix, bool) or not 1 <= prefix <= 32:
        yield Problem(
            "kubespray.extra_vars.kube_network_node_prefix", f"{prefix!r} is not a prefix length (1-32)"
        )
        return
    nodes = len(k8s_hosts(spec))
    # Kubespray skips this check for calico, which hands out address blocks to nodes as they need them.
    if pods is not None and variables.get("kube_network_plugin") != "calico":
        room = 2 ** (prefix - pods.prefixlen) if prefix >= pods.prefixlen else 0
        if room < nodes:
            needed = max(1, prefix - (nodes - 1).bit_length())
            yield Problem(
                _field_of("kube_pods_subnet", spec),
                f"pods subnet {pods} has room for {room} node ranges of /{prefix} but the cluster has "
                f'{nodes} nodes (Kubespray: "Not enough ipv4 IPs are available for the desired node count.")',
                f"Use a pods subnet of /{needed} or larger, or a longer kube_network_node_prefix.",
            )
    max_pods = variables.get("kubelet_max_pods", DEFAULT_MAX_PODS)
    per_node = 2 ** (32 - prefix) - 2
    if isinstance(max_pods, int) and max_pods > per_node and variables.get("kube_network_plugin") != "calico":
        yield Problem(
            "kubespray.extra_vars.kubelet_max_pods",
            f"kubelet_max_pods {max_pods} exceeds the {per_node} addresses of a /{prefix} node range "
            '(Kubespray: "Do not schedule more pods on a node than inet addresses are available.")',
            "Lower kubelet_max_pods or kube_network_node_prefix.",
        )


def _choices(
    spec: ClusterSpec, variables: dict[str, Any], known: KubesprayRelease | None
) -> Iterator[Problem]:
    for var, allowed in SUPPORTED_CHOICES.items():
        if var in variables and variables[var] not in allowed:
            yield Problem(
                _field_of(var, spec),
                f'{var} {variables[var]!r} is not one Kubespray supports ("The selected choice is not '
                f'supported"); it accepts {", ".join(allowed)}',
                f"Choose one of: {', '.join(allowed)}.",
            )
    deployment = variables.get("etcd_deployment_type", "host")
    if deployment == "docker" and variables.get("container_manager") != "docker":
        yield Problem(
            "kubespray.extra_vars.etcd_deployment_type",
            "etcd_deployment_type 'docker' needs container_manager 'docker'",
            "Use etcd_deployment_type 'host' (the default) or 'kubeadm'.",
        )
    if variables.get("download_localhost") is True and variables.get("download_run_once") is not True:
        yield Problem(
            "kubespray.extra_vars.download_localhost",
            'download_localhost requires download_run_once (Kubespray: "download_localhost requires enable '
            'download_run_once")',
            "Also set download_run_once: true, or drop download_localhost.",
        )


def _extra_vars(
    spec: ClusterSpec, variables: dict[str, Any], known: KubesprayRelease | None
) -> Iterator[Problem]:
    extra = spec.kubespray.extra_vars
    for key in sorted(extra):
        field = f"kubespray.extra_vars.{key}"
        value = extra[key]
        if _is_boolean_var(key) and not isinstance(value, bool):
            yield Problem(
                field,
                f"{key} is {value!r}, a {type(value).__name__}, where Kubespray expects a boolean "
                "(\"Stop if known booleans are set as strings\"; a quoted 'false' counts as true)",
                f"Write {key}: true or {key}: false, without quotes.",
            )
        if key == "bootstrap_os":
            yield Problem(
                field,
                "bootstrap_os was removed in Kubespray 2.8: the OS is detected, and Python is installed by "
                "the bootstrap_os role where it is missing",
                "Remove it.",
            )
        if known and key in known.removed_vars:
            yield Problem(
                field,
                f'{key} was removed in Kubespray {known.version} ("Fail if removed variables are used")',
                "Remove it.",
            )
        if known and any(fnmatch.fnmatchcase(key, pattern) for pattern in known.dropped_vars):
            yield Problem(
                field,
                f"{key} belongs to an addon removed in Kubespray {known.version}; Kubespray would ignore it "
                "silently (ingress-nginx is retired)",
                "Remove it: kwizard's HA ingress load balancer (loadbalancer:) replaces it.",
            )
        if key in SPEC_FIELD_OF_VAR:
            yield Problem(
                field,
                f"{key} is set in extra_vars and overrides {SPEC_FIELD_OF_VAR[key]}",
                f"Set {SPEC_FIELD_OF_VAR[key]} instead.",
                "warning",
            )
    provider = variables.get("cloud_provider", "")
    if provider not in ALLOWED_CLOUD_PROVIDERS:
        yield Problem(
            "kubespray.extra_vars.cloud_provider",
            f"cloud_provider {provider!r} is gone: in-tree cloud providers were removed in Kubernetes 1.31 "
            "(Kubespray 2.27); only '' or 'external' remain",
            "Remove cloud_provider; on AWS use storage.type aws-ebs (the EBS CSI driver).",
        )
    external = variables.get("external_cloud_provider")
    if provider == "external" and external not in ALLOWED_EXTERNAL_CLOUD_PROVIDERS:
        yield Problem(
            "kubespray.extra_vars.external_cloud_provider",
            f"external_cloud_provider {external!r} is not supported by Kubespray (it accepts "
            f"{', '.join(ALLOWED_EXTERNAL_CLOUD_PROVIDERS)}; there is no aws)",
            "Remove cloud_provider/external_cloud_provider; on AWS use storage.type aws-ebs.",
        )


def _is_boolean_var(key: str) -> bool:
    return key in KNOWN_BOOLEANS or key.endswith(BOOLEAN_SUFFIXES) or key.startswith(BOOLEAN_PREFIXES)


def _settings(
    spec: ClusterSpec, variables: dict[str, Any], known: KubesprayRelease | None
) -> Iterator[Problem]:
    for name in ("http_proxy", "https_proxy"):
        value = getattr(spec.kubespray, name)
        if value and not value.startswith(("http://", "https://")):
            yield Problem(
                f"kubespray.{name}",
                f"{value!r} is not a proxy URL",
                "Write it as http://host:port (or https://…).",
            )
    storage = spec.storage
    if not spec.hosts:
        return
    if storage.type == "aws-ebs" and spec.target != "aws":
        yield Problem(
            "storage.type",
            "aws-ebs storage needs target: aws (the EBS CSI driver only works on EC2)",
            "Use gluster or local-path on bare metal, or set target: aws.",
        )
    if storage.type == "gluster":
        count = len(spec.hosts_with("storage"))
        if count == 0:
            yield Problem(
                "hosts[].roles",
                "storage.type is gluster but no host has the storage role",
                f"Give the storage role to {storage.gluster.replicas} hosts (one brick each).",
            )
        elif count < storage.gluster.replicas:
            yield Problem(
                "storage.gluster.replicas",
                f"a replica-{storage.gluster.replicas} volume needs {storage.gluster.replicas} storage "
                f"hosts; {count} have the storage role",
                "Add storage hosts or lower storage.gluster.replicas.",
            )


def _field_of(var: str, spec: ClusterSpec) -> str:
    """The spec field a Kubespray variable comes from (extra_vars wins when it sets the variable)."""
    if var in spec.kubespray.extra_vars:
        return f"kubespray.extra_vars.{var}"
    return SPEC_FIELD_OF_VAR.get(var, f"kubespray.extra_vars.{var}")


RULES: tuple[Rule, ...] = (_hosts, _roles, _kubernetes_version, _networks, _choices, _extra_vars, _settings)
