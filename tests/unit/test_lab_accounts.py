"""Lab host users, the derived password and the fake /proc files."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kwizard.lab import accounts, procfs
from kwizard.lab.profile import HostTraits


def test_password_is_derived_from_the_key_and_lab_name() -> None:
    first = accounts.derive_password(b"key-one", "kwlab")
    assert first == accounts.derive_password(b"key-one", "kwlab")
    assert first != accounts.derive_password(b"key-two", "kwlab")
    assert first != accounts.derive_password(b"key-one", "other")
    assert len(first) == 20 and first.isalnum() and first.islower()


def test_hash_is_sha512_crypt_and_verifies() -> None:
    hashed = accounts.hash_password("s3cret-lab")
    salt = hashed.split("$")[2]
    again = subprocess.run(
        ["openssl", "passwd", "-6", "-salt", salt, "-stdin"],
        input="s3cret-lab\n",
        capture_output=True,
        text=True,
    )
    assert again.stdout.strip() == hashed


def _etc(tmp_path: Path) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\nsudo:x:27:alice\nalice:x:1000:\n")
    (etc / "shadow").write_text("root:!:19000:0:99999:7:::\nalice:$6$x$y:19000:0:99999:7:::\n")
    return etc


def test_account_files_add_the_sudo_user_and_lock_root_with_a_star(tmp_path: Path) -> None:
    files = accounts.account_files(_etc(tmp_path), "kwuser", HostTraits(name="h"), "$6$salt$hash")
    passwd = files["passwd"][0]
    assert "kwuser:x:1001:1001:kwizard lab user:/home/kwuser:/bin/bash" in passwd
    assert "alice:x:1000" in passwd  # system users stay
    assert "sudo:x:27:alice,kwuser" in files["group"][0]
    shadow = files["shadow"][0].splitlines()
    assert "root:*:19000:0:99999:7:::" in shadow
    assert any(line.startswith("kwuser:$6$salt$hash:") for line in shadow)
    assert files["sudoers.d/kwizard-lab"] == ("kwuser ALL=(ALL:ALL) ALL\n", 0o440)


def test_root_password_and_nopasswd_traits(tmp_path: Path) -> None:
    traits = HostTraits(name="h", root_password=True, sudo_nopasswd=True)
    files = accounts.account_files(_etc(tmp_path), "kwuser", traits, "$6$salt$hash")
    assert "root:$6$salt$hash:19000" in files["shadow"][0]
    assert files["sudoers.d/kwizard-lab"][0] == "kwuser ALL=(ALL:ALL) NOPASSWD: ALL\n"


def test_meminfo_reports_the_asked_memory() -> None:
    text = procfs.meminfo(1024)
    values = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()}
    assert values["MemTotal"] == 1048576
    assert values["MemAvailable"] < values["MemTotal"] and values["SwapTotal"] == 0


def test_cpuinfo_has_one_entry_per_cpu() -> None:
    real = "processor\t: 0\nmodel name\t: Test CPU\nsiblings\t: 8\ncpu cores\t: 8\n\nprocessor\t: 1\n"
    text = procfs.cpuinfo(3, real)
    assert [line for line in text.splitlines() if line.startswith("processor")] == [
        "processor\t: 0",
        "processor\t: 1",
        "processor\t: 2",
    ]
    assert text.count("model name\t: Test CPU") == 3 and "cpu cores\t: 3" in text
