"""Users of a lab host: root (key only unless a trait allows its password) and a sudo user.

The lab password is never stored: it is derived from the lab's private key (which is 0600 in the lab's
0700 folder), so whoever may read the key may also know the password, and nothing else on disk holds it.
Lab hosts are throwaway test machines on a private bridge; the password exists for the password-once flow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
from pathlib import Path

from kwizard.errors import EnvironmentProblem
from kwizard.lab.profile import HostTraits

FIRST_UID = 1000
# Shadow field of an account that cannot log in with a password but still can with a key. sshd without
# PAM refuses even key logins for accounts locked with "!".
NO_PASSWORD = "*"  # noqa: S105 - the lock marker, not a password


def derive_password(private_key: bytes, lab_name: str) -> str:
    """The lab's password: 20 lower-case letters/digits derived from its private key."""
    digest = hmac.new(private_key, f"kwizard lab password {lab_name}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower().rstrip("=")[:20]


def hash_password(password: str) -> str:
    """A SHA-512 crypt hash for /etc/shadow (the password goes to openssl on stdin, never argv)."""
    try:
        result = subprocess.run(
            ["openssl", "passwd", "-6", "-stdin"],
            input=password + "\n",
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except FileNotFoundError:
        raise EnvironmentProblem(
            "openssl is missing",
            "`openssl` is needed to hash the lab password",
            "Install it: apt install openssl",
        ) from None
    hashed = result.stdout.strip()
    if result.returncode != 0 or not hashed.startswith("$6$"):
        raise EnvironmentProblem("Cannot hash the lab password", f"openssl said: {result.stderr.strip()}")
    return hashed


def _free_id(used: set[int]) -> int:
    candidate = FIRST_UID
    while candidate in used:
        candidate += 1
    return candidate


def _ids(lines: list[str]) -> set[int]:
    ids = set()
    for line in lines:
        fields = line.split(":")
        if len(fields) > 2 and fields[2].isdigit():
            ids.add(int(fields[2]))
    return ids


def _without(lines: list[str], user: str) -> list[str]:
    return [line for line in lines if line.split(":", 1)[0] != user]


def _set_password_field(lines: list[str], user: str, field: str) -> list[str]:
    out = []
    for line in lines:
        fields = line.split(":")
        if fields[0] == user and len(fields) > 1:
            fields[1] = field
            line = ":".join(fields)
        out.append(line)
    return out


def _add_member(lines: list[str], group: str, user: str) -> list[str]:
    out = []
    for line in lines:
        fields = line.split(":")
        if fields[0] == group and len(fields) == 4:
            members = [m for m in fields[3].split(",") if m]
            if user not in members:
                members.append(user)
            fields[3] = ",".join(members)
            line = ":".join(fields)
        out.append(line)
    return out


def account_files(
    base_etc: Path, user: str, traits: HostTraits, password_hash: str
) -> dict[str, tuple[str, int]]:
    """New contents (text, mode) of passwd, group, shadow, gshadow and the sudoers rule, keyed by /etc path.

    They start from this machine's files (so system users and groups stay) with the sudo user added and
    root's password set or locked according to the host's traits.
    """
    passwd = _without(_read_lines(base_etc / "passwd"), user)
    group = _without(_read_lines(base_etc / "group"), user)
    shadow = _without(_read_lines(base_etc / "shadow"), user)
    gshadow = _without(_read_lines(base_etc / "gshadow"), user)
    uid = _free_id(_ids(passwd) | _ids(group))
    passwd.append(f"{user}:x:{uid}:{uid}:kwizard lab user:/home/{user}:/bin/bash")
    group.append(f"{user}:x:{uid}:")
    group = _add_member(group, "sudo", user)
    shadow = _set_password_field(shadow, "root", password_hash if traits.root_password else NO_PASSWORD)
    shadow.append(f"{user}:{password_hash}:20000:0:99999:7:::")
    gshadow.append(f"{user}:!::")
    rule = "NOPASSWD: ALL" if traits.sudo_nopasswd else "ALL"
    return {
        "passwd": ("\n".join(passwd) + "\n", 0o644),
        "group": ("\n".join(group) + "\n", 0o644),
        "shadow": ("\n".join(shadow) + "\n", 0o640),
        "gshadow": ("\n".join(gshadow) + "\n", 0o640),
        "sudoers.d/kwizard-lab": (f"{user} ALL=(ALL:ALL) {rule}\n", 0o440),
    }


def user_uid(passwd_text: str, user: str) -> int:
    """The uid of `user` in passwd text."""
    for line in passwd_text.splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2])
    raise KeyError(user)


def _read_lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return []
