"""The storage phase on the lab: a real replica-3 Gluster volume, FUSE mounts, group writes, idempotence.

Storage hosts lab1, lab2, lab5 (glusterd runs there, as the package's service would start it; each host's
root filesystem is private); lab4 is the Kubernetes worker that mounts the volume; lab1 is the control
plane. No API server runs in the lab, so a recording kubectl stand-in is put on lab1's PATH by this test
only; what it was given is validated against the Kubernetes schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# Until the ansible-runner adapter (#7) is merged, there is nothing to run the playbook with.
pytest.importorskip("kwizard.runner.adapter", reason="the ansible-runner adapter is not merged yet")

from kwizard.lab import Lab
from kwizard.storage import run_phase
from kwizard.storage.plan import NODE_LABEL
from tests.k8s_schema import validate_strict
from tests.storage_lab import (
    BRICK_DIR,
    GID,
    MOUNT,
    NODE,
    STORAGE_HOSTS,
    VOLUME,
    cleanup,
    install_standin,
    lab_context,
    lab_spec,
    run,
    standin_calls,
)


@pytest.fixture(scope="module")
def built(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Any, Any]]:
    """The storage phase run twice on the lab: (lab, first result, second result)."""
    cleanup(lab)
    install_standin(lab.host("lab1"))
    spec = lab_spec(lab)
    ctx = lab_context(lab, spec, tmp_path_factory.mktemp("ws"))
    try:
        first = run_phase(ctx)
        second = run_phase(ctx)
        yield lab, first, second
    finally:
        cleanup(lab)


def test_a_replica_3_volume_is_built_from_directory_bricks(built: tuple[Lab, Any, Any]) -> None:
    lab, first, _ = built
    assert first.status == "ok", first.summary
    info = run(lab.host("lab2"), f"gluster --mode=script volume info {VOLUME}")
    assert "Type: Replicate" in info and "Status: Started" in info
    assert "Number of Bricks: 1 x 3 = 3" in info
    for name in STORAGE_HOSTS:
        assert f"{lab.host(name).address}:{BRICK_DIR}/brick" in info
    assert f"storage.owner-gid: {GID}" in info
    peers = run(lab.host("lab5"), "gluster --mode=script pool list")
    assert peers.count("Connected") == 3


def test_the_node_mounts_it_and_a_file_written_there_is_on_every_brick(built: tuple[Lab, Any, Any]) -> None:
    lab, _, _ = built
    node = lab.host(NODE)
    assert f"{MOUNT} fuse.glusterfs" in run(node, f"findmnt -n -o TARGET,FSTYPE {MOUNT}").replace("  ", " ")
    fstab = run(node, "cat /etc/fstab")
    servers = [lab.host(n).address for n in STORAGE_HOSTS]
    assert (
        f"{servers[0]}:/{VOLUME} {MOUNT} glusterfs "
        f"defaults,_netdev,backup-volfile-servers={servers[1]}:{servers[2]} 0 0"
    ) in fstab
    run(node, f"echo from-{NODE} > {MOUNT}/pv/gluster-{VOLUME}-01/probe.txt")
    for name in STORAGE_HOSTS:
        brick_file = f"{BRICK_DIR}/brick/pv/gluster-{VOLUME}-01/probe.txt"
        assert run(lab.host(name), f"cat {brick_file}") == f"from-{NODE}\n", name


def test_a_non_root_user_in_the_group_can_write_and_others_cannot(built: tuple[Lab, Any, Any]) -> None:
    lab, _, _ = built
    node = lab.host(NODE)
    folder = f"{MOUNT}/pv/gluster-{VOLUME}-02"
    # As a pod with runAsUser 2000 and supplementalGroups [1000] would run.
    member = node.exec(f"setpriv --reuid 2000 --regid 2000 --groups {GID} sh -c 'echo ok > {folder}/es.txt'")
    assert member.returncode == 0, member.stderr
    assert run(node, f"stat -c '%u %g' {folder}/es.txt") == f"2000 {GID}\n"  # setgid folder: group kept
    stranger = node.exec(f"setpriv --reuid 2001 --regid 2001 --clear-groups sh -c 'echo no > {folder}/x.txt'")
    assert stranger.returncode != 0 and "Permission denied" in stranger.stderr
    assert run(lab.host("lab5"), f"stat -c '%u %g' {BRICK_DIR}/brick/pv/gluster-{VOLUME}-02/es.txt") == (
        f"2000 {GID}\n"
    )


def test_the_manifests_applied_on_the_control_plane_validate(built: tuple[Lab, Any, Any]) -> None:
    lab, first, _ = built
    calls = standin_calls(lab.host("lab1"))
    applied = [m for call in calls for m in call.get("manifests", [])]
    kinds = sorted({(m["kind"], m["metadata"]["name"]) for m in applied})
    assert kinds == [
        ("PersistentVolume", f"gluster-{VOLUME}-01"),
        ("PersistentVolume", f"gluster-{VOLUME}-02"),
        ("PersistentVolume", f"gluster-{VOLUME}-03"),
        ("StorageClass", "gluster"),
    ]
    assert validate_strict(applied, "1.35.4") == "1.35.0"
    labelled = {c["argv"][-2] for c in calls if "label" in c["argv"]}
    assert labelled == {"lab1", NODE}
    assert all(c["argv"][-1] == f"{NODE_LABEL}=mounted" for c in calls if "label" in c["argv"])
    assert first.data["pvs"] == [f"gluster-{VOLUME}-0{n}" for n in (1, 2, 3)]


def test_the_second_run_changes_nothing(built: tuple[Lab, Any, Any]) -> None:
    _, first, second = built
    assert first.data["changed"] > 0
    assert second.status == "ok", second.summary
    assert {host: stats["changed"] for host, stats in second.data["stats"].items()} == {
        name: 0 for name in ("lab1", "lab2", "lab5", NODE)
    }
