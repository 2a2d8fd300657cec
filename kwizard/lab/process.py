"""Processes of lab hosts: start a host's PID 1, wait for its sshd, run commands inside it, kill it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from kwizard.errors import KwizardError
from kwizard.lab import net
from kwizard.lab.profile import HostTraits

HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SSH_BANNER = b"SSH-"
KILL_TIMEOUT = 10.0


def install_init_script(host_dir: Path) -> Path:
    """Copy the host's init script into its folder (a running host never depends on the package files)."""
    target = host_dir / "init.sh"
    target.write_bytes(resources.files("kwizard.lab").joinpath("hostinit.sh").read_bytes())
    target.chmod(0o700)
    return target


def cpu_set(index: int, cpus: int) -> list[int] | None:
    """CPUs a host with `cpus` CPUs is pinned to (so nproc agrees with /proc/cpuinfo), or None."""
    available = sorted(os.sched_getaffinity(0))
    if cpus >= len(available):
        return None
    # Spread small hosts over the machine instead of piling them all onto CPU 0.
    return sorted(available[(index + i) % len(available)] for i in range(cpus))


def start_host(netns: str, index: int, traits: HostTraits, host_dir: Path) -> None:
    """Start the host's PID 1 detached from this process (it outlives `kwizard lab up`)."""
    script = install_init_script(host_dir)
    # nsenter, not `ip netns exec`: that would leave the launcher in a copy of this machine's mount table,
    # pinning every other lab's /run/netns handles for as long as this host lives.
    argv = ["setsid", "--fork", "nsenter", f"--net=/run/netns/{netns}"]
    cpus = cpu_set(index, traits.cpus)
    if cpus is not None:
        argv += ["taskset", "--cpu-list", ",".join(map(str, cpus))]
    argv += ["unshare", "--uts", "--mount", "--pid", "--ipc", "--fork", "--propagation", "private"]
    argv += ["--", "/bin/sh", str(script)]
    env = {
        "PATH": HOST_PATH,
        "KWLAB_DIR": str(host_dir),
        "KWLAB_HOSTNAME": traits.name,
        "KWLAB_IP_FORWARD": str(traits.ip_forward),
        "KWLAB_PYTHON3": "1" if traits.python3 else "0",
        "KWLAB_DISK": traits.disk or "none",
        "KWLAB_GLUSTERD": "1" if traits.glusterd else "0",
    }
    with (host_dir / "console.log").open("ab") as log:
        result = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, timeout=15, check=False
        )
    if result.returncode != 0:
        raise KwizardError(
            f"Lab host {traits.name} failed to start", f"{' '.join(argv)} exited with {result.returncode}"
        )


def ns_pid_chain(pid: int) -> list[int]:
    """The pid of `pid` in each nested pid namespace (outermost first), [] if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return [int(word) for word in line.split()[1:]]
    except (OSError, ValueError):
        pass
    return []


def find_init(netns: str) -> tuple[int | None, int | None]:
    """(launcher pid, init pid) of the host in `netns`: init is the process that is PID 1 inside."""
    launcher = init = None
    for pid in net.netns_pids(netns):
        chain = ns_pid_chain(pid)
        if len(chain) >= 2 and chain[-1] == 1:
            init = pid
        elif len(chain) == 1 and _comm(pid) == "unshare":
            launcher = pid
    return launcher, init


class HostDied(Exception):
    """The host's processes are gone before it was ready."""


def wait_for_init(netns: str, deadline: float, console: Path) -> tuple[int | None, int]:
    """Poll until the host's PID 1 exists (bounded by `deadline`, a monotonic time).

    A host whose namespace is empty while its console has output has already failed (its init script
    prints why and exits): report that at once instead of waiting for the deadline.
    """
    while True:
        launcher, init = find_init(netns)
        if init is not None:
            return launcher, init
        if launcher is None and not net.netns_pids(netns) and _has_output(console):
            raise HostDied(netns)
        if time.monotonic() > deadline:
            raise TimeoutError(netns)
        time.sleep(0.01)


def _has_output(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def ssh_banner(address: str, port: int, timeout: float = 0.5) -> bool:
    """Does an sshd answer on address:port (it sends its "SSH-2.0-…" banner first)?"""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            return conn.recv(4).startswith(SSH_BANNER)
    except OSError:
        return False


def port_open(address: str, port: int, timeout: float = 0.2) -> bool:
    """Does something accept TCP connections on address:port?"""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


def alive(pid: int | None, netns: str | None = None) -> bool:
    """Is `pid` a live (non-zombie) process, and — if `netns` is given — still in that namespace?"""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    if netns is None:
        return True
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(f"/run/netns/{netns}").st_ino
    except OSError:
        return False


def current_init(netns: str) -> int | None:
    """The PID (as this machine sees it) of the process that is PID 1 of the host living in `netns`.

    A host restarted by `lab reset` gets a new init process; callers holding an older LabHost find the
    new one here instead of a stale PID.
    """
    from kwizard.lab.net import netns_pids

    for pid in netns_pids(netns):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
        if len(nspid) > 1 and nspid[-1] == "1" and alive(pid, netns):
            return pid
    return None


def kill_all(pids: Iterable[int], timeout: float = KILL_TIMEOUT) -> list[int]:
    """SIGKILL `pids` and wait until they are gone; returns those still alive after `timeout`."""
    targets = set(pids)
    for pid in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while targets and time.monotonic() < deadline:
        targets = {pid for pid in targets if alive(pid)}
        if targets:
            time.sleep(0.01)
    return sorted(targets)


def exec_in(
    init_pid: int, command: str | Sequence[str], timeout: float = 60.0, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `command` inside a host's namespaces (net, mount, uts, ipc, pid) as root, without ssh."""
    argv = ["nsenter", "--target", str(init_pid), "--net", "--mount", "--uts", "--ipc", "--pid"]
    with contextlib.suppress(OSError):
        # Same CPUs as the host's own processes, so `nproc` agrees with what ssh sessions see.
        cpus = os.sched_getaffinity(init_pid)
        if cpus != os.sched_getaffinity(0):
            argv = ["taskset", "--cpu-list", ",".join(map(str, sorted(cpus))), *argv]
    argv += ["--root", "--wd", "--", "env", "-i", f"PATH={HOST_PATH}", "HOME=/root", "LANG=C.UTF-8"]
    argv += ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a timeout can kill the command inside the host too
    )
    try:
        stdout, stderr = proc.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def close_control_masters(control_dir: Path) -> None:
    """Ask every ssh control master whose socket is in `control_dir` to exit (bounded)."""
    if not control_dir.is_dir() or shutil.which("ssh") is None:
        return
    for sock in control_dir.iterdir():
        if not sock.is_socket():
            continue
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            subprocess.run(
                ["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "kwizard-lab"],
                capture_output=True,
                timeout=5,
                check=False,
            )


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
