"""The cluster's known_hosts file: OpenSSH format, atomic 0600 writes, fingerprints like ssh-keygen."""

from __future__ import annotations

import subprocess
from pathlib import Path

import paramiko
import pytest

from kwizard.hostkeys import HEADER, KnownHosts, fingerprint, host_pattern, key_from_line


def _keygen(path: Path) -> paramiko.PKey:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    key_type, data = path.with_suffix(".pub").read_text().split()[:2]
    return key_from_line(key_type, data)


@pytest.fixture
def host_key(tmp_path: Path) -> tuple[paramiko.PKey, Path]:
    return _keygen(tmp_path / "host"), tmp_path / "host.pub"


def test_fingerprint_matches_ssh_keygen(host_key: tuple[paramiko.PKey, Path]) -> None:
    key, public = host_key
    listed = subprocess.run(["ssh-keygen", "-lf", str(public)], capture_output=True, text=True, check=True)
    assert listed.stdout.split()[1] == fingerprint(key)


def test_host_pattern_like_openssh() -> None:
    assert host_pattern("10.0.0.1", 22) == "10.0.0.1"
    assert host_pattern("10.0.0.1", 2222) == "[10.0.0.1]:2222"


def test_add_lookup_is_idempotent_private_and_openssh_readable(
    tmp_path: Path, host_key: tuple[paramiko.PKey, Path]
) -> None:
    key, _ = host_key
    known = KnownHosts(tmp_path / "ws" / "known_hosts")
    assert known.lookup("10.0.0.1", 2222) == []
    assert known.add("10.0.0.1", 2222, key) is True
    assert known.add("10.0.0.1", 2222, key) is False
    assert known.path.stat().st_mode & 0o777 == 0o600
    assert known.path.parent.stat().st_mode & 0o777 == 0o700
    (entry,) = known.lookup("10.0.0.1", 2222)
    assert entry.key == key and entry.pattern == "[10.0.0.1]:2222"
    assert known.lookup("10.0.0.1", 22) == []
    # OpenSSH itself finds the entry (what Ansible's ssh will do with UserKnownHostsFile).
    found = subprocess.run(
        ["ssh-keygen", "-F", "[10.0.0.1]:2222", "-f", str(known.path)], capture_output=True, text=True
    )
    assert found.returncode == 0 and key.get_base64() in found.stdout


def test_foreign_lines_survive_updates_and_hashed_entries_are_found(
    tmp_path: Path, host_key: tuple[paramiko.PKey, Path]
) -> None:
    key, public = host_key
    other = _keygen(tmp_path / "other")
    path = tmp_path / "known_hosts"
    blob = public.read_text().split()[:2]
    path.write_text(
        f"# operator's note\n10.0.0.9 {' '.join(blob)}\n10.0.0.7 {' '.join(blob)}"
    )  # no final newline
    subprocess.run(["ssh-keygen", "-H", "-f", str(path)], check=True, capture_output=True)  # hash the names
    known = KnownHosts(path)
    assert [e.key for e in known.lookup("10.0.0.9", 22)] == [key]
    known.add("10.0.0.5", 22, other)
    text = path.read_text()
    assert text.count("|1|") == 2 and text.endswith(f"10.0.0.5 ssh-ed25519 {other.get_base64()}\n")
    assert known.remove("10.0.0.9", 22) == 1  # a hashed line is recognised and removed
    assert known.lookup("10.0.0.9", 22) == [] and [e.key for e in known.lookup("10.0.0.7", 22)] == [key]
    assert known.remove("10.0.0.9", 22) == 0


def test_new_file_starts_with_a_header(tmp_path: Path, host_key: tuple[paramiko.PKey, Path]) -> None:
    known = KnownHosts(tmp_path / "known_hosts")
    known.add("h.example.com", 22, host_key[0])
    assert known.path.read_text().startswith(HEADER)
