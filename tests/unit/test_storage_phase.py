"""The storage phase around the playbook: what it refuses before running, and how results are reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kwizard.errors import KwizardError, RemoteError
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.preset import load
from kwizard.protocol.phase import PhaseContext
from kwizard.runner import PlaybookResult
from kwizard.spec import ClusterSpec
from kwizard.storage.phase import (
    GLUSTER_FIX,
    PLAYBOOKS,
    _raise_refusal,
    failure_text,
    inventory_groups,
    provisioner_extravars,
    run_phase,
)

PRESETS = Path(__file__).resolve().parents[2] / "presets"
# AWS hosts that exist already (the shipped aws-3az preset creates its own).
AWS_HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "presets" / "aws-3az-hosts.yaml"


def context(tmp_path: Path, spec: ClusterSpec) -> PhaseContext:
    return PhaseContext(spec=spec, ws=Workspace(tmp_path / "ws", spec.name).create(), options=RunOptions())


def write_inventory(ctx: PhaseContext, children: dict[str, list[str]]) -> Path:
    hosts = sorted({h for members in children.values() for h in members})
    data = {
        "all": {
            "hosts": {h: {"ansible_host": "127.0.0.1"} for h in hosts},
            "children": {g: {"hosts": {h: None for h in members}} for g, members in children.items()},
        }
    }
    path = ctx.ws.inventory_dir / "hosts.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_none_is_skipped_without_touching_anything(tmp_path: Path) -> None:
    spec = load(PRESETS / "baremetal-ha.yaml").updated(storage={"type": "none"})
    result = run_phase(context(tmp_path, spec))
    assert result.status == "skipped"


def test_gluster_without_an_inventory_says_to_run_the_inventory_phase(tmp_path: Path) -> None:
    with pytest.raises(KwizardError) as caught:
        run_phase(context(tmp_path, load(PRESETS / "baremetal-ha.yaml")))
    assert caught.value.title == "No inventory yet"
    assert "--only inventory" in caught.value.fix


def test_an_inventory_without_the_storage_hosts_is_refused(tmp_path: Path) -> None:
    ctx = context(tmp_path, load(PRESETS / "baremetal-ha.yaml"))
    write_inventory(ctx, {"kube_control_plane": ["cp1"], "gfs_cluster": ["gluster1", "gluster2"]})
    with pytest.raises(KwizardError) as caught:
        run_phase(ctx)
    assert caught.value.title == "Inventory does not match the storage hosts"
    assert "['gluster1', 'gluster2']" in caught.value.problem
    assert "['gluster1', 'gluster2', 'gluster3']" in caught.value.problem


def test_inventory_groups_fold_children_into_parents(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {"a": {}, "b": {}},
                    "children": {
                        "k8s_cluster": {"children": {"kube_node": {"hosts": {"b": None}}}},
                        "gfs_cluster": {"hosts": {"a": None}},
                    },
                }
            }
        )
    )
    groups = inventory_groups(path)
    assert groups["kube_node"] == {"b"} and groups["k8s_cluster"] == {"b"}
    assert groups["gfs_cluster"] == {"a"} and groups["all"] == {"a", "b"}


def test_an_unreadable_inventory_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text("all: [unclosed")
    with pytest.raises(KwizardError) as caught:
        inventory_groups(path)
    assert caught.value.title == "Unreadable inventory"


def test_aws_ebs_requires_the_csi_driver_and_applies_the_gp3_class() -> None:
    extravars = provisioner_extravars(load(AWS_HOSTS))
    assert extravars["kwizard_control_plane"] == "cp-a"
    assert [(r["kind"], r["name"]) for r in extravars["kwizard_storage_require"]] == [
        ("csidriver", "ebs.csi.aws.com")
    ]
    assert "aws_ebs_csi_enabled" in extravars["kwizard_storage_require"][0]["hint"]
    assert "provisioner: ebs.csi.aws.com" in extravars["kwizard_manifest"]
    assert extravars["kwizard_manifest_name"] == "storageclass-ebs-gp3.yaml"


def test_local_path_only_verifies_kubesprays_class() -> None:
    spec = load(PRESETS / "baremetal-ha.yaml").updated(storage={"type": "local-path"})
    extravars = provisioner_extravars(spec)
    assert [(r["kind"], r["name"]) for r in extravars["kwizard_storage_require"]] == [
        ("storageclass", "local-path")
    ]
    assert "local_path_provisioner_enabled" in extravars["kwizard_storage_require"][0]["hint"]
    assert extravars["kwizard_manifest"] == ""


def test_a_playbook_refusal_becomes_one_clear_error() -> None:
    refusal = "kwizard-storage: /dev/sdb on g1 already holds data (TYPE=ext4). Nothing was changed."
    result = PlaybookResult(
        status="failed",
        rc=2,
        failures=[
            {"host": "g1", "task": "Refuse a device", "res": {"msg": refusal}},
            {"host": "g2", "task": "Refuse a device", "res": {"msg": "NO MORE HOSTS LEFT"}},
        ],
    )
    with pytest.raises(RemoteError) as caught:
        _raise_refusal(result, "Storage setup refused", GLUSTER_FIX)
    assert caught.value.title == "Storage setup refused"
    assert caught.value.problem == "/dev/sdb on g1 already holds data (TYPE=ext4). Nothing was changed."
    assert "Nothing was changed" in caught.value.fix


def test_other_failures_are_summarised_per_host() -> None:
    result = PlaybookResult(
        status="failed",
        rc=2,
        failures=[
            {"host": "g1", "task": "Create the volume", "res": {"stderr": "volume create: gv0: failed"}}
        ],
    )
    _raise_refusal(result, "t", "f")  # not a refusal: no exception
    assert failure_text(result) == "g1: Create the volume: volume create: gv0: failed"
    assert "status failed" in failure_text(PlaybookResult(status="failed", rc=4))


def test_a_looped_task_failure_shows_the_failed_items() -> None:
    res = {
        "msg": "One or more items failed",
        "results": [
            {"item": "10.0.0.2", "failed": False, "stdout": "peer probe: success"},
            {"item": "10.0.0.3", "failed": True, "msg": "non-zero return code", "stderr": "probe: failed"},
        ],
    }
    result = PlaybookResult(status="failed", rc=2, failures=[{"host": "g1", "task": "Probe", "res": res}])
    assert failure_text(result) == "g1: Probe: 10.0.0.3: probe: failed"


@pytest.mark.parametrize("playbook", ["gluster.yml", "storage_class.yml"])
def test_playbooks_pass_ansibles_syntax_check(tmp_path: Path, playbook: str) -> None:
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(
        yaml.safe_dump(
            {"all": {"children": {g: {"hosts": {"h1": None}} for g in ("gfs_cluster", "kube_node")}}}
        )
    )
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    done = subprocess.run(
        [str(ansible_playbook), "--syntax-check", "-i", str(inventory), str(PLAYBOOKS / playbook)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cluster_storage_is_skipped_when_the_preset_builds_no_cluster(tmp_path: Path):
    spec = load(AWS_HOSTS).updated(phases=["access", "preflight", "inventory", "storage"])
    ctx = context(tmp_path, spec)
    write_inventory(ctx, {"kube_control_plane": [h.name for h in spec.hosts_with("control_plane")]})
    result = run_phase(ctx)
    assert result.status == "skipped"
    assert "builds no cluster" in result.summary
