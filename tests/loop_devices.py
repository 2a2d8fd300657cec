"""Real block devices for storage tests: sparse files behind loop devices (root only), always detached."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path


def loop_devices_available() -> bool:
    return os.geteuid() == 0 and Path("/dev/loop-control").exists() and shutil.which("losetup") is not None


@contextlib.contextmanager
def loop_device(directory: Path, size_mb: int = 64, filesystem: str | None = None) -> Iterator[str]:
    """A loop device over a sparse file in `directory`, optionally formatted (e.g. "ext4")."""
    image = directory / f"disk-{size_mb}m.img"
    with image.open("wb") as handle:
        handle.truncate(size_mb * 1024 * 1024)
    if filesystem:
        # Format the file itself: the loop device then shows exactly that signature.
        subprocess.run([f"mkfs.{filesystem}", "-q", "-F", str(image)], check=True, timeout=60)
    device = subprocess.run(
        ["losetup", "--find", "--show", str(image)], check=True, capture_output=True, text=True, timeout=30
    ).stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "--detach", device], check=False, timeout=30)
        image.unlink(missing_ok=True)


def file_digest(path: Path) -> str:
    """sha256 of a (backing) file, to prove a device was not touched."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
