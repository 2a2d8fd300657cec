"""Which parts of the ClusterSpec each phase depends on, and a hash of each part.

`--resume` skips a phase that succeeded before unless one of its parts changed since; the journal stores
one hash per part, so kwizard can say *what* changed ("kubespray settings changed since it succeeded").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from kwizard.phases import REGISTRY
from kwizard.spec import ClusterSpec

SpecPart = Callable[[ClusterSpec], Any]

# Named parts of a spec; each is a JSON-able projection.
PARTS: dict[str, SpecPart] = {
    "hosts": lambda s: [h.model_dump(mode="json") for h in s.hosts],
    "host addresses": lambda s: [(h.name, h.address, h.user, h.port) for h in s.hosts],
    "ssh settings": lambda s: s.ssh.model_dump(mode="json"),
    "bastion": lambda s: s.bastion.model_dump(mode="json") if s.bastion else None,
    "target": lambda s: s.target,
    "provision settings": lambda s: s.provision.model_dump(mode="json") if s.provision else None,
    "kubespray settings": lambda s: s.kubespray.model_dump(mode="json"),
    "load balancer settings": lambda s: s.loadbalancer.model_dump(mode="json"),
    "storage settings": lambda s: s.storage.model_dump(mode="json"),
    "apps": lambda s: s.apps.model_dump(mode="json"),
    "acknowledged preflight checks": lambda s: sorted(s.preflight.acknowledged),
}

# Parts each product phase depends on, as the phase registry declares them.
PHASE_INPUTS: dict[str, tuple[str, ...]] = {info.name: info.inputs for info in REGISTRY}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(spec: ClusterSpec, inputs: tuple[str, ...] | None) -> dict[str, str]:
    """Hash of every spec part in `inputs` (None: the whole spec as one part)."""
    if inputs is None:
        return {"spec": _digest(spec.model_dump(mode="json"))}
    return {part: _digest(PARTS[part](spec)) for part in inputs}


def changed_parts(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """The parts whose hash differs (a part unknown to the old record counts as changed)."""
    return [part for part, digest in new.items() if old.get(part) != digest]
