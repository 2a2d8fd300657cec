"""The lab's state file: what `up` created (or was about to create), so `down` can always undo it.

It is written before anything is created and after every host starts, atomically and 0600. It holds no
secret (the lab password is derived from the key, see accounts.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kwizard.errors import KwizardError
from kwizard.fsutil import atomic_write, ensure_private_dir
from kwizard.lab.profile import LabProfile

STATE_VERSION = 1
LOCK_TIMEOUT = 60.0


class HostRecord(BaseModel):
    """One host as started: where it is and which process is its PID 1."""

    model_config = ConfigDict(extra="ignore")

    name: str
    index: int
    address: str
    netns: str
    veth: str
    host_key: str = ""
    launcher_pid: int | None = None  # the `unshare` process on this machine
    init_pid: int | None = None  # the host's PID 1 (its sshd), as seen from this machine


class LabState(BaseModel):
    """Everything about a lab that outlives the `kwizard lab up` process."""

    model_config = ConfigDict(extra="ignore")

    version: int = STATE_VERSION
    name: str
    subnet: str
    bridge: str
    status: Literal["starting", "up"] = "starting"
    created: float
    profile: LabProfile
    hosts: list[HostRecord]

    def host(self, name: str) -> HostRecord:
        for record in self.hosts:
            if record.name == name:
                return record
        raise KeyError(name)


def save(path: Path, state: LabState) -> None:
    atomic_write(path, state.model_dump_json(indent=2) + "\n")


def load(path: Path) -> LabState | None:
    """The saved state, or None if there is none or it is unreadable (then `down` sweeps by name)."""
    try:
        return LabState.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError):
        return None


@contextlib.contextmanager
def locked(lock_file: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Serialize `up`/`down` of one lab across processes (bounded wait).

    The lock file sits next to the lab's folder, not in it: `down` deletes that folder.
    """
    ensure_private_dir(lock_file.parent)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise KwizardError(
                        "Lab is busy",
                        f"another kwizard command has held {lock_file} for over {timeout:.0f} s",
                        "Wait for it to finish, or stop it and run `kwizard lab down`.",
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)
