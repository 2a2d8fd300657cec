"""Lab and LabHost: what tests and the CLI get from `kwizard.lab.up()` / `load()`."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kwizard.lab import process
from kwizard.lab.profile import HostTraits


@dataclass(frozen=True)
class LabHost:
    """One lab host: reach it over ssh at `address`:`port`, or run commands inside it with `exec`."""

    name: str
    address: str
    port: int
    key_path: Path  # root's private key (the lab key), 0600
    user: str  # the sudo user (password login; the lab key only if the `user_key` trait says so)
    password: str = field(repr=False)  # the sudo user's password, lab-only
    traits: HostTraits
    netns: str
    init_pid: int | None
    host_key: str  # the public line of the host's own ed25519 host key ("ssh-ed25519 AAAA… root@lab1")
    known_hosts: Path  # a known_hosts file with every host key of the lab

    def exec(
        self, command: str | Sequence[str], timeout: float = 60.0, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` (shell text or argv) as root inside the host's namespaces, without ssh."""
        pid = self._live_init()
        if not pid:
            raise RuntimeError(f"lab host {self.name} is not running")
        return process.exec_in(pid, command, timeout=timeout, input=input)

    def observed(self) -> dict[str, int] | None:
        """What the host has now, read inside it (python3 0/1, ip_forward); None when it does not answer.

        The traits say how the host was started; a test or a fix may have installed python3 or turned
        forwarding on since, so `lab status` shows both.
        """
        probe = (
            "if command -v python3 >/dev/null 2>&1; then echo python3=1; else echo python3=0; fi; "
            "echo ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
        )
        try:
            done = self.exec(probe, timeout=10.0)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            return None
        found = dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)
        try:
            return {"python3": int(found["python3"]), "ip_forward": int(found["ip_forward"])}
        except (KeyError, ValueError):
            return None

    def is_running(self) -> bool:
        """Is the host's PID 1 (its sshd) alive?"""
        return self._live_init() is not None

    def _live_init(self) -> int | None:
        # The recorded PID goes stale when the host is restarted (`lab reset`); look the new one up.
        if process.alive(self.init_pid, self.netns):
            return self.init_pid
        return process.current_init(self.netns)

    def ssh_argv(self, command: Sequence[str] = (), user: str = "root") -> list[str]:
        """An `ssh` command line for this host, checking its host key against the lab's known_hosts."""
        argv = [
            "ssh",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-p",
            str(self.port),
        ]
        if user == "root" or self.traits.user_key:
            argv += ["-i", str(self.key_path)]
        return [*argv, f"{user}@{self.address}", *command]


@dataclass(frozen=True)
class Lab:
    """A running lab: its hosts and the files other code needs (key, known_hosts, control-path folder)."""

    name: str
    subnet: str
    gateway: str
    bridge: str
    state_dir: Path
    key_path: Path
    public_key: str
    known_hosts: Path
    # Point ANSIBLE_SSH_CONTROL_PATH_DIR (or ssh's ControlPath) here: `down` closes these masters.
    control_path_dir: Path
    user: str
    password: str = field(repr=False)
    hosts: list[LabHost] = field(default_factory=list)
    reused: bool = False  # True when `up` found this lab already running with the same profile

    def host(self, name: str) -> LabHost:
        """The host called `name` (KeyError if there is none)."""
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def ssh_env(self) -> dict[str, str]:
        """Environment for ansible/ssh child processes so their control masters live in the lab."""
        return {"ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.control_path_dir)}

    @property
    def root(self) -> Path:
        """The kwizard data root this lab's folder is in (<root>/lab/<name>)."""
        return self.state_dir.parent.parent

    def down(self) -> bool:
        """Tear this lab down (see kwizard.lab.down)."""
        from kwizard.lab.lifecycle import down

        return down(self.name, root=self.root)

    def reset(self, hosts: Sequence[str] | None = None) -> Lab:
        """Restart hosts (default: all) from pristine layers, keeping addresses and keys."""
        from kwizard.lab.lifecycle import reset

        return reset(self.name, root=self.root, hosts=hosts)
