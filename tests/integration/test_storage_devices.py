"""LVM bricks on real loop devices in the lab: devices holding data are refused and left untouched.

The loop devices are made on this machine; the lab hosts share its /dev, so each host sees them at the same
path. Whether LVM logical volumes can be created depends on the kernel having device-mapper: where it
has, the test builds the volume on LVM; where it has not, it checks the clear refusal instead.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# Until the ansible-runner adapter (#7) is merged, there is nothing to run the playbook with.
pytest.importorskip("kwizard.runner.adapter", reason="the ansible-runner adapter is not merged yet")

from kwizard.errors import RemoteError
from kwizard.lab import Lab
from kwizard.storage import run_phase
from kwizard.storage.plan import LVM_TAG, VOLUME_GROUP
from tests.loop_devices import file_digest, loop_device, loop_devices_available
from tests.storage_lab import BRICK_DIR, STORAGE_HOSTS, lab_context, lab_spec

pytestmark = pytest.mark.skipif(not loop_devices_available(), reason="needs loop devices")


def device_mapper_available() -> bool:
    done = subprocess.run(["dmsetup", "version"], capture_output=True, text=True, timeout=30, check=False)
    return done.returncode == 0


def backing_file(device: str) -> Path:
    return Path(Path(f"/sys/block/{Path(device).name}/loop/backing_file").read_text().strip())


def loop_devices(stack: contextlib.ExitStack, directory: Path, size_mb: int) -> dict[str, str]:
    """One empty loop device per storage host."""
    devices = {}
    for name in STORAGE_HOSTS:
        (directory / name).mkdir()
        devices[name] = stack.enter_context(loop_device(directory / name, size_mb=size_mb))
    return devices


@contextlib.contextmanager
def volume_group(device: str, name: str, tag: str | None) -> Iterator[None]:
    """An LVM physical volume + volume group on `device` (metadata only: no device-mapper needed)."""
    tag_args = ["--addtag", tag] if tag else []
    subprocess.run(["pvcreate", "-q", "-y", device], check=True, capture_output=True, timeout=60)
    subprocess.run(["vgcreate", "-q", *tag_args, name, device], check=True, capture_output=True, timeout=60)
    try:
        yield
    finally:
        subprocess.run(["vgremove", "-q", "-f", name], check=False, capture_output=True, timeout=60)
        subprocess.run(["pvremove", "-q", "-y", device], check=False, capture_output=True, timeout=60)


def assert_nothing_built(lab: Lab, volume: str) -> None:
    for name in STORAGE_HOSTS:
        host = lab.host(name)
        assert host.exec(f"test -e {BRICK_DIR}").returncode == 1, f"{name}: a brick folder was created"
        assert host.exec(f"gluster --mode=script volume info {volume}").returncode != 0


def test_a_device_with_an_ext4_filesystem_is_refused_and_untouched(lab: Lab, tmp_path: Path) -> None:
    with loop_device(tmp_path, size_mb=64, filesystem="ext4") as device:
        image = backing_file(device)
        before = file_digest(image)
        ctx = lab_context(lab, lab_spec(lab, volume="kwsrefused", devices={"lab2": device}), tmp_path / "ws")
        with pytest.raises(RemoteError) as caught:
            run_phase(ctx)
        assert file_digest(image) == before
        assert lab.host("lab2").exec(f"blkid -p -o value -s TYPE {device}").stdout.strip() == "ext4"
    error = caught.value
    assert error.title == "Storage setup refused"
    assert f"{device} on lab2 already holds data" in error.problem and "TYPE=ext4" in error.problem
    assert "Nothing was changed" in error.problem
    assert_nothing_built(lab, "kwsrefused")


def test_someone_elses_volume_group_is_refused(lab: Lab, tmp_path: Path) -> None:
    with loop_device(tmp_path, size_mb=64) as device, volume_group(device, "vg_database", None):
        ctx = lab_context(lab, lab_spec(lab, volume="kwsforeign", devices={"lab5": device}), tmp_path / "ws")
        with pytest.raises(RemoteError) as caught:
            run_phase(ctx)
        groups = subprocess.run(
            ["vgs", "--noheadings", "-o", "vg_name,lv_count"], capture_output=True, text=True
        )
        assert "vg_database" in groups.stdout and VOLUME_GROUP not in groups.stdout
    assert f"{device} on lab5 already holds data" in caught.value.problem
    assert "TYPE=LVM2_member" in caught.value.problem
    assert_nothing_built(lab, "kwsforeign")


@pytest.mark.skipif(device_mapper_available(), reason="this kernel has device-mapper: LVM is built instead")
def test_lvm_without_device_mapper_is_refused_before_anything_is_written(lab: Lab, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        devices = loop_devices(stack, tmp_path, size_mb=64)
        # lab1's device already carries kwizard's own (tagged) volume group: not "data", but LVM still
        # needs device-mapper to go on.
        stack.enter_context(volume_group(devices["lab1"], VOLUME_GROUP, LVM_TAG))
        digests = {name: file_digest(backing_file(d)) for name, d in devices.items() if name != "lab1"}
        ctx = lab_context(lab, lab_spec(lab, volume="kwslvm", devices=devices), tmp_path / "ws")
        with pytest.raises(RemoteError) as caught:
            run_phase(ctx)
        assert {name: file_digest(backing_file(devices[name])) for name in digests} == digests
    assert "has no device-mapper" in caught.value.problem
    assert "already holds data" not in caught.value.problem
    assert_nothing_built(lab, "kwslvm")


@pytest.mark.skipif(not device_mapper_available(), reason="this kernel has no device-mapper (no LVM volumes)")
def test_lvm_bricks_on_loop_devices(lab: Lab, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        devices = loop_devices(stack, tmp_path, size_mb=128)
        stack.callback(_remove_lvm, lab, "kwslvm")
        ctx = lab_context(lab, lab_spec(lab, volume="kwslvm", devices=devices), tmp_path / "ws")
        result = run_phase(ctx)
        assert result.status == "ok", result.summary
        for name in STORAGE_HOSTS:
            host = lab.host(name)
            assert host.exec(f"findmnt -n -o FSTYPE {BRICK_DIR}").stdout.strip() == "xfs"
            tags = host.exec(f"lvs --noheadings -o lv_tags {VOLUME_GROUP}/brick_kwslvm").stdout.strip()
            assert tags == LVM_TAG
        assert run_phase(ctx).data["changed"] == 0


def _remove_lvm(lab: Lab, volume: str) -> None:
    primary = lab.host("lab1")
    primary.exec(
        f"gluster --mode=script volume stop {volume} force; gluster --mode=script volume delete {volume}"
    )
    for name in STORAGE_HOSTS:
        host = lab.host(name)
        host.exec(
            f"umount -l /mnt/kwstest; umount -l {BRICK_DIR}; vgremove -f {VOLUME_GROUP}; rm -rf {BRICK_DIR}"
        )
