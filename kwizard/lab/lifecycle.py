"""`up`, `down`, `reset` and `load` of a lab: order of creation, rollback and complete teardown."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from kwizard.errors import InputError, KwizardError
from kwizard.fsutil import atomic_write, ensure_private_dir
from kwizard.lab import accounts, boot, checks, net, process, rootfs, state
from kwizard.lab.layout import DEFAULT_NAME, DEFAULT_SUBNET, SSH_PORT, LabLayout, check_lab_name, check_subnet
from kwizard.lab.model import Lab, LabHost
from kwizard.lab.profile import LabProfile, default_profile
from kwizard.paths import default_root

READY_TIMEOUT = 15.0


def layout_for(name: str = DEFAULT_NAME, subnet: str = DEFAULT_SUBNET, root: Path | None = None) -> LabLayout:
    """Where the lab `name` lives (its folder is <root>/lab/<name>; root defaults to kwizard's data dir)."""
    base = (root or default_root()).expanduser().resolve()
    return LabLayout(name=check_lab_name(name), subnet=subnet, root=base)


def up(
    profile: LabProfile | None = None,
    name: str = DEFAULT_NAME,
    subnet: str = DEFAULT_SUBNET,
    root: Path | None = None,
    timeout: float = READY_TIMEOUT,
) -> Lab:
    """Bring the lab up (or return it unchanged if it already runs with this profile and subnet).

    A lab that is partly there (a crash, a killed `up`) or up with another profile is torn down first.
    If any step fails, everything created so far is removed again before the error is raised.
    """
    checks.check_machine()
    profile = profile or default_profile()
    network = check_subnet(subnet, len(profile.hosts))
    layout = layout_for(name, str(network), root)
    checks.check_state_root(layout.state_dir)
    if any(h.glusterd for h in profile.hosts):
        checks.check_glusterd()
    with state.locked(layout.lock_file):
        existing = state.load(layout.state_file)
        if (
            existing
            and existing.status == "up"
            and (existing.subnet, existing.profile) == (layout.subnet, profile)
            and _healthy(layout, existing)
        ):
            return _lab(layout, existing, reused=True)
        if existing or _leftovers(layout):
            _teardown(layout, existing)
        in_use = net.range_in_use(layout)
        if in_use:
            raise InputError(
                "Lab address range in use",
                f"{layout.subnet} is already used on this machine: {in_use}",
                "Choose another range with --subnet (e.g. 10.78.0.0/24), or remove what uses it.",
            )
        try:
            return _create(layout, profile, timeout)
        except BaseException:
            _teardown(layout, state.load(layout.state_file))
            raise


def down(name: str = DEFAULT_NAME, root: Path | None = None) -> bool:
    """Remove every trace of the lab; False if there was nothing to remove."""
    checks.check_platform()
    layout = layout_for(name, DEFAULT_SUBNET, root)
    if not layout.state_dir.exists() and not layout.run_dir.exists() and not _leftovers(layout):
        return False
    with state.locked(layout.lock_file):
        _teardown(layout, state.load(layout.state_file))
        with contextlib.suppress(OSError):
            layout.lock_file.unlink()
    return True


def load(name: str = DEFAULT_NAME, root: Path | None = None) -> Lab | None:
    """The lab `name` as recorded by `up` (None if it is not up); hosts may have died since."""
    layout = layout_for(name, DEFAULT_SUBNET, root)
    existing = state.load(layout.state_file)
    if existing is None or existing.status != "up":
        return None
    return _lab(LabLayout(layout.name, existing.subnet, layout.root), existing, reused=True)


def _create(layout: LabLayout, profile: LabProfile, timeout: float) -> Lab:
    started = time.monotonic()
    for folder in (layout.state_dir, layout.run_dir):
        if folder.exists():
            shutil.rmtree(folder)
    ensure_private_dir(layout.state_dir)
    ensure_private_dir(layout.run_dir.parent)
    ensure_private_dir(layout.run_dir)
    ensure_private_dir(layout.control_path_dir)
    public_key = rootfs.ssh_keygen(layout.key_path, f"kwizard-lab-{layout.name}")
    records = [
        state.HostRecord(
            name=traits.name,
            index=index,
            address=layout.address(index),
            netns=layout.netns(traits.name),
            veth=layout.veth(index),
        )
        for index, traits in enumerate(profile.hosts, start=1)
    ]
    # Recorded before anything exists, so `down` after a crash at any later step finds everything.
    current = state.LabState(
        name=layout.name,
        subnet=layout.subnet,
        bridge=layout.bridge,
        created=time.time(),
        profile=profile,
        hosts=records,
    )
    state.save(layout.state_file, current)
    boot.prepare(layout, profile, records, public_key, _password_hash(layout))
    net.create_bridge(layout)
    for record in records:
        net.create_host_network(layout, record.index, record.name)
    boot.start(
        layout, profile, records, started + timeout, timeout, lambda: state.save(layout.state_file, current)
    )
    _write_known_hosts(layout, records)
    current.status = "up"
    state.save(layout.state_file, current)
    return _lab(layout, current, reused=False)


def reset(
    name: str = DEFAULT_NAME,
    root: Path | None = None,
    hosts: Sequence[str] | None = None,
    timeout: float = READY_TIMEOUT,
) -> Lab:
    """Restart hosts (default: all) from pristine layers: whatever was done to them is gone.

    Addresses, host keys, the lab key and the password stay, so known_hosts entries remain valid.
    """
    checks.check_machine()
    started = time.monotonic()
    layout = layout_for(name, DEFAULT_SUBNET, root)
    with state.locked(layout.lock_file):
        current = state.load(layout.state_file)
        if current is None or current.status != "up":
            raise KwizardError(
                "No lab to reset", f"no lab named {layout.name} is up", "Start it with `kwizard lab up`."
            )
        layout = LabLayout(layout.name, current.subnet, layout.root)
        unknown = sorted(set(hosts or ()) - {r.name for r in current.hosts})
        if unknown:
            raise InputError(
                "Unknown lab host",
                f"lab {layout.name} has no host {unknown[0]!r}",
                f"Use one of: {', '.join(r.name for r in current.hosts)}.",
            )
        chosen = [r for r in current.hosts if hosts is None or r.name in hosts]
        process.close_control_masters(layout.control_path_dir)
        survivors = process.kill_all(pid for r in chosen for pid in net.netns_pids(r.netns))
        if survivors:
            raise _stuck(layout, survivors)
        keys = {}
        for record in chosen:
            kept = rootfs.read_host_key(layout.host_dir(record.name))
            if kept:
                keys[record.name] = kept
            shutil.rmtree(layout.host_dir(record.name), ignore_errors=True)
        public_key = layout.key_path.with_name(layout.key_path.name + ".pub").read_text().strip()
        boot.prepare(layout, current.profile, chosen, public_key, _password_hash(layout), keep_keys=keys)
        boot.start(layout, current.profile, chosen, started + timeout, timeout)
        _write_known_hosts(layout, current.hosts)
        state.save(layout.state_file, current)
        return _lab(layout, current, reused=True)


def _password_hash(layout: LabLayout) -> str:
    return accounts.hash_password(accounts.derive_password(layout.key_path.read_bytes(), layout.name))


def _write_known_hosts(layout: LabLayout, records: list[state.HostRecord]) -> None:
    lines = [f"{r.address} {' '.join(r.host_key.split()[:2])}" for r in records]
    atomic_write(layout.known_hosts, "\n".join(lines) + "\n", mode=0o600)


def _healthy(layout: LabLayout, current: state.LabState) -> bool:
    present = set(net.list_netns(layout.netns_prefix))
    return all(r.netns in present and process.alive(r.init_pid, r.netns) for r in current.hosts)


def _leftovers(layout: LabLayout) -> bool:
    return bool(
        net.list_netns(layout.netns_prefix)
        or net.list_links(layout.veth_prefix)
        or layout.bridge in net.list_links(layout.bridge)
    )


def _teardown(layout: LabLayout, current: state.LabState | None) -> None:
    """Kill the lab's processes, delete its interfaces and namespaces, free its disks, delete its folder."""
    process.close_control_masters(layout.control_path_dir)
    netnses = set(net.list_netns(layout.netns_prefix))
    veths = set(net.list_links(layout.veth_prefix))
    if current:
        netnses |= {r.netns for r in current.hosts}
        veths |= {r.veth for r in current.hosts}
    pids = {pid for netns in netnses for pid in net.netns_pids(netns)}
    if current:  # a launcher that lost its namespace already (a crash half-way through a teardown)
        pids |= {
            pid
            for r in current.hosts
            for pid in (r.launcher_pid, r.init_pid)
            if pid and process.alive(pid) and _in_state_dir(pid, layout.state_dir)
        }
    survivors = process.kill_all(pids)
    bridge = [layout.bridge] if layout.bridge in net.list_links(layout.bridge) else []
    net.delete_all([*sorted(veths), *bridge], sorted(netnses))
    _free_loop_devices(layout.state_dir)
    for folder in (layout.state_dir, layout.run_dir):
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
    if survivors:
        raise _stuck(layout, survivors)


def _stuck(layout: LabLayout, survivors: list[int]) -> KwizardError:
    return KwizardError(
        "Lab processes would not die",
        f"processes {', '.join(map(str, survivors))} of lab {layout.name} survived SIGKILL",
        "They are probably stuck on I/O; look at them with `ps -o pid,stat,wchan,cmd -p ...` and run "
        "`kwizard lab down` again.",
    )


def _in_state_dir(pid: int, state_dir: Path) -> bool:
    # A pid recorded in an old state file may have been reused: only kill it if it is still our launcher.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return str(state_dir) in cmdline


def _free_loop_devices(state_dir: Path) -> None:
    # Loop disks are mounted with autoclear inside the host, so they vanish with it; this catches the rest.
    result = subprocess.run(
        ["losetup", "--json", "--list"], capture_output=True, text=True, timeout=10, check=False
    )
    try:
        devices = json.loads(result.stdout or "{}").get("loopdevices", [])
    except json.JSONDecodeError:
        return
    for device in devices:
        if str(device.get("back-file", "")).startswith(str(state_dir)):
            subprocess.run(
                ["losetup", "--detach", device["name"]], capture_output=True, timeout=10, check=False
            )


def _lab(layout: LabLayout, current: state.LabState, reused: bool) -> Lab:
    key_bytes = layout.key_path.read_bytes()
    password = accounts.derive_password(key_bytes, layout.name)
    profile = current.profile
    hosts = [
        LabHost(
            name=r.name,
            address=r.address,
            port=SSH_PORT,
            key_path=layout.key_path,
            user=profile.user,
            password=password,
            traits=profile.host(r.name),
            netns=r.netns,
            init_pid=r.init_pid,
            host_key=r.host_key,
            known_hosts=layout.known_hosts,
        )
        for r in current.hosts
    ]
    return Lab(
        name=layout.name,
        subnet=current.subnet,
        gateway=layout.gateway,
        bridge=layout.bridge,
        state_dir=layout.state_dir,
        key_path=layout.key_path,
        public_key=layout.key_path.with_name(layout.key_path.name + ".pub").read_text().strip(),
        known_hosts=layout.known_hosts,
        control_path_dir=layout.control_path_dir,
        user=profile.user,
        password=password,
        hosts=hosts,
        reused=reused,
    )
