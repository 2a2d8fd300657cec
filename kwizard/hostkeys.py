"""Host keys: the cluster's known_hosts file, OpenSSH-style fingerprints, and reading a host's key.

The file is plain OpenSSH known_hosts (`addr` for port 22, `[addr]:port` otherwise), so the same file
serves Fabric (through paramiko) and Ansible (`ssh -o UserKnownHostsFile=...`). Lines kwizard did not
write (comments, hashed entries, other hosts) are kept verbatim on every update.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from kwizard.fsutil import atomic_write, ensure_private_dir

HEADER = "# Host keys trusted for this cluster by kwizard (OpenSSH known_hosts format).\n"

# One lock per process guards read-modify-write of known_hosts files; flock on the folder guards
# against a second kwizard process working on the same cluster.
_WRITE_LOCK = threading.Lock()


def host_pattern(address: str, port: int) -> str:
    """The known_hosts name of `address:port`, written exactly as OpenSSH looks it up."""
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """The SHA256 fingerprint of a public key, as `ssh-keygen -l` prints it ("SHA256:...")."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def key_from_line(key_type: str, key_base64: str) -> paramiko.PKey:
    """A public key object from the two fields of an OpenSSH key line."""
    return paramiko.PKey.from_type_string(key_type, base64.b64decode(key_base64))


@dataclass(frozen=True)
class KnownHostEntry:
    """One trusted key of one host pattern."""

    pattern: str
    key_type: str
    key: paramiko.PKey

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


@dataclass(frozen=True)
class KnownHosts:
    """The known_hosts file of one cluster (mode 0600, written atomically)."""

    path: Path

    def load(self) -> paramiko.HostKeys:
        """All entries, as paramiko reads them (hashed names included); empty when the file is absent."""
        keys = paramiko.HostKeys()
        with contextlib.suppress(FileNotFoundError):
            keys.load(str(self.path))
        return keys

    def lookup(self, address: str, port: int) -> list[KnownHostEntry]:
        """Keys trusted for `address:port` (any key type)."""
        pattern = host_pattern(address, port)
        found = self.load().lookup(pattern)
        if not found:
            return []
        return [KnownHostEntry(pattern, key_type, found[key_type]) for key_type in found]

    def add(self, address: str, port: int, key: paramiko.PKey) -> bool:
        """Trust `key` for `address:port`; False when it was already there. Other lines are untouched."""
        pattern = host_pattern(address, port)
        with self._locked():
            if any(
                entry.key_type == key.get_name() and entry.key == key for entry in self.lookup(address, port)
            ):
                return False
            lines = self._lines()
            if not lines:
                lines = [HEADER]
            elif not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            lines.append(f"{pattern} {key.get_name()} {key.get_base64()}\n")
            atomic_write(self.path, "".join(lines))
        return True

    def remove(self, address: str, port: int) -> int:
        """Forget every key of `address:port` (plain or hashed lines); returns how many lines went."""
        pattern = host_pattern(address, port)
        with self._locked():
            lines = self._lines()
            kept = [line for line in lines if not _line_names(line, pattern)]
            removed = len(lines) - len(kept)
            if removed:
                atomic_write(self.path, "".join(kept))
        return removed

    def _lines(self) -> list[str]:
        try:
            return self.path.read_text().splitlines(keepends=True)
        except FileNotFoundError:
            return []

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        ensure_private_dir(self.path.parent)
        with _WRITE_LOCK:
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock


def _line_names(line: str, pattern: str) -> bool:
    """Whether a known_hosts line is about `pattern` (comma lists and hashed `|1|salt|hash` names)."""
    text = line.strip()
    if not text or text.startswith("#"):
        return False
    fields = text.split()
    names = fields[1] if fields[0].startswith("@") and len(fields) > 1 else fields[0]
    for name in names.split(","):
        if name == pattern:
            return True
        if name.startswith("|1|") and _hashed_matches(name, pattern):
            return True
    return False


def _hashed_matches(hashed: str, pattern: str) -> bool:
    try:
        _, _, salt_b64, digest_b64 = hashed.split("|", 3)
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
    except ValueError:
        return False
    actual = hmac.new(salt, pattern.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(actual, expected)


def scan_host_key(address: str, port: int = 22, *, timeout: float = 10.0, sock: Any = None) -> paramiko.PKey:
    """The key `address:port` presents (the type paramiko would negotiate), without logging in.

    `sock` is an already open socket-like object, e.g. a direct-tcpip channel through a bastion.
    Raises OSError when the host cannot be reached and paramiko.SSHException when it does not speak SSH.
    """
    own_socket = sock is None
    if own_socket:
        sock = socket.create_connection((address, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    try:
        transport.start_client(timeout=timeout)
        return transport.get_remote_server_key()
    finally:
        transport.close()
        if own_socket:
            sock.close()
