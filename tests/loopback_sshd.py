"""A throwaway sshd on 127.0.0.1 with its own host key and authorized key, for runner tests.

The lab (network namespaces) is the place for multi-host tests; this is a single real sshd that needs
no namespaces, so the runner's SSH handling (known_hosts, key, control sockets) is tested everywhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
PRIVSEP_DIR = Path("/run/sshd")  # Debian's privilege separation directory (compiled into its sshd)


@dataclass(frozen=True)
class LoopbackSSHD:
    port: int
    client_key: Path
    host_public_key: str  # "ssh-ed25519 AAAA…"

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_public_key}\n"


def available() -> bool:
    return os.geteuid() == 0 and SSHD.exists() and shutil.which("ssh-keygen") is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@contextlib.contextmanager
def loopback_sshd(directory: Path) -> Iterator[LoopbackSSHD]:
    """Start sshd on a free loopback port (root only); stop it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    _keygen(directory / "host_key")
    _keygen(directory / "client_key")
    authorized = directory / "authorized_keys"
    authorized.write_text((directory / "client_key.pub").read_text())
    # sshd refuses to start (exit 255) without its privilege separation directory. The distribution's
    # service creates it at boot, but /run is emptied on every boot and the service is off on a test
    # machine, so each start must make sure it exists rather than rely on an earlier run.
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    port = _free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\n"
        f"AuthorizedKeysFile {authorized}\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        f"StrictModes no\nUsePAM no\nPidFile {directory / 'sshd.pid'}\nMaxStartups 50\nMaxSessions 50\n"
        "AllowTcpForwarding yes\n"
    )
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"sshd exited with {process.returncode} (run `{SSHD} -t -f {config}`)")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("sshd did not listen within 10 s")
        host_key = " ".join((directory / "host_key.pub").read_text().split()[:2])
        yield LoopbackSSHD(port=port, client_key=directory / "client_key", host_public_key=host_key)
    finally:
        process.terminate()
        process.wait(timeout=10)
