"""`kwizard upgrade`: the steps Kubespray supports, the refusals naming the path, and the pinned preset."""

from __future__ import annotations

from pathlib import Path

import pytest

from kwizard import cli
from kwizard import preset as presets
from kwizard.day2 import phase_table
from kwizard.day2.upgrade import pinned_kube_version, pinned_spec, plan_upgrade
from kwizard.errors import InputError
from kwizard.paths import workspace
from kwizard.spec import ClusterSpec, Host


def _spec(kubespray: str, kube: str, **extra: object) -> ClusterSpec:
    spec = ClusterSpec(
        name="c1", hosts=[Host(name="cp1", address="10.0.0.1", roles=["control_plane", "etcd"])]
    )
    options = spec.kubespray.model_copy(
        update={"version": kubespray, "kube_version": kube, "extra_vars": dict(extra)}
    )
    return spec.updated(kubespray=options)


def _refused(spec: ClusterSpec, kube: str, kubespray: str | None = None) -> InputError:
    with pytest.raises(InputError) as caught:
        plan_upgrade(spec, kube, kubespray)
    return caught.value


def test_one_minor_with_the_next_kubespray_release_is_planned() -> None:
    upgrade = plan_upgrade(_spec("v2.30.0", "1.34.3"), "1.35.4", "v2.31.0")
    assert upgrade.operation() == {
        "command": "upgrade",
        "kube_version": "1.35.4",
        "kubespray_version": "v2.31.0",
        "from_kube_version": "1.34.3",
        "from_kubespray_version": "v2.30.0",
    }
    assert upgrade.text() == "Kubernetes 1.34.3 → 1.35.4 with Kubespray v2.30.0 → v2.31.0"
    assert plan_upgrade(_spec("v2.31.0", "1.34.3"), "v1.34.7", None).to_kube == "1.34.7"  # a patch


def test_two_minors_at_once_are_refused_with_the_steps() -> None:
    error = _refused(_spec("v2.31.0", "1.33.11"), "1.35.4")
    assert error.title == "One Kubernetes minor at a time"
    assert error.fix.endswith(
        "kwizard upgrade c1 --kube-version 1.34.7; then kwizard upgrade c1 --kube-version 1.35.4."
    )
    across = _refused(_spec("v2.30.0", "1.33.7"), "1.35.4")
    assert across.fix.endswith(
        "1.34.3; then kwizard upgrade c1 --kube-version 1.35.4 --kubespray-version v2.31.0."
    )
    older = _refused(_spec("v2.29.1", "1.31.14"), "1.33.7")
    assert (
        "kwizard upgrade c1 --kube-version 1.32.10; then kwizard upgrade c1 --kube-version 1.33.7."
        in older.fix
    )
    ahead = _refused(_spec("v2.31.0", "1.34.7"), "1.36.1")
    assert ahead.fix.endswith(
        "kwizard upgrade c1 --kube-version 1.36.1 (with a Kubespray release that supports it)."
    )


def test_a_version_the_pinned_kubespray_does_not_support_names_the_release_that_does() -> None:
    error = _refused(_spec("v2.30.0", "1.34.3"), "1.35.4")
    assert error.title == "Unsupported Kubernetes version"
    assert "1.32.0-1.32.11, 1.33.0-1.33.7, 1.34.0-1.34.3" in error.problem
    assert "--kubespray-version v2.31.0" in error.fix
    beyond = _refused(_spec("v2.31.0", "1.35.4"), "1.35.9")
    assert beyond.title == "Unsupported Kubernetes version" and "1.35.4" in beyond.fix


def test_downgrades_are_refused() -> None:
    assert _refused(_spec("v2.31.0", "1.35.4"), "1.34.7").title == "Kubernetes cannot be downgraded"
    assert _refused(_spec("v2.31.0", "1.35.4"), "1.35.4", "v2.30.0").title == "Kubespray cannot be downgraded"


def test_skipping_a_kubespray_release_is_refused_with_the_path() -> None:
    error = _refused(_spec("v2.29.1", "1.33.7"), "1.34.3", "v2.31.0")
    assert error.title == "One Kubespray release at a time"
    assert "--kubespray-version v2.30.0" in error.fix and "--kubespray-version v2.31.0" in error.fix


def test_bad_and_empty_requests_are_refused() -> None:
    assert _refused(_spec("v2.31.0", "1.35.4"), "latest").title == "Invalid Kubernetes version"
    assert _refused(_spec("v2.31.0", "1.35.4"), "1.35.4").title == "Nothing to upgrade"
    assert _refused(_spec("v2.31.0", "1.34.3"), "1.35.4", "v2.32.0").title == "Unknown Kubespray version"


def test_an_extra_vars_kube_version_is_the_current_one_and_pinning_moves_it_to_the_field() -> None:
    spec = _spec("v2.31.0", "1.35.4", kube_version="1.34.3", calico_version="3.30.0")
    assert pinned_kube_version(spec) == "1.34.3"
    pinned = pinned_spec(spec, "1.35.4", "v2.31.0")
    assert pinned.kubespray.kube_version == "1.35.4"
    assert pinned.kubespray.extra_vars == {"calico_version": "3.30.0"}


def test_the_upgrade_run_has_its_phases() -> None:
    operation = plan_upgrade(_spec("v2.30.0", "1.34.3"), "1.35.4", "v2.31.0").operation()
    assert [d.name for d in phase_table(operation)] == ["upgrade", "pin-versions"]


def test_refusals_reach_the_user_before_any_host(
    kwizard_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace("c1", kwizard_root).create()
    presets.save(_spec("v2.31.0", "1.33.11"), ws.preset_file)
    before = ws.preset_file.read_text()
    assert cli.main(["upgrade", "c1", "--kube-version", "1.35.4", "--yes"]) == 2
    assert "One Kubernetes minor at a time" in capsys.readouterr().err
    assert cli.main(["upgrade", "c1", "--kube-version", "1.34.7"]) == 2  # no terminal, no --yes
    assert "--yes" in capsys.readouterr().err
    assert ws.preset_file.read_text() == before
    assert not any(ws.runs_dir.glob("2*")) if ws.runs_dir.exists() else True
