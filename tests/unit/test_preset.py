"""Presets: shipped ones load, validate and round-trip; bad ones fail clearly and overwrite nothing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from kwizard import preset as presets
from kwizard.aws import layout
from kwizard.errors import PresetError
from kwizard.resources import shipped_presets
from kwizard.spec import (
    DEFAULT_KUBE_VERSION,
    DEFAULT_KUBESPRAY_VERSION,
    SPEC_VERSION,
    ClusterSpec,
    KubesprayOptions,
)

SHIPPED = shipped_presets()


def test_the_three_required_presets_are_shipped():
    assert {p.name for p in SHIPPED} >= {"baremetal-ha.yaml", "aws-3az.yaml", "lab.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_preset_loads_validates_and_round_trips(path: Path, tmp_path: Path):
    spec = presets.load(path)
    assert path.read_text().startswith("# kwizard preset")
    saved = presets.save(spec, tmp_path / path.name)
    assert presets.load(saved) == spec
    # Saving twice gives the same bytes: presets diff cleanly in version control.
    assert presets.dump(presets.load(saved), path.name) == saved.read_text()


def test_baremetal_preset_matches_the_guides_layout():
    spec = presets.load(next(p for p in SHIPPED if p.name == "baremetal-ha.yaml"))
    assert len(spec.hosts_with("control_plane")) == 3 and len(spec.hosts_with("etcd")) == 3
    assert len(spec.hosts_with("worker")) >= 2
    assert len(spec.hosts_with("loadbalancer")) == 2
    assert len(spec.hosts_with("storage")) == 3 and spec.storage.type == "gluster"
    assert (spec.loadbalancer.http_node_port, spec.loadbalancer.https_node_port) == (30800, 30443)


def test_aws_preset_spreads_over_three_azs():
    spec = presets.load(next(p for p in SHIPPED if p.name == "aws-3az.yaml"))
    assert spec.target == "aws" and spec.storage.type == "aws-ebs"
    assert spec.provision is not None and spec.provision.azs == 3 and spec.provision.nat == "instances"
    planned = layout.hosts(spec.provision)
    assert [(h.name, h.az_index) for h in planned if "loadbalancer" in h.roles] == [
        ("worker-a", 0),
        ("worker-b", 1),
        ("worker-c", 2),
    ]
    assert [(h.name, h.az_index) for h in planned if "control_plane" in h.roles] == [
        ("cp-a", 0),
        ("cp-b", 1),
        ("cp-c", 2),
    ]


def test_saved_preset_has_a_header_mode_0600_and_no_defaults_noise(tmp_path: Path):
    spec = ClusterSpec(name="small")
    path = presets.save(spec, tmp_path / "small.yaml")
    text = path.read_text()
    assert text.startswith("# kwizard preset")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Defaults are left out, except the pinned ones (the versions and what a cluster is built with).
    assert yaml.safe_load(text) == {
        "version": SPEC_VERSION,
        "name": "small",
        "kubespray": {
            "version": DEFAULT_KUBESPRAY_VERSION,
            "kube_version": DEFAULT_KUBE_VERSION,
            "network_plugin": "calico",
            "container_manager": "containerd",
            "pods_subnet": "10.233.64.0/18",
            "service_addresses": "10.233.0.0/18",
        },
        "loadbalancer": {"controller": "traefik"},
    }


def test_a_saved_preset_pins_the_versions_so_newer_defaults_do_not_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A newer kwizard (other defaults) loading the file deploys the versions it was saved with."""
    text = presets.dump(ClusterSpec(name="small", kubespray={"extra_vars": {"helm_enabled": True}}))
    saved = yaml.safe_load(text)["kubespray"]
    assert (saved["version"], saved["kube_version"]) == (DEFAULT_KUBESPRAY_VERSION, DEFAULT_KUBE_VERSION)
    # Keys keep the model's order (pinned ones are not appended after extra_vars).
    assert list(saved)[:2] == ["version", "kube_version"] and list(saved)[-1] == "extra_vars"

    newer = {"version": "v2.32.0", "kube_version": "1.36.4", "network_plugin": "cilium"}
    for name, value in newer.items():
        monkeypatch.setattr(KubesprayOptions.model_fields[name], "default", value)
    KubesprayOptions.model_rebuild(force=True)
    ClusterSpec.model_rebuild(force=True)
    try:
        assert ClusterSpec(name="other").kubespray.kube_version == "1.36.4"  # the patch took effect
        loaded = presets.parse(text).kubespray
        assert (loaded.version, loaded.kube_version, loaded.network_plugin) == (
            DEFAULT_KUBESPRAY_VERSION,
            DEFAULT_KUBE_VERSION,
            "calico",
        )
    finally:
        monkeypatch.undo()
        KubesprayOptions.model_rebuild(force=True)
        ClusterSpec.model_rebuild(force=True)
    assert ClusterSpec(name="other").kubespray.kube_version == DEFAULT_KUBE_VERSION


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_presets_pin_the_current_versions(path: Path):
    """Users start from these files and keep them: they name the versions (bumped with the defaults)."""
    kubespray = yaml.safe_load(path.read_text())["kubespray"]
    assert (kubespray["version"], kubespray["kube_version"]) == (
        DEFAULT_KUBESPRAY_VERSION,
        DEFAULT_KUBE_VERSION,
    )


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: demo\nhosts:\n  - {name: a, address: 10.0.0.1\n")
    with pytest.raises(PresetError) as caught:
        presets.load(path)
    assert caught.value.title == "Preset is not valid YAML"
    assert f"{path}:4:" in caught.value.problem or f"{path}:3:" in caught.value.problem


def test_validation_errors_name_the_line_of_the_key(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nname: demo\nssh:\n  user: ubuntu\n  port: 0\n")
    with pytest.raises(PresetError) as caught:
        presets.load(path)
    assert f"{path}:5: ssh.port" in caught.value.problem


def test_future_version_is_refused_with_upgrade_advice():
    with pytest.raises(PresetError) as caught:
        presets.parse(f"version: {SPEC_VERSION + 1}\nname: demo\n")
    assert caught.value.title == "Preset from a newer kwizard"
    assert "Upgrade kwizard" in caught.value.fix


def test_unversioned_draft_is_migrated():
    spec = presets.parse(
        "name: demo\nnodes:\n  - {name: a, address: 10.0.0.1, roles: [control_plane, etcd]}\n"
    )
    assert spec.version == SPEC_VERSION and spec.hosts[0].name == "a"


@pytest.mark.parametrize("key", ["password", "sudo_pass", "api_token", "aws_secret_access_key"])
def test_secrets_are_refused(key: str):
    with pytest.raises(PresetError) as caught:
        presets.parse(f"version: 1\nname: demo\nssh:\n  {key}: hunter2\n")
    assert caught.value.title == "Secrets do not belong in a preset"
    assert f"ssh.{key}" in caught.value.problem
    assert "hunter2" not in caught.value.problem


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string", "42"])
def test_wrong_top_level_shape(text: str):
    with pytest.raises(PresetError):
        presets.parse(text)


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(PresetError, match="does not exist"):
        presets.load(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PresetError):
        presets.load(binary)


def test_failed_save_keeps_the_previous_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = presets.save(ClusterSpec(name="first"), tmp_path / "p.yaml")
    before = path.read_text()

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("kwizard.fsutil.os.fsync", full_disk)
    with pytest.raises(OSError):
        presets.save(ClusterSpec(name="second"), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.yaml"]  # no temp file left behind
