"""ClusterSpec: every answer of the wizard, validated and versioned. It is what a preset file holds.

The TUI, the plain prompts and headless replay all produce a ClusterSpec; every phase reads only this.
Secrets are never fields: a password is named by the environment variable that holds it, or asked for.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kwizard import spec_errors
from kwizard.aws.settings import ProvisionSettings
from kwizard.errors import InputError
from kwizard.phases import PHASES, USER_PHASES
from kwizard.spec_base import DEFER_RULES as DEFER_RULES
from kwizard.spec_base import NodePort, Port, deferred
from kwizard.spec_base import SpecModel as _Model
from kwizard.spec_errors import format_loc as format_loc
from kwizard.spec_kubespray import DEFAULT_KUBE_VERSION as DEFAULT_KUBE_VERSION
from kwizard.spec_kubespray import DEFAULT_KUBESPRAY_VERSION as DEFAULT_KUBESPRAY_VERSION
from kwizard.spec_kubespray import KubesprayOptions as KubesprayOptions
from kwizard.spec_values import (
    DNS_LABEL,
    LABEL_VALUE,
    check_address,
    check_ip,
    check_path_text,
    check_plain_absolute_path,
    check_user_name,
    is_rfc1123,
)

SPEC_VERSION = 1

Phase = Literal[
    "provision",
    "discover",
    "access",
    "preflight",
    "inventory",
    "kubespray",
    "kubeconfig",
    "loadbalancer",
    "storage",
    "apps",
]
Role = Literal["control_plane", "etcd", "worker", "loadbalancer", "storage"]
ROLES: tuple[str, ...] = ("control_plane", "etcd", "worker", "loadbalancer", "storage")
Target = Literal["baremetal", "aws"]
StorageType = Literal["gluster", "aws-ebs", "local-path", "none"]


# Saved in every preset even when equal to today's default: a newer kwizard ships newer defaults, and the
# same file must keep deploying the same Kubespray, Kubernetes, network plugin, runtime and networks
# (changing the pod or service range of a running cluster breaks it).
PINNED_FIELDS: tuple[tuple[str, ...], ...] = (
    ("kubespray", "version"),
    ("kubespray", "kube_version"),
    ("kubespray", "network_plugin"),
    ("kubespray", "container_manager"),
    ("kubespray", "pods_subnet"),
    ("kubespray", "service_addresses"),
    ("loadbalancer", "controller"),
)


_SECRET_KEY = re.compile(r"pass(word|wd|phrase)?$|secret|token|private_key_data", re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Host(_Model):
    """One server. `address` is how kwizard/Ansible reach it; `ip` the address it binds to."""

    name: str
    address: str
    ip: str | None = None
    user: str | None = None
    port: Port | None = None
    roles: list[Role] = Field(default_factory=list)
    az: str | None = None
    instance_type: str | None = None
    python_interpreter: str | None = None
    storage_device: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not is_rfc1123(value):
            raise ValueError(
                f"{value!r} is not a valid host name: use lower-case letters, digits, '-' and '.', "
                "starting and ending with a letter or digit (RFC 1123)"
            )
        return value

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_address(value)

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        return None if value is None else check_ip(value)

    @field_validator("storage_device")
    @classmethod
    def _storage_device(cls, value: str | None) -> str | None:
        if value is not None and (not re.match(r"^/dev/[A-Za-z0-9_.:+@/-]+$", value) or ".." in value):
            raise ValueError(f"{value!r} is not a block device path like /dev/sdb or /dev/disk/by-id/…")
        return value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else check_user_name(value)

    @field_validator("az", "instance_type")
    @classmethod
    def _label_value(cls, value: str | None) -> str | None:
        if value is not None and not LABEL_VALUE.match(value):
            raise ValueError(
                f"{value!r} cannot be a node label: letters, digits, '-', '_' and '.', at most 63 "
                "(e.g. 'eu-west-1a', 't3.medium', 'rack-2')"
            )
        return value

    @field_validator("python_interpreter")
    @classmethod
    def _interpreter(cls, value: str | None) -> str | None:
        return None if value is None else check_plain_absolute_path(value, "/usr/bin/python3")

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        seen = [r for r, n in Counter(value).items() if n > 1]
        if seen:
            raise ValueError(f"role {seen[0]!r} is listed twice")
        return sorted(value, key=ROLES.index)  # canonical order → stable presets

    def has(self, role: str) -> bool:
        return role in self.roles


class SSHSettings(_Model):
    """How to log in. Passwords are never stored: name the environment variable that holds them."""

    user: str = "root"
    port: Port = 22
    key: str = "~/.ssh/id_ed25519"
    password_env: str | None = None
    become_password_env: str | None = None
    accept_new_host_keys: bool = False

    @field_validator("password_env", "become_password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_user_name(value)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return check_path_text(value, "key path")


class Bastion(_Model):
    address: str
    user: str | None = None
    port: Port = 22
    key: str | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_address(value)

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return None if value is None else check_user_name(value)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return None if value is None else check_path_text(value, "key path")


class VirtualHost(_Model):
    """A name-based virtual host: <host>.<domain> routed to a Service (an Ingress rule)."""

    host: str
    service: str
    namespace: str = "default"
    port: Port = 80

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not is_rfc1123(value):
            raise ValueError(f"{value!r} is not a valid DNS name")
        return value

    @field_validator("service", "namespace")
    @classmethod
    def _object_name(cls, value: str) -> str:
        if not DNS_LABEL.match(value):
            raise ValueError(
                f"{value!r} is not a Kubernetes name: lower-case letters, digits and '-', at most 63"
            )
        return value


class LoadBalancerSettings(_Model):
    enabled: bool = True
    controller: Literal["traefik", "haproxy"] = "traefik"
    http_node_port: NodePort = 30800
    https_node_port: NodePort = 30443
    domain: str = "example.com"
    virtual_hosts: list[VirtualHost] = Field(default_factory=list)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not is_rfc1123(value):
            raise ValueError(f"{value!r} is not a DNS domain like 'example.com'")
        return value

    @model_validator(mode="after")
    def _ports_differ(self) -> LoadBalancerSettings:
        if self.http_node_port == self.https_node_port:
            raise ValueError("http_node_port and https_node_port must differ")
        return self


# LVM size as given to `lvcreate -L`: a whole number with a binary unit (m, g, t).
GLUSTER_SIZE = re.compile(r"^[1-9][0-9]{0,8}[mgt]$", re.IGNORECASE)
# Gluster's own rule for volume names, kept short so PV names derived from it stay valid.
GLUSTER_VOLUME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


# Folders a brick or a mount must never replace or hide (kwizard creates, chowns and mounts these paths).
_SYSTEM_DIRECTORIES = frozenset(
    ("bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "proc", "root", "run", "sbin", "sys", "usr")
)


class GlusterSettings(_Model):
    volume: str = "gv0"
    replicas: Annotated[int, Field(ge=1, le=16)] = 3
    brick_dir: str = "/data/glusterfs/brick1"
    size: str = "9g"
    gid: Annotated[int, Field(ge=0, le=4294967294)] = 1000
    mount_point: str = "/mnt/gluster"
    # PersistentVolumes of the `gluster` StorageClass, each a subdirectory of the mounted volume.
    pv_count: Annotated[int, Field(ge=0, le=500)] = 10

    @field_validator("volume")
    @classmethod
    def _volume(cls, value: str) -> str:
        if not GLUSTER_VOLUME.match(value):
            raise ValueError(
                f"{value!r} is not a valid Gluster volume name: letters, digits, '-' and '_', "
                "starting with a letter or digit, at most 32 characters"
            )
        return value

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        if not GLUSTER_SIZE.match(value):
            raise ValueError(f"{value!r} is not a size like '9g', '500m' or '2t' (as for lvcreate -L)")
        return value.lower()

    @field_validator("brick_dir", "mount_point")
    @classmethod
    def _absolute(cls, value: str) -> str:
        value = check_plain_absolute_path(value, "/data/glusterfs/brick1")
        top = value.split("/")[1]
        if top in _SYSTEM_DIRECTORIES:
            raise ValueError(
                f"{value!r} is inside /{top}, which belongs to the operating system: use a folder of "
                "its own such as /data/glusterfs/brick1 or /mnt/gluster"
            )
        return value


class StorageSettings(_Model):
    type: StorageType = "none"
    gluster: GlusterSettings = Field(default_factory=GlusterSettings)
    ebs_volume_type: Literal["gp3", "gp2", "io1", "io2", "st1", "sc1"] = "gp3"


class AppSettings(_Model):
    grafana: bool = False


class PreflightSettings(_Model):
    # Failed checks the user acknowledged ("continue anyway"); recorded so a replay does not stop again.
    acknowledged: list[str] = Field(default_factory=list)

    @field_validator("acknowledged")
    @classmethod
    def _check_ids(cls, value: list[str]) -> list[str]:
        for check in value:
            if not re.match(r"^[a-z0-9_]{1,64}(?:@[a-z0-9.-]{1,253})?$", check):
                raise ValueError(
                    f"{check!r} is not a preflight check id like 'ip_forward' or 'ip_forward@node1'"
                )
        return value


class ClusterSpec(_Model):
    """The whole cluster: the content of a preset file."""

    version: int = SPEC_VERSION
    name: str
    target: Target = "baremetal"
    description: str = ""
    hosts: list[Host] = Field(default_factory=list)
    ssh: SSHSettings = Field(default_factory=SSHSettings)
    bastion: Bastion | None = None
    # target aws: the hosts kwizard creates (VPC, subnets, NAT, bastion, instances) before discovery.
    provision: ProvisionSettings | None = None
    kubespray: KubesprayOptions = Field(default_factory=KubesprayOptions)
    loadbalancer: LoadBalancerSettings = Field(default_factory=LoadBalancerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    apps: AppSettings = Field(default_factory=AppSettings)
    preflight: PreflightSettings = Field(default_factory=PreflightSettings)
    # provision is not listed: it runs whenever `provision` is set (RunOptions.selected_phases).
    phases: list[Phase] = Field(default_factory=lambda: cast(list[Phase], list(USER_PHASES)))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not is_rfc1123(value) or "." in value or len(value) > 63:
            raise ValueError(
                f"{value!r} is not a valid cluster name: lower-case letters, digits and '-', "
                "at most 63 characters"
            )
        return value

    @field_validator("phases")
    @classmethod
    def _phases(cls, value: list[str]) -> list[str]:
        return [p for p in PHASES if p in set(value)]

    @model_validator(mode="after")
    def _cluster_rules(self, info: ValidationInfo) -> ClusterSpec:
        if deferred(info):
            return self  # the preset loader reports every rule_problems() entry at its own line
        problems = [problem for problem in rule_problems(self) if problem[0] != "kubespray.pods_subnet"]
        if problems:
            raise ValueError(problems[0][1])
        return self

    def updated(self, **changes: Any) -> ClusterSpec:
        """A new, fully validated spec with `changes` applied; InputError (naming the key) if invalid."""
        data = self.model_dump()
        for key, value in changes.items():
            data[key] = _plain(value)
        try:
            return ClusterSpec.model_validate(data)
        except ValidationError as exc:
            raise InputError(
                "Invalid answer", explain(exc, "cluster"), "Correct the highlighted answer and try again."
            ) from None

    # Convenience views used by phases and screens.
    def hosts_with(self, role: str) -> list[Host]:
        return [h for h in self.hosts if h.has(role)]

    def host(self, name: str) -> Host:
        for candidate in self.hosts:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def ssh_user(self, host: Host) -> str:
        return host.user or self.ssh.user

    def ssh_port(self, host: Host) -> int:
        return host.port or self.ssh.port

    def bind_ip(self, host: Host) -> str | None:
        """The address Kubespray binds to (`ip`): explicit, else the address when it is an IP."""
        if host.ip:
            return host.ip
        try:
            return str(ipaddress.ip_address(host.address))
        except ValueError:
            return None


def rule_problems(spec: ClusterSpec) -> list[tuple[str, str]]:
    """Every broken rule that spans several fields, as (key path, reason); the key path uses the same
    names as the inventory checks (`hosts[].roles`) so that a loader can drop the repeats."""
    problems: list[tuple[str, str]] = []
    overlap = spec.kubespray.overlap_problem()
    if overlap:
        problems.append(("kubespray.pods_subnet", overlap))
    if spec.provision is not None and spec.target != "aws":
        problems.append(("provision", "a provision section creates AWS hosts: it needs 'target: aws'"))
    for attribute in ("name", "address"):
        counts = Counter(getattr(h, attribute) for h in spec.hosts)
        dupes = sorted(value for value, n in counts.items() if n > 1)
        if dupes:
            problems.append(
                (
                    f"hosts[].{attribute}",
                    f"duplicate host {attribute} {dupes[0]!r}: each host needs its own {attribute}",
                )
            )
    if not spec.hosts:
        return problems  # a spec being built in the wizard; the inventory checks are the gate before runs
    if not any(h.has("control_plane") for h in spec.hosts):
        problems.append(
            (
                "hosts[].roles",
                "no host has the control_plane role: give it to 1 or 3 hosts (Kubespray's "
                "kube_control_plane group must not be empty)",
            )
        )
    etcd = sum(h.has("etcd") for h in spec.hosts)
    if etcd == 0:
        problems.append(
            ("hosts[].roles", "no host has the etcd role: give it to an odd number of hosts (1, 3, 5)")
        )
    elif etcd % 2 == 0:
        problems.append(
            (
                "hosts[].roles",
                f"{etcd} hosts have the etcd role: etcd needs an odd count (1, 3, 5) to keep quorum",
            )
        )
    if spec.storage.type == "gluster":
        storage_hosts = sum(h.has("storage") for h in spec.hosts)
        if storage_hosts and storage_hosts < spec.storage.gluster.replicas:
            problems.append(
                (
                    "storage.gluster.replicas",
                    f"storage.gluster.replicas is {spec.storage.gluster.replicas} but only "
                    f"{storage_hosts} hosts have the storage role",
                )
            )
    return problems


def secret_looking_keys(data: Any, path: str = "") -> list[str]:
    """Key paths in raw preset data that look like secrets (password, token…), for a clear refusal."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _SECRET_KEY.search(key) and not key.endswith("_env"):
                found.append(here)
            found.extend(secret_looking_keys(value, here))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(secret_looking_keys(item, f"{path}[{index}]"))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def explain(exc: ValidationError, root: str = "") -> str:
    """A ClusterSpec's (or one of its sections') validation error as `key.path: reason` lines."""
    return spec_errors.explain(exc, root, ClusterSpec)


def describe_error(error: Any) -> str:
    """One error of a preset as a sentence, with a "did you mean" for an unknown key."""
    return spec_errors.describe_error(error, ClusterSpec)
