"""The Gluster plan: bricks, mount hosts and playbook inputs derived from the spec, and its refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from kwizard.errors import InputError
from kwizard.preset import load
from kwizard.spec import ClusterSpec
from kwizard.storage.plan import LVM_TAG, NODE_LABEL, VOLUME_GROUP, gluster_plan

PRESETS = Path(__file__).resolve().parents[2] / "presets"


def spec_with(storage_hosts: int, replicas: int = 3, **gluster: object) -> ClusterSpec:
    hosts = [{"name": "cp1", "address": "10.0.0.1", "roles": ["control_plane", "etcd"]}]
    hosts.append({"name": "w1", "address": "10.0.0.2", "roles": ["worker"]})
    for n in range(storage_hosts):
        hosts.append({"name": f"g{n + 1}", "address": f"10.0.1.{n + 1}", "roles": ["storage"]})
    return ClusterSpec.model_validate(
        {
            "name": "c",
            "hosts": hosts,
            "storage": {"type": "gluster", "gluster": {"replicas": replicas, **gluster}},
        }
    )


def test_the_bare_metal_preset_gives_three_lvm_bricks_and_mounts_on_every_node() -> None:
    plan = gluster_plan(load(PRESETS / "baremetal-ha.yaml"))
    assert [(b.host, b.address, b.device, b.kind) for b in plan.bricks] == [
        ("gluster1", "10.0.0.31", "/dev/sdb", "lvm"),
        ("gluster2", "10.0.0.32", "/dev/sdb", "lvm"),
        ("gluster3", "10.0.0.33", "/dev/sdb", "lvm"),
    ]
    assert plan.mount_hosts == ("cp1", "cp2", "cp3", "worker1", "worker2", "worker3")
    assert plan.control_plane == "cp1"
    assert plan.brick_path == "/data/glusterfs/brick1/brick"
    assert plan.capacity == "9Gi"


def test_extravars_carry_everything_the_playbook_reads() -> None:
    plan = gluster_plan(spec_with(3, gid=2000, volume="data", pv_count=2))
    extravars = plan.extravars("--- {}\n")
    gluster = extravars["kwizard_gluster"]
    assert gluster["servers"] == ["10.0.1.1", "10.0.1.2", "10.0.1.3"]
    assert gluster["primary"] == "g1" and gluster["secondary"] == "g2"
    assert gluster["bricks"]["g2"] == {"address": "10.0.1.2", "device": None}
    assert gluster["gid"] == 2000 and gluster["vg"] == VOLUME_GROUP and gluster["lvm_tag"] == LVM_TAG
    assert gluster["lv"] == "brick_data"
    assert gluster["pv_dirs"] == ["pv/gluster-data-01", "pv/gluster-data-02"]
    assert gluster["mount_hosts"] == ["cp1", "w1"] and gluster["control_plane"] == "cp1"
    assert gluster["node_label"] == NODE_LABEL
    assert extravars["kwizard_manifest"] == "--- {}\n"
    assert extravars["kwizard_manifest_name"] == "gluster-data.yaml"


def test_the_bind_ip_is_the_brick_address_when_given() -> None:
    spec = spec_with(3)
    hosts = [h.model_dump() for h in spec.hosts]
    hosts[2]["ip"] = "192.168.5.1"
    plan = gluster_plan(spec.updated(hosts=hosts))
    assert plan.bricks[0].address == "192.168.5.1"


def test_six_hosts_make_a_distributed_replica_3_volume() -> None:
    assert len(gluster_plan(spec_with(6)).bricks) == 6


@pytest.mark.parametrize(
    ("hosts", "replicas", "title"),
    [
        (0, 3, "No storage hosts"),
        (4, 3, "Storage hosts do not fill the replica sets"),
        (2, 2, None),
    ],
)
def test_host_counts(hosts: int, replicas: int, title: str | None) -> None:
    spec = spec_with(hosts, replicas)
    if title is None:
        assert len(gluster_plan(spec).bricks) == hosts
        return
    with pytest.raises(InputError) as caught:
        gluster_plan(spec)
    assert caught.value.title == title
    assert caught.value.fix


def test_too_few_hosts_for_the_replicas_is_refused_with_the_numbers() -> None:
    # The ClusterSpec validator refuses this too, but an assignment to the nested settings bypasses it.
    spec = spec_with(3)
    spec.storage.gluster.replicas = 5
    with pytest.raises(InputError) as caught:
        gluster_plan(spec)
    assert caught.value.title == "Too few storage hosts"
    assert "replica-5" in caught.value.problem and "3 have the storage role" in caught.value.problem


def test_a_mount_point_inside_the_brick_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        gluster_plan(spec_with(3, brick_dir="/data/gluster", mount_point="/data/gluster/mnt"))
    assert caught.value.title == "Mount point and brick overlap"
