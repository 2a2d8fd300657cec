"""Issue 14 part 5: after a run with a password, no trace of it anywhere, and private files stay private.

A real `kwizard --preset FILE --yes` on a lab host whose sudo user logs in with a password (installed
key: the password is used once) and whose sudo asks for that password (preflight and the inventory
check run as that user). While it runs, every process it starts is watched through /proc and its
environment read; afterwards the workspace (runner artifacts, journal and events, logs, reports), HOME
and the crash-file locations are searched for the password.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kwizard import lab as kwlab
from kwizard.fsutil import atomic_write
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import PhaseContext
from kwizard.runner import run_playbook
from kwizard.service.secrets import resolve_secrets
from kwizard.spec import ClusterSpec

REPO = Path(__file__).resolve().parents[2]
PASSWORD_ENV = "KWIZARD_TEST_SECRET_PASSWORD"
LabFactory = Callable[..., kwlab.Lab]


class ChildWatcher(threading.Thread):
    """Reads the environment and command line of every descendant of `root_pid` until stopped."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.seen: dict[int, tuple[str, bytes]] = {}  # pid → (command line, environ)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self._descendants():
                if pid in self.seen:
                    continue
                try:
                    command = (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")).decode()
                    environ = Path(f"/proc/{pid}/environ").read_bytes()
                except OSError:
                    continue  # it ended between the listing and the read
                if command:
                    self.seen[pid] = (command, environ)
            self.stop.wait(0.005)

    def _descendants(self) -> list[int]:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                # The command name may hold spaces and parentheses: the ppid follows the last ')'.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parents[int(entry.name)] = int(fields[1])
        found, frontier = [], [self.root_pid]
        while frontier:
            parent = frontier.pop()
            children = [pid for pid, ppid in parents.items() if ppid == parent]
            found.extend(children)
            frontier.extend(children)
        return found


def _hits(folder: Path, secret: bytes) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if secret in path.read_bytes():
                    found.append(str(path))
            except OSError:
                continue
    return found


def _private(path: Path, top: Path) -> bool:
    """Only the owner can reach `path`: it is private itself, or a folder on the way to it is 0700."""
    if stat.S_IMODE(path.lstat().st_mode) & 0o077 == 0 or path.suffix == ".pub":
        return True
    return any(
        stat.S_IMODE(parent.stat().st_mode) == 0o700 for parent in path.parents if top in parent.parents
    )


def test_a_run_with_passwords_leaves_no_trace_and_private_modes(
    lab_factory: LabFactory, tmp_path: Path
) -> None:
    blab = lab_factory(kwlab.HostTraits(name="s1"))  # password login for the sudo user, sudo asks for it
    host = blab.host("s1")
    workdir, home = tmp_path / "work", tmp_path / "home"
    home.mkdir()
    preset_file = tmp_path / "secret.yaml"
    preset_file.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "name": "secrets",
                "hosts": [{"name": "s1", "address": host.address, "roles": ["control_plane", "etcd"]}],
                "ssh": {
                    "user": host.user,
                    "key": str(workdir / "id_ed25519"),  # absent: generated, then installed with the password
                    "password_env": PASSWORD_ENV,
                    "become_password_env": PASSWORD_ENV,
                },
                "preflight": {"acknowledged": ["systemd"]},
                "phases": ["discover", "access", "preflight", "inventory"],
            }
        )
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "PYTHONPATH": str(REPO),
        "COLUMNS": "120",
        "TMPDIR": str(tmp_path / "tmp"),
        PASSWORD_ENV: host.password,
    }
    (tmp_path / "tmp").mkdir()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "kwizard", "--preset", str(preset_file), "--yes"),
            *("--accept-new-host-keys", "--workdir", str(workdir), "--until", "inventory"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watcher = ChildWatcher(process.pid)
    watcher.start()
    try:
        stdout, stderr = process.communicate(timeout=240)
    finally:
        watcher.stop.set()
        watcher.join(timeout=5)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stdout[-3000:] + stderr[-3000:]
    secret = host.password.encode()

    # The password was used: the key is on the host, and sudo (which wants the password) worked.
    key = workdir / "id_ed25519"
    public = key.with_suffix(".pub").read_text().split()[1]
    home_dir = host.exec(["getent", "passwd", host.user]).stdout.split(":")[5]
    assert public in host.exec(["cat", f"{home_dir}/.ssh/authorized_keys"]).stdout

    # Children: the inventory check's ansible-inventory really ran, and no child had the password.
    commands = [command for command, _ in watcher.seen.values()]
    assert any("ansible-inventory" in command for command in commands), commands
    leaking = [command for command, environ in watcher.seen.values() if secret in environ]
    assert leaking == []
    assert all(PASSWORD_ENV.encode() + b"=" not in environ for _, environ in watcher.seen.values())

    # Files: the workspace (artifacts, journal, events, logs, report), HOME, TMPDIR, crash files.
    assert secret not in (stdout + stderr).encode()
    for folder in (workdir, home, tmp_path / "tmp"):
        assert _hits(folder, secret) == [], folder
    crash_files = [workdir / "crash.log", Path("/tmp/kwizard-crash.log")]
    for crash in crash_files:
        assert not crash.exists() or secret not in crash.read_bytes()

    # Modes: every folder kwizard keeps state in is 0700, the key and every state file 0600 at most.
    state = workdir / "clusters" / "secrets"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    for path in [workdir, *workdir.rglob("*")]:
        if path.is_symlink() or path.suffix == ".pub":  # a public key may be read by anyone
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, f"{path} is {mode:o}"
        else:
            assert mode & 0o077 == 0, f"{path} is {mode:o}"
    assert (state / "runs").is_dir() and any((state / "runs").iterdir())


def test_sudo_password_reaches_sudo_but_not_ansible_playbooks_environment(
    lab_factory: LabFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ansible-playbook --become through ansible-runner, with the sudo password in kwizard's environment:
    sudo gets it (on its prompt), no child process's environment and no artifact holds it."""
    blab = lab_factory(kwlab.HostTraits(name="b1", user_key=True))
    host = blab.host("b1")
    monkeypatch.setenv(PASSWORD_ENV, host.password)
    spec = ClusterSpec(
        name="become",
        hosts=[{"name": "b1", "address": host.address, "roles": ["control_plane", "etcd"]}],
        ssh={"user": host.user, "key": str(blab.key_path), "become_password_env": PASSWORD_ENV},
        phases=["inventory"],
    )
    ws = Workspace(root=tmp_path / "work", cluster=spec.name).create()
    shutil.copy(blab.known_hosts, ws.known_hosts)
    secrets, warnings = resolve_secrets(spec)
    assert warnings == [] and secrets.become_password == host.password
    inventory = {"all": {"hosts": {"b1": {"ansible_host": host.address, "ansible_user": host.user}}}}
    atomic_write(ws.inventory_dir / "hosts.yaml", yaml.safe_dump(inventory))
    playbook = tmp_path / "whoami.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.command: id -un\n      register: who\n"
        "    - ansible.builtin.copy: {dest: /root/secret-proof, content: '{{ who.stdout }}', mode: '0600'}\n"
    )
    watcher = ChildWatcher(os.getpid())
    watcher.start()
    try:
        ctx = PhaseContext(spec=spec, ws=ws, options=RunOptions(), secrets=secrets)
        result = run_playbook(ctx, "kubespray", playbook, ws.inventory_dir / "hosts.yaml", become=True)
    finally:
        watcher.stop.set()
        watcher.join(timeout=5)
    assert result.ok, result.failures
    assert host.exec("cat /root/secret-proof").stdout == "root"  # sudo took the password
    commands = [command for command, _ in watcher.seen.values()]
    assert any("ansible-playbook" in command for command in commands), commands
    secret = host.password.encode()
    assert [command for command, environ in watcher.seen.values() if secret in environ] == []
    assert _hits(ws.root, secret) == []  # artifacts (command, env/, job_events), journal, inventory
    (data_dir,) = ws.artifacts_dir.iterdir()
    for folder in (ws.cluster_dir, ws.artifacts_dir, data_dir, data_dir / "env", data_dir / "artifacts"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    # What ansible itself writes below (fact cache, stdout) may follow the umask: it stays unreachable.
    assert all(_private(path, ws.root) for path in ws.cluster_dir.rglob("*")), [
        path for path in ws.cluster_dir.rglob("*") if not _private(path, ws.root)
    ]
