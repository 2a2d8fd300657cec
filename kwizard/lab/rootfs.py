"""The files of one lab host, prepared on this machine before it starts.

Each host has a folder with the upper layers of its copy-on-write /etc /var /usr /opt, its own /root and
/home, fake /proc files and an optional data disk. Files written into `upper/etc` here are what the host
sees in /etc: hostname, machine-id, hosts, resolv.conf, users, sudo rule, sshd config and its host key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from kwizard.errors import EnvironmentProblem, KwizardError
from kwizard.lab import accounts, procfs
from kwizard.lab.profile import HostTraits

SYSTEM_ETC = Path("/etc")
OVERLAID = ("etc", "var", "usr", "opt")


@dataclass(frozen=True)
class HostFiles:
    """What the host's files need to know about the lab."""

    traits: HostTraits
    address: str
    gateway: str
    user: str
    lab_public_key: str
    password_hash: str
    hosts_lines: tuple[str, ...]  # "address name" of every host of the lab, for /etc/hosts


def ssh_keygen(path: Path, comment: str) -> str:
    """Generate an ed25519 key pair without passphrase at `path`; returns the public key line."""
    try:
        result = subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        raise EnvironmentProblem(
            "ssh-keygen is missing", "it is needed to make the lab's keys", "Install openssh-client."
        ) from None
    if result.returncode != 0:
        raise KwizardError("Cannot create a lab key", f"ssh-keygen for {path}: {result.stderr.strip()}")
    return path.with_name(path.name + ".pub").read_text().strip()


def sshd_config(traits: HostTraits) -> str:
    """The host's sshd_config: keys for root, passwords for the sudo user, no PAM (there is no systemd)."""
    root_login = "yes" if traits.root_password else "prohibit-password"
    return f"""\
# sshd of a kwizard lab host ({traits.name}); written by `kwizard lab up`.
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile none
UsePAM no
PermitRootLogin {root_login}
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
UseDNS no
PrintMotd no
AcceptEnv LANG LC_*
AllowTcpForwarding yes
MaxStartups 100:30:200
MaxSessions 100
Subsystem sftp internal-sftp
"""


def prepare(host_dir: Path, spec: HostFiles, host_key: tuple[bytes, bytes] | None = None) -> str:
    """Create the host's folder; returns the public line of its host key (new, or `host_key` kept)."""
    traits = spec.traits
    host_dir.mkdir(parents=True, mode=0o700)
    for layer in OVERLAID:
        upper = host_dir / "upper" / layer
        upper.mkdir(parents=True)
        _copy_meta(Path("/") / layer, upper)
        (host_dir / "work" / layer).mkdir(parents=True)
    (host_dir / "rootfs").mkdir()
    etc = host_dir / "upper" / "etc"

    _write(etc, "hostname", traits.name + "\n")
    _write(etc, "machine-id", uuid.uuid4().hex + "\n")
    hosts = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", *spec.hosts_lines]
    _write(etc, "hosts", "\n".join(hosts) + "\n")
    # Nothing answers DNS on the lab bridge; the line is there because installers insist on one.
    _write(etc, "resolv.conf", f"nameserver {spec.gateway}\noptions timeout:1 attempts:1\n")
    files = accounts.account_files(SYSTEM_ETC, spec.user, traits, spec.password_hash)
    for rel, (text, mode) in files.items():
        _write(etc, rel, text, mode)
    shadow_gid = _gid_of(SYSTEM_ETC / "group", "shadow")
    for name in ("shadow", "gshadow"):
        os.chown(etc / name, 0, shadow_gid)
    _write(etc, "ssh/sshd_config", sshd_config(traits))
    key_file = _prepared(etc, "ssh/ssh_host_ed25519_key")
    if host_key is None:
        public_line = ssh_keygen(key_file, f"root@{traits.name}")
    else:
        key_file.write_bytes(host_key[0])
        key_file.chmod(0o600)
        _write(etc, "ssh/ssh_host_ed25519_key.pub", host_key[1].decode())
        public_line = host_key[1].decode().strip()

    _write(host_dir, "meminfo", procfs.meminfo(traits.memory_mb), 0o444)
    _write(host_dir, "cpuinfo", procfs.cpuinfo(traits.cpus, procfs.real_cpuinfo()), 0o444)

    root_home = host_dir / "root"
    root_home.mkdir(mode=0o700)
    _authorize(root_home, spec.lab_public_key, 0, 0)
    uid = accounts.user_uid(files["passwd"][0], spec.user)
    (host_dir / "home").mkdir(mode=0o755)
    user_home = host_dir / "home" / spec.user
    if (SYSTEM_ETC / "skel").is_dir():
        shutil.copytree(SYSTEM_ETC / "skel", user_home, symlinks=True)
    user_home.mkdir(mode=0o750, exist_ok=True)
    user_home.chmod(0o750)
    _authorize(user_home, spec.lab_public_key if traits.user_key else "", uid, uid)
    for path in [user_home, *user_home.rglob("*")]:
        os.lchown(path, uid, uid)

    if traits.disk == "dir":
        (host_dir / "disk").mkdir(mode=0o755)
    elif traits.disk == "loop":
        _make_loop_disk(host_dir / "disk.img", traits.disk_size_mb)
    return public_line


def read_host_key(host_dir: Path) -> tuple[bytes, bytes] | None:
    """The host's key pair as files hold it (to keep it across a reset), or None."""
    key_file = host_dir / "upper" / "etc" / "ssh" / "ssh_host_ed25519_key"
    try:
        return key_file.read_bytes(), key_file.with_name(key_file.name + ".pub").read_bytes()
    except OSError:
        return None


def _authorize(home: Path, public_key: str, uid: int, gid: int) -> None:
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    keys = ssh_dir / "authorized_keys"
    keys.write_text(public_key + "\n" if public_key else "")
    keys.chmod(0o600)
    for path in (ssh_dir, keys):
        os.chown(path, uid, gid)


def _make_loop_disk(image: Path, size_mb: int) -> None:
    with image.open("wb") as handle:
        handle.truncate(size_mb * 1024 * 1024)  # sparse: costs no space until written
    result = subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-m", "0", "-L", "kwlab-data", str(image)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise KwizardError("Cannot make a lab disk", f"mkfs.ext4 {image}: {result.stderr.strip()}")


def _prepared(base: Path, rel: str) -> Path:
    """`base/rel` with its parent folders created with the same owner and mode as in the real /etc."""
    target = base / rel
    parts = Path(rel).parts[:-1]
    current, system = base, SYSTEM_ETC
    for part in parts:
        current, system = current / part, system / part
        if not current.exists():
            current.mkdir()
            _copy_meta(system, current)
    return target


def _write(base: Path, rel: str, text: str, mode: int = 0o644) -> None:
    target = _prepared(base, rel)
    target.write_text(text)
    target.chmod(mode)


def _copy_meta(source: Path, target: Path) -> None:
    # The upper layer's folder attributes are what the host sees for that folder: keep the system's.
    try:
        info = source.stat()
    except FileNotFoundError:
        target.chmod(0o755)
        return
    target.chmod(info.st_mode & 0o7777)
    os.chown(target, info.st_uid, info.st_gid)


def _gid_of(group_file: Path, name: str) -> int:
    try:
        for line in group_file.read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name and len(fields) > 2 and fields[2].isdigit():
                return int(fields[2])
    except OSError:
        pass
    return 0
