"""The operator's SSH key pair: load a chosen one, or generate an ed25519 pair (private key 0600)."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

import paramiko

from kwizard.errors import InputError
from kwizard.fsutil import atomic_write, ensure_private_dir
from kwizard.hostkeys import fingerprint, key_from_line
from kwizard.paths import Workspace

PUBLIC_MODE = 0o644


@dataclass(frozen=True)
class KeyPair:
    """A private key file and its public line (`type base64 comment`)."""

    private: Path
    public: Path
    public_line: str
    fingerprint: str
    generated: bool = False
    mode_fixed: bool = False  # the private key was readable by others and kwizard made it 0600

    @property
    def key_type(self) -> str:
        return self.public_line.split()[0]

    @property
    def key_data(self) -> str:
        """The base64 field: what identifies the key in authorized_keys, whatever its comment."""
        return self.public_line.split()[1]


def cluster_key_path(ws: Workspace) -> Path:
    """Where kwizard generates a key pair for a cluster when the operator has none to choose."""
    return ws.ssh_dir / "id_ed25519"


def ensure_key_pair(path: Path, comment: str) -> KeyPair:
    """The key pair at `path`, generated (ed25519) if no file is there yet."""
    path = path.expanduser()
    if path.exists():
        return load_key_pair(path)
    return generate_key_pair(path, comment)


def generate_key_pair(path: Path, comment: str) -> KeyPair:
    """Write a new ed25519 pair: `path` (0600, OpenSSH format, no passphrase) and `path`.pub."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = path.expanduser()
    public = _public_path(path)
    if path.exists() or public.exists():
        raise InputError(
            "Key file already exists",
            f"{path if path.exists() else public} exists; kwizard never overwrites a key.",
            "Choose that key instead, or pick another file name for the new one.",
        )
    if not path.parent.exists():
        ensure_private_dir(path.parent)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public_blob = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    line = f"{public_blob} {comment}".strip()
    atomic_write(path, private_pem)
    atomic_write(public, line + "\n", mode=PUBLIC_MODE)
    return KeyPair(path, public, line, _line_fingerprint(line, public), generated=True)


def load_key_pair(path: Path) -> KeyPair:
    """The existing pair at `path`; its .pub is derived (and written) when missing."""
    path = path.expanduser()
    if not path.is_file():
        raise InputError(
            "SSH key not found",
            f"{path} is not a file.",
            "Choose an existing private key, or let kwizard generate one for this cluster.",
        )
    mode_fixed = _tighten_mode(path)
    public = _public_path(path)
    private = _read_private(path)
    if public.is_file():
        line = _read_public_line(public)
        if private is not None and (private.get_name(), private.get_base64()) != tuple(line.split()[:2]):
            raise InputError(
                "Key pair does not match",
                f"{public} is not the public half of {path}.",
                f"Recreate it: ssh-keygen -y -f {path} > {public}",
            )
    elif private is not None:
        line = f"{private.get_name()} {private.get_base64()}"
        atomic_write(public, line + "\n", mode=PUBLIC_MODE)
    else:
        raise InputError(
            "Public key missing",
            f"{path} is protected by a passphrase and {public} does not exist.",
            f"Write the public key next to it: ssh-keygen -y -f {path} > {public}",
        )
    return KeyPair(path, public, line, _line_fingerprint(line, public), mode_fixed=mode_fixed)


def _public_path(path: Path) -> Path:
    return path.with_name(path.name + ".pub")


def _read_private(path: Path) -> paramiko.PKey | None:
    """The private key, or None when it is passphrase-protected (ssh-agent will hold it)."""
    try:
        return paramiko.PKey.from_path(path)
    except (TypeError, paramiko.PasswordRequiredException):
        return None  # cryptography raises TypeError when a password is needed
    except (ValueError, paramiko.SSHException, paramiko.UnknownKeyType) as exc:
        raise InputError(
            "Not a usable private key",
            f"{path} could not be read as an SSH private key ({exc}).",
            "Choose an OpenSSH private key (ed25519, ecdsa or rsa), not the .pub file.",
        ) from None


def _read_public_line(public: Path) -> str:
    lines = [line.strip() for line in public.read_text().splitlines() if line.strip()]
    if not lines or len(lines[0].split()) < 2:
        raise InputError(
            "Invalid public key", f"{public} holds no public key line.", "Recreate it with ssh-keygen -y."
        )
    return lines[0]


def _line_fingerprint(line: str, source: Path) -> str:
    key_type, data = line.split()[:2]
    try:
        base64.b64decode(data, validate=True)
        return fingerprint(key_from_line(key_type, data))
    except (binascii.Error, ValueError, paramiko.SSHException, paramiko.UnknownKeyType):
        raise InputError(
            "Invalid public key",
            f"{source}: {key_type!r} key data is not valid.",
            "Recreate it with ssh-keygen -y.",
        ) from None


def _tighten_mode(path: Path) -> bool:
    # OpenSSH (and so Ansible) refuses a private key others can read; fixing our own file is safe.
    mode = path.stat().st_mode & 0o777
    if not mode & 0o077:
        return False
    if path.stat().st_uid != os.getuid():
        raise InputError(
            "Private key readable by others",
            f"{path} has mode {mode:o}; ssh refuses keys that others can read.",
            f"chmod 600 {path}",
        )
    path.chmod(0o600)
    return True
