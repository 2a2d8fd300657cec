"""Spec fields of the storage choice: bad values are refused with the key and a clear reason."""

from __future__ import annotations

import pytest

from kwizard.errors import InputError
from kwizard.spec import ClusterSpec, GlusterSettings, Host


@pytest.mark.parametrize("size", ["9g", "500M", "2t", "10G"])
def test_lvm_sizes_are_accepted_and_normalised(size: str) -> None:
    assert GlusterSettings(size=size).size == size.lower()


@pytest.mark.parametrize("size", ["9", "9gb", "0g", "-1g", "9 g", "1.5g", "9k"])
def test_bad_sizes_are_refused(size: str) -> None:
    with pytest.raises(ValueError, match="is not a size like"):
        GlusterSettings(size=size)


@pytest.mark.parametrize("volume", ["gv0", "data_1", "es-data"])
def test_volume_names(volume: str) -> None:
    assert GlusterSettings(volume=volume).volume == volume


@pytest.mark.parametrize("volume", ["", "-x", "a b", "vol;rm", "x" * 33])
def test_bad_volume_names_are_refused(volume: str) -> None:
    with pytest.raises(ValueError, match="not a valid Gluster volume name"):
        GlusterSettings(volume=volume)


@pytest.mark.parametrize("path", ["relative/dir", "/", "/with space", ""])
def test_brick_dir_and_mount_point_must_be_absolute(path: str) -> None:
    with pytest.raises(ValueError, match="absolute path"):
        GlusterSettings(brick_dir=path)
    with pytest.raises(ValueError, match="absolute path"):
        GlusterSettings(mount_point=path)


def test_trailing_slashes_are_dropped() -> None:
    assert GlusterSettings(mount_point="/mnt/gluster/").mount_point == "/mnt/gluster"


@pytest.mark.parametrize("device", ["sdb", "/dev/", "/dev/../etc/passwd", "/dev/sd b", "/tmp/disk"])
def test_storage_device_must_be_a_dev_path(device: str) -> None:
    with pytest.raises(ValueError, match="not a block device path"):
        Host(name="g1", address="10.0.0.1", storage_device=device)


def test_storage_device_by_id() -> None:
    path = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123"
    assert Host(name="g1", address="10.0.0.1", storage_device=path).storage_device == path


def test_invalid_size_through_the_wizard_names_the_key() -> None:
    spec = ClusterSpec(name="c")
    with pytest.raises(InputError) as caught:
        spec.updated(storage={"type": "gluster", "gluster": {"size": "lots"}})
    assert "storage.gluster.size" in caught.value.problem
