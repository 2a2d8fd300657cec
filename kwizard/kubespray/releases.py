"""What each Kubespray release supports (Kubernetes versions, ansible-core, controller Python), as data.

The shipped table (`releases.yaml`) covers the pinned releases. When a checkout is at hand, its own
`checksums.yml` is the authority instead: that is exactly the list Kubespray's "Download_file | Check if
requested Kubernetes are supported" assert looks up.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

CHECKSUMS_FILE = Path("roles/kubespray_defaults/vars/main/checksums.yml")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def version_key(version: str) -> tuple[int, ...]:
    """Numeric sort key of a dotted version ('2.18.0' → (2, 18, 0)); non-digits end a component."""
    parts: list[int] = []
    for piece in version.lstrip("v").split("."):
        digits = re.match(r"\d*", piece)
        parts.append(int(digits.group()) if digits and digits.group() else 0)
    return tuple(parts)


@dataclass(frozen=True)
class KubesprayRelease:
    """One Kubespray release's supported ranges."""

    version: str
    default_kube_version: str
    # Kubernetes minor ("1.35") → highest supported patch; every patch from 0 up to it is supported.
    kubernetes: tuple[tuple[str, int], ...]
    ansible_core: tuple[str, str]  # minimal inclusive, maximal exclusive
    python: tuple[str, str]  # inclusive
    removed_vars: tuple[str, ...] = ()
    dropped_vars: tuple[str, ...] = ()  # glob-like: "ingress_nginx_*"

    def supports(self, kube_version: str) -> bool:
        match = _VERSION.match(kube_version)
        if not match:
            return False
        minor = f"{match.group(1)}.{match.group(2)}"
        highest = dict(self.kubernetes).get(minor)
        return highest is not None and int(match.group(3)) <= highest

    def kube_range_text(self) -> str:
        """'1.33.0-1.33.11, 1.34.0-1.34.7, 1.35.0-1.35.4'."""
        return ", ".join(f"{minor}.0-{minor}.{top}" for minor, top in self.kubernetes)

    @property
    def kube_min(self) -> str:
        return f"{self.kubernetes[0][0]}.0"

    @property
    def kube_max(self) -> str:
        minor, top = self.kubernetes[-1]
        return f"{minor}.{top}"


@functools.cache
def shipped_releases() -> dict[str, KubesprayRelease]:
    """The releases kwizard knows, newest first."""
    text = resources.files("kwizard.kubespray").joinpath("releases.yaml").read_text()
    raw = yaml.safe_load(text)
    releases = {version: _release(version, entry) for version, entry in raw.items()}
    return dict(sorted(releases.items(), key=lambda item: version_key(item[0]), reverse=True))


def _release(version: str, entry: dict[str, Any]) -> KubesprayRelease:
    kubernetes = sorted(
        ((str(k), int(v)) for k, v in entry["kubernetes"].items()), key=lambda kv: version_key(kv[0])
    )
    return KubesprayRelease(
        version=version,
        default_kube_version=str(entry["default_kube_version"]),
        kubernetes=tuple(kubernetes),
        ansible_core=(str(entry["ansible_core"][0]), str(entry["ansible_core"][1])),
        python=(str(entry["python"][0]), str(entry["python"][1])),
        removed_vars=tuple(entry.get("removed_vars") or ()),
        dropped_vars=tuple(entry.get("dropped_vars") or ()),
    )


def release(version: str, checkout: Path | None = None) -> KubesprayRelease | None:
    """The release `version`, refined by the checkout's own checksums when a checkout is given."""
    known = shipped_releases().get(version)
    if checkout is None:
        return known
    kube = kube_versions_in_checkout(checkout)
    if not kube:
        return known
    base = known or KubesprayRelease(version, "", (), ("", ""), ("", ""))
    return KubesprayRelease(
        version=version,
        default_kube_version=kube[0],
        kubernetes=_ranges(kube),
        ansible_core=base.ansible_core,
        python=base.python,
        removed_vars=base.removed_vars,
        dropped_vars=base.dropped_vars,
    )


def kube_versions_in_checkout(checkout: Path) -> list[str]:
    """Kubernetes versions listed in a checkout's kubelet checksums (amd64), in file order; [] if unknown."""
    try:
        data = yaml.safe_load((checkout / CHECKSUMS_FILE).read_text())
        versions = list(data["kubelet_checksums"]["amd64"].keys())
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return []
    return [str(v) for v in versions if _VERSION.match(str(v))]


def _ranges(versions: list[str]) -> tuple[tuple[str, int], ...]:
    highest: dict[str, int] = {}
    for version in versions:
        major, minor, patch = version.split(".")
        key = f"{major}.{minor}"
        highest[key] = max(highest.get(key, 0), int(patch))
    return tuple(sorted(highest.items(), key=lambda kv: version_key(kv[0])))
