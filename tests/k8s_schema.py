"""Kubernetes schema validation for rendered manifests, with kubernetes-validate's nearest schema."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import all_versions


def nearest_schema_version(kube_version: str) -> str:
    """The schema kubernetes-validate ships nearest to `kube_version` ('1.35.4' → '1.35.0')."""

    def key(version: str) -> tuple[int, int]:
        major, minor = version.split(".")[:2]
        return int(major), int(minor)

    wanted = key(kube_version)
    return min(
        sorted(set(all_versions())),
        key=lambda v: (abs(key(v)[0] - wanted[0]) * 1000 + abs(key(v)[1] - wanted[1]), -key(v)[1]),
    )


def validate_strict(manifests: list[dict[str, Any]], kube_version: str) -> str:
    """Validate every manifest (strict: unknown fields are errors); returns the schema version used."""
    version = nearest_schema_version(kube_version)
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)
    return version
