"""Strict schema validation of rendered manifests with kubernetes-validate, at the spec's Kubernetes version.

kubernetes-validate ships one schema set per minor version (1.37.0 installed here ships v1.25…v1.37);
`schema_version` picks the nearest shipped minor to the cluster's `kube_version` and says which.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
from kubernetes_validate import utils
from packaging.version import Version


def shipped_versions() -> list[str]:
    return sorted({utils.major_minor(v) for v in utils.all_versions()}, key=Version)


def schema_version(kube_version: str) -> str:
    """The shipped schema minor nearest to `kube_version` (ties go to the older one)."""
    wanted = Version(utils.major_minor(kube_version))
    return min(shipped_versions(), key=lambda v: (abs(Version(v).minor - wanted.minor), Version(v)))


def validate_all(manifests: list[dict[str, Any]], kube_version: str) -> str:
    """Validate each manifest strictly (unknown fields are errors); returns the schema version used."""
    version = schema_version(kube_version)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)
    return version
