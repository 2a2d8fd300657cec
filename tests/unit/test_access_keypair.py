"""The operator's key pair: generated ed25519 (0600), or an existing one loaded and checked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kwizard.access.keypair import cluster_key_path, ensure_key_pair, generate_key_pair, load_key_pair
from kwizard.errors import InputError
from kwizard.paths import Workspace


def test_generate_in_the_cluster_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, "demo").create()
    pair = ensure_key_pair(cluster_key_path(ws), comment="kwizard-demo")
    assert pair.generated and pair.private == ws.ssh_dir / "id_ed25519"
    assert pair.private.stat().st_mode & 0o777 == 0o600
    assert pair.public.read_text() == pair.public_line + "\n"
    assert pair.public_line.startswith("ssh-ed25519 ") and pair.public_line.endswith(" kwizard-demo")
    # OpenSSH reads the private key and derives the same public key and fingerprint.
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(pair.private)], capture_output=True, text=True)
    assert derived.stdout.split()[:2] == pair.public_line.split()[:2]
    listed = subprocess.run(["ssh-keygen", "-lf", str(pair.public)], capture_output=True, text=True)
    assert listed.stdout.split()[1] == pair.fingerprint
    again = ensure_key_pair(pair.private, comment="ignored")
    assert not again.generated and again.public_line == pair.public_line


def test_generate_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "id_ed25519.pub").write_text("ssh-ed25519 AAAA x\n")
    with pytest.raises(InputError, match="never overwrites"):
        generate_key_pair(tmp_path / "id_ed25519", "c")


def test_new_parent_folder_is_private(tmp_path: Path) -> None:
    pair = generate_key_pair(tmp_path / "fresh" / "key", "c")
    assert pair.private.parent.stat().st_mode & 0o777 == 0o700


def test_existing_rsa_key_without_pub_gets_one(tmp_path: Path) -> None:
    key = tmp_path / "id_rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)], check=True)
    expected = (tmp_path / "id_rsa.pub").read_text().split()[:2]
    (tmp_path / "id_rsa.pub").unlink()
    pair = load_key_pair(key)
    assert pair.public_line.split()[:2] == expected and pair.key_type == "ssh-rsa"
    assert (tmp_path / "id_rsa.pub").exists()


def test_too_open_key_is_tightened(tmp_path: Path) -> None:
    pair = generate_key_pair(tmp_path / "k", "c")
    pair.private.chmod(0o644)
    again = load_key_pair(pair.private)
    assert again.mode_fixed and pair.private.stat().st_mode & 0o777 == 0o600


def test_passphrase_key_uses_its_pub_file(tmp_path: Path) -> None:
    key = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret", "-f", str(key)], check=True)
    pair = load_key_pair(key)
    assert pair.public_line == (tmp_path / "locked.pub").read_text().strip()
    (tmp_path / "locked.pub").unlink()
    with pytest.raises(InputError, match="passphrase"):
        load_key_pair(key)


def test_mismatched_pair_and_junk_are_refused(tmp_path: Path) -> None:
    a, b = generate_key_pair(tmp_path / "a", "c"), generate_key_pair(tmp_path / "b", "c")
    a.public.write_text(b.public.read_text())
    with pytest.raises(InputError, match="does not match"):
        load_key_pair(a.private)
    junk = tmp_path / "junk"
    junk.write_text("not a key")
    junk.chmod(0o600)
    with pytest.raises(InputError, match="Not a usable private key"):
        load_key_pair(junk)
    with pytest.raises(InputError, match="not a file"):
        load_key_pair(tmp_path / "missing")
