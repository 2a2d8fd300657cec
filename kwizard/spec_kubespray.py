"""The `kubespray` section of a preset: which Kubespray and Kubernetes, the network, the runtime and the
extra variables, with the rules Kubespray itself applies to them."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from kwizard.spec_base import SpecModel, deferred
from kwizard.spec_values import (
    KWIZARD_OWNED_VARIABLE,
    VARIABLE_NAME,
    VERSION_NAME,
    check_cidr,
    check_path_text,
)

DEFAULT_KUBESPRAY_VERSION = "v2.31.0"
DEFAULT_KUBESPRAY_URL = "https://github.com/kubernetes-sigs/kubespray.git"
DEFAULT_KUBE_VERSION = "1.35.4"


class KubesprayOptions(SpecModel):
    version: str = DEFAULT_KUBESPRAY_VERSION
    repo_url: str = DEFAULT_KUBESPRAY_URL
    dir: str | None = None
    kube_version: str = DEFAULT_KUBE_VERSION
    network_plugin: Literal[
        "calico", "flannel", "cilium", "kube-ovn", "kube-router", "macvlan", "custom_cni", "cni"
    ] = "calico"
    container_manager: Literal["containerd", "crio", "docker"] = "containerd"
    pods_subnet: str = "10.233.64.0/18"
    service_addresses: str = "10.233.0.0/18"
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    extra_vars: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kube_version")
    @classmethod
    def _kube_version(cls, value: str) -> str:
        if value.startswith("v"):
            raise ValueError(f"{value!r}: Kubespray ≥2.28 wants kube_version without the 'v' (e.g. '1.35.4')")
        if not re.match(r"^\d+\.\d+\.\d+$", value):
            raise ValueError(f"{value!r} is not a Kubernetes version like '1.35.4'")
        return value

    @field_validator("pods_subnet", "service_addresses")
    @classmethod
    def _cidr(cls, value: str) -> str:
        return check_cidr(value)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not VERSION_NAME.match(value) or ".." in value:
            raise ValueError(f"{value!r} is not a Kubespray tag or branch name like 'v2.31.0'")
        return value

    @field_validator("repo_url")
    @classmethod
    def _repo_url(cls, value: str) -> str:
        check_path_text(value, "repository address")
        if not re.match(
            r"^(?:(?:https?|ssh|git|file)://[^\s]+|[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:[^\s]+|/[^\s]*)$", value
        ):
            raise ValueError(
                f"{value!r} is not a git repository address: use https://…, ssh://…, user@host:path, "
                "file://… or an absolute path"
            )
        return value

    @field_validator("dir")
    @classmethod
    def _dir(cls, value: str | None) -> str | None:
        return None if value is None else check_path_text(value, "Kubespray folder")

    @field_validator("http_proxy", "https_proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(?:https?|socks5h?)://[A-Za-z0-9._~:@%+/=-]+$", value):
            raise ValueError(f"{value!r} is not a proxy URL like 'http://proxy.example.com:3128'")
        return value

    @field_validator("no_proxy")
    @classmethod
    def _no_proxy(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9._:/*,-]+$", value):
            raise ValueError(
                f"{value!r} is not a no_proxy list: host names, addresses and ranges separated by ',' "
                "without spaces (e.g. '.corp.example.com,10.0.0.0/8')"
            )
        return value

    @field_validator("extra_vars")
    @classmethod
    def _extra_vars(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not isinstance(key, str) or not VARIABLE_NAME.match(key):
                raise ValueError(
                    f"{key!r} is not an Ansible variable name (letters, digits and '_', not starting "
                    "with a digit)"
                )
            if KWIZARD_OWNED_VARIABLE.match(key):
                # kwizard sets these from ssh.*/bastion/hosts[]: host-key checking, the key, and the
                # programs and arguments Ansible starts on this machine (a ProxyCommand is a command).
                raise ValueError(
                    f"{key!r} is an Ansible connection variable that kwizard sets itself (host keys are "
                    "verified through it): use ssh.*, bastion.* and hosts[].user/port instead"
                )
        return value

    @model_validator(mode="after")
    def _no_overlap(self, info: ValidationInfo) -> KubesprayOptions:
        problem = self.overlap_problem()
        if problem and not deferred(info):
            raise ValueError(problem)
        return self

    def overlap_problem(self) -> str | None:
        """Why the pod and service ranges cannot be used together, or None."""
        pods = ipaddress.ip_network(self.pods_subnet)
        services = ipaddress.ip_network(self.service_addresses)
        if pods.version == services.version and pods.overlaps(services):  # type: ignore[arg-type,unused-ignore]
            return f"pods_subnet {pods} overlaps service_addresses {services}: pick disjoint ranges"
        return None
