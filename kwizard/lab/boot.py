"""Booting lab hosts: prepare their files, start their PID 1, wait until their services answer."""

from __future__ import annotations

import time
from collections.abc import Callable

from kwizard.errors import KwizardError
from kwizard.lab import process, rootfs, state
from kwizard.lab.layout import SSH_PORT, LabLayout
from kwizard.lab.profile import LabProfile

GLUSTERD_PORT = 24007
# Service → "does it answer at this address?"; a host is ready when all of its services answer, in order.
_PROBES: dict[str, Callable[[str], bool]] = {
    "sshd": lambda address: process.ssh_banner(address, SSH_PORT, timeout=0.2),
    "glusterd": lambda address: process.port_open(address, GLUSTERD_PORT),
}


def prepare(
    layout: LabLayout,
    profile: LabProfile,
    records: list[state.HostRecord],
    public_key: str,
    password_hash: str,
    keep_keys: dict[str, tuple[bytes, bytes]] | None = None,
) -> None:
    """Write the folders of the hosts in `records`; fills in each record's host key."""
    every_host = tuple(f"{layout.address(i)}\t{h.name}" for i, h in enumerate(profile.hosts, start=1))
    for record in records:
        files = rootfs.HostFiles(
            traits=profile.host(record.name),
            address=record.address,
            gateway=layout.gateway,
            user=profile.user,
            lab_public_key=public_key,
            password_hash=password_hash,
            hosts_lines=every_host,
        )
        kept = (keep_keys or {}).get(record.name)
        record.host_key = rootfs.prepare(layout.host_dir(record.name), files, host_key=kept)


def start(
    layout: LabLayout,
    profile: LabProfile,
    records: list[state.HostRecord],
    deadline: float,
    timeout: float,
    started: Callable[[], None] = lambda: None,
) -> None:
    """Start the hosts and wait until they answer; `started` is called once every PID 1 is known."""
    for record in records:
        process.start_host(
            record.netns, record.index, profile.host(record.name), layout.host_dir(record.name)
        )
    for record in records:
        console = layout.host_dir(record.name) / "console.log"
        try:
            record.launcher_pid, record.init_pid = process.wait_for_init(record.netns, deadline, console)
        except process.HostDied:
            raise start_failure(layout, record.name, "its init process exited") from None
        except TimeoutError:
            raise start_failure(layout, record.name, "its init process never appeared") from None
    started()
    _wait_ready(layout, records, profile, deadline, timeout)


def _wait_ready(
    layout: LabLayout, records: list[state.HostRecord], profile: LabProfile, deadline: float, timeout: float
) -> None:
    """Wait until every sshd answers, and every glusterd the profile asks for accepts connections."""
    pending: dict[str, list[str]] = {
        r.name: ["sshd", *(["glusterd"] if profile.host(r.name).glusterd else [])] for r in records
    }
    by_name = {r.name: r for r in records}
    while pending:
        for name, services in list(pending.items()):
            record = by_name[name]
            if not process.alive(record.init_pid):
                raise start_failure(layout, name, "its init process exited")
            if _PROBES[services[0]](record.address):
                services.pop(0)
            if not services:
                del pending[name]
        if pending and time.monotonic() > deadline:
            waiting = ", ".join(f"{name} ({services[0]})" for name, services in pending.items())
            raise start_failure(
                layout, next(iter(pending)), f"no answer within {timeout:.0f} s from {waiting}"
            )
        if pending:
            time.sleep(0.02)


def start_failure(layout: LabLayout, host: str, why: str) -> KwizardError:
    log = layout.host_dir(host) / "console.log"
    try:
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-8:])
    except OSError:
        tail = ""
    shown = f"\nIts console said:\n{tail}" if tail else ""
    return KwizardError(
        f"Lab host {host} failed to start",
        f"{host} did not come up: {why}.{shown}\nThe partly built lab was removed again.",
        "Check that openssh-server (and glusterfs-server for glusterd hosts) is installed and that the "
        "machine has free memory; `sudo bash .ci/install` installs everything the lab needs.",
    )
