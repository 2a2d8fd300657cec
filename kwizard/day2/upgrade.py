"""`kwizard upgrade`: which upgrade steps Kubespray supports, and the run that makes one.

upgrade:  upgrade (Kubespray upgrade-cluster.yml -e kube_version=X) → pin-versions

Kubespray upgrades Kubernetes one minor at a time and itself one release at a time ("attempting to
upgrade from an older release straight to the latest release is unsupported"), and each release supports
a fixed list of Kubernetes versions. `plan_upgrade` refuses any other step, naming the path to take. The
preset keeps the old versions until upgrade-cluster.yml succeeded: the last phase pins the new ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.errors import InputError
from kwizard.kubespray.releases import KubesprayRelease, release, shipped_releases, version_key

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext, PhaseResult
    from kwizard.spec import ClusterSpec

UPGRADE = "upgrade"
_KUBE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Upgrade:
    """One supported upgrade step: from the pinned versions to the asked ones."""

    from_kube: str
    to_kube: str
    from_kubespray: str
    to_kubespray: str

    def operation(self) -> dict[str, Any]:
        return {
            "command": UPGRADE,
            "kube_version": self.to_kube,
            "kubespray_version": self.to_kubespray,
            "from_kube_version": self.from_kube,
            "from_kubespray_version": self.from_kubespray,
        }

    def text(self) -> str:
        kubespray = (
            f"Kubespray {self.from_kubespray} → {self.to_kubespray}"
            if self.to_kubespray != self.from_kubespray
            else f"Kubespray {self.to_kubespray}"
        )
        return f"Kubernetes {self.from_kube} → {self.to_kube} with {kubespray}"


def pinned_kube_version(spec: ClusterSpec) -> str:
    """The Kubernetes version the cluster runs: an extra_vars override wins, as it does in the inventory."""
    return str(spec.kubespray.extra_vars.get("kube_version", spec.kubespray.kube_version))


def plan_upgrade(
    spec: ClusterSpec, kube_version: str, kubespray_version: str | None, checkout: Path | None = None
) -> Upgrade:
    """The upgrade to `kube_version` (and Kubespray `kubespray_version`), or InputError with the path."""
    current, target = pinned_kube_version(spec), kube_version.strip()
    from_ks = spec.kubespray.version
    to_ks = (kubespray_version or from_ks).strip()
    name = spec.name
    if target.startswith("v") and _KUBE.match(target[1:]):
        target = target[1:]  # 'v1.35.4' is meant as 1.35.4; Kubespray wants it without the v
    if not _KUBE.match(target):
        raise InputError(
            "Invalid Kubernetes version",
            f"{kube_version!r} is not a Kubernetes version like 1.35.4.",
            "Give --kube-version as MAJOR.MINOR.PATCH, e.g. --kube-version 1.35.4.",
        )
    if not _KUBE.match(current):
        raise InputError(
            "Unknown current version",
            f"The preset's kube_version {current!r} is not a version like 1.35.4.",
            "Set kubespray.kube_version in the preset to the version the cluster runs, then try again.",
        )
    _kubespray_step(name, from_ks, to_ks)
    now, want = version_key(current), version_key(target)
    if want < now:
        raise InputError(
            "Kubernetes cannot be downgraded",
            f"{name!r} runs Kubernetes {current}; {target} is older. Kubespray only upgrades, and etcd "
            "and the API objects of a newer version are not guaranteed to work with an older one.",
            "To go back, restore an etcd snapshot taken before the upgrade (kwizard restore) on a cluster "
            f"rebuilt at {target}, or pick a version newer than {current}.",
        )
    if want == now and to_ks == from_ks:
        raise InputError(
            "Nothing to upgrade",
            f"{name!r} already runs Kubernetes {current} with Kubespray {from_ks}.",
            "Name a newer version with --kube-version (and --kubespray-version for a newer Kubespray).",
        )
    if want[0] != now[0] or want[1] > now[1] + 1:
        path = _minor_path(name, current, target, to_ks)
        raise InputError(
            "One Kubernetes minor at a time",
            f"{current} → {target} skips {want[1] - now[1] - 1} minor version(s); kubeadm and Kubespray "
            "upgrade one minor version at a time.",
            "Upgrade in steps: " + "; then ".join(path) + ".",
        )
    known = release(to_ks, checkout)
    if known is None or not known.kubernetes:
        raise InputError(
            "Unknown Kubespray version",
            f"kwizard does not know which Kubernetes versions Kubespray {to_ks} supports.",
            f"Use a release kwizard knows ({', '.join(shipped_releases())}), or a checkout whose "
            "checksums list the versions (--kubespray-dir).",
        )
    if not known.supports(target):
        others = [r.version for r in shipped_releases().values() if r.supports(target)]
        hint = (
            f"Kubespray {_oldest(others)} supports {target}: add --kubespray-version {_oldest(others)}"
            if others
            else f"pick one of those versions, e.g. --kube-version {_top_of(known, target)}"
        )
        raise InputError(
            "Unsupported Kubernetes version",
            f"Kubespray {to_ks} supports Kubernetes {known.kube_range_text()}, not {target} (it would stop "
            f'at "Kubernetes v{target} is not supported").',
            hint[0].upper() + hint[1:] + ".",
        )
    return Upgrade(current, target, from_ks, to_ks)


def _kubespray_step(cluster: str, from_ks: str, to_ks: str) -> None:
    """Kubespray itself: no downgrade, no skipped release (its docs: one release at a time)."""
    if to_ks == from_ks:
        return
    ordered = sorted({*shipped_releases(), from_ks, to_ks}, key=version_key)
    minors = sorted({_minor_of(v) for v in ordered}, key=version_key)
    if version_key(to_ks) < version_key(from_ks):
        raise InputError(
            "Kubespray cannot be downgraded",
            f"{cluster!r} was built with Kubespray {from_ks}; {to_ks} is older.",
            f"Keep {from_ks} (leave out --kubespray-version) or name a newer release.",
        )
    skipped = [
        m for m in minors if version_key(_minor_of(from_ks)) < version_key(m) < version_key(_minor_of(to_ks))
    ]
    if skipped:
        steps = [_latest_of(m) for m in skipped] + [to_ks]
        raise InputError(
            "One Kubespray release at a time",
            f"Kubespray {from_ks} → {to_ks} skips {', '.join(f'{m}.x' for m in skipped)}; Kubespray "
            "supports upgrading from the previous release only.",
            "Upgrade through each release: "
            + "; then ".join(
                f"kwizard upgrade {cluster} --kubespray-version {s} --kube-version …" for s in steps
            )
            + " (each with a Kubernetes version that release supports).",
        )


def _minor_of(version: str) -> str:
    major, minor, *_ = [*version.lstrip("v").split("."), "0", "0"]
    return f"v{major}.{minor}"


def _latest_of(minor: str) -> str:
    matching = [v for v in shipped_releases() if _minor_of(v) == minor]
    return max(matching, key=version_key) if matching else f"{minor}.0"


def _oldest(versions: list[str]) -> str:
    return min(versions, key=version_key)


def _top_of(known: KubesprayRelease, target: str) -> str:
    minor = ".".join(target.split(".")[:2])
    top = dict(known.kubernetes).get(minor)
    return f"{minor}.{top}" if top is not None else known.kube_max


def _minor_path(cluster: str, current: str, target: str, kubespray: str) -> list[str]:
    """Commands for each minor between `current` and `target`: the newest patch the Kubespray in use
    supports, and the next Kubespray release when it supports none of that minor."""
    major, minor = (int(p) for p in current.split(".")[:2])
    end = int(target.split(".")[1])
    newer_first = list(shipped_releases().values())
    steps = []
    for step_minor in range(minor + 1, end + 1):
        wanted = f"{major}.{step_minor}"
        pinned = shipped_releases().get(kubespray)
        version = target
        if step_minor != end:
            top = dict(pinned.kubernetes).get(wanted) if pinned else None
            if top is None:
                able = [r for r in newer_first if dict(r.kubernetes).get(wanted) is not None]
                top = dict(able[-1].kubernetes)[wanted] if able else 0
            version = f"{wanted}.{top}"
        step = f"kwizard upgrade {cluster} --kube-version {version}"
        if pinned is None or not pinned.supports(version):
            able_versions = [r.version for r in newer_first if r.supports(version)]
            if able_versions:
                kubespray = _oldest(able_versions)
                step += f" --kubespray-version {kubespray}"
            else:
                step += " (with a Kubespray release that supports it)"
        steps.append(step)
    return steps


def upgrade_phase(ctx: PhaseContext) -> PhaseResult:
    """upgrade-cluster.yml of the target Kubespray with kube_version=X (an !unsafe extra-vars file)."""
    from kwizard.day2.phases import with_earlier_results
    from kwizard.kubespray import run_kubespray_playbook

    operation = ctx.options.operation
    target = _with_kubespray(ctx.spec, str(operation["kubespray_version"]))
    extravars = {"kube_version": str(operation["kube_version"])}
    return run_kubespray_playbook(
        with_earlier_results(replace(ctx, spec=target)), UPGRADE, "upgrade-cluster.yml", extravars=extravars
    )


def pin_phase(ctx: PhaseContext) -> PhaseResult:
    """After a successful upgrade: the new versions in the preset (saved) and the inventory (rewritten)."""
    from kwizard import preset as presets
    from kwizard.day2.phases import with_earlier_results
    from kwizard.inventory import build
    from kwizard.protocol.phase import PhaseResult

    operation = ctx.options.operation
    saved = presets.load(ctx.ws.preset_file)
    pinned = pinned_spec(saved, str(operation["kube_version"]), str(operation["kubespray_version"]))
    if pinned != saved:
        presets.save(pinned, ctx.ws.preset_file)
    outcome = build(with_earlier_results(replace(ctx, spec=pinned)), phase="pin-versions")
    summary = (
        f"{ctx.ws.preset_file.name} now pins Kubernetes {operation['kube_version']} and Kubespray "
        f"{operation['kubespray_version']}"
    )
    return PhaseResult(
        "ok", summary, {"preset": str(ctx.ws.preset_file), "inventory": str(outcome.hosts_file)}
    )


def pinned_spec(spec: ClusterSpec, kube_version: str, kubespray_version: str) -> ClusterSpec:
    """`spec` pinned to the new versions (an extra_vars kube_version override goes: the field holds it)."""
    extra = {k: v for k, v in spec.kubespray.extra_vars.items() if k != "kube_version"}
    kubespray = spec.kubespray.model_copy(
        update={"kube_version": kube_version, "version": kubespray_version, "extra_vars": extra}
    )
    return spec.updated(kubespray=kubespray)


def _with_kubespray(spec: ClusterSpec, version: str) -> ClusterSpec:
    if spec.kubespray.version == version:
        return spec
    return spec.model_copy(update={"kubespray": spec.kubespray.model_copy(update={"version": version})})


PHASES = (
    (UPGRADE, "Kubespray upgrade-cluster.yml", upgrade_phase),
    ("pin-versions", "Pin the new versions in the preset", pin_phase),
)
