"""What kwizard runs on a host to authorise a key and to learn whether the user can sudo.

Both are POSIX sh scripts passed as `sh -c SCRIPT kwizard ARG...`: every value is an argument, quoted
with shlex, never pasted into the script, and the user's login shell (bash, zsh, fish) does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fabric import Connection

from kwizard.errors import RemoteError
from kwizard.ssh import run

# Appends the key line only if no uncommented line already holds the same key data (options and
# comments may differ); never rewrites the file; adds a newline first if the last line lacks one, so
# the key is not glued to it. Modes are enforced because sshd's StrictModes ignores a writable file.
INSTALL_KEY_SCRIPT = r"""
set -eu
umask 077
key_line=$1
key_data=$2
dir="$HOME/.ssh"
file="$dir/authorized_keys"
[ -d "$dir" ] || mkdir -m 700 "$dir"
chmod 700 "$dir"
[ -e "$file" ] || : > "$file"
chmod 600 "$file"
if awk -v k="$key_data" '!/^[ \t]*#/ { for (i = 1; i <= NF; i++) if ($i == k) found = 1 }
                          END { exit found ? 0 : 1 }' "$file"; then
  echo present
else
  if [ -s "$file" ] && [ -n "$(tail -c 1 "$file")" ]; then printf '\n' >> "$file"; fi
  printf '%s\n' "$key_line" >> "$file"
  echo added
fi
if command -v restorecon >/dev/null 2>&1; then restorecon -R "$dir" >/dev/null 2>&1 || true; fi
printf 'home-mode %s\n' "$(stat -c %a "$HOME" 2>/dev/null || echo unknown)"
"""

# uid first; then whether sudo works without a password.
PROBE_SUDO_SCRIPT = r"""
id -u
if ! command -v sudo >/dev/null 2>&1; then echo no-sudo
elif sudo -n true >/dev/null 2>&1; then echo sudo-nopasswd
else echo sudo-needs-password
fi
"""

# unverified: sudo asks for a password and kwizard has none to check it with.
SudoAccess = Literal["root", "nopasswd", "password", "unverified", "none"]


@dataclass(frozen=True)
class KeyInstall:
    added: bool  # False: the key was already authorised
    home_mode: str  # octal mode of $HOME as `stat` printed it, for explaining StrictModes refusals


def install_key(conn: Connection, key_line: str, key_data: str) -> KeyInstall:
    """Authorise `key_line` for the connected user (append only if absent, ~/.ssh 0700, file 0600)."""
    result = run(conn, ["sh", "-c", INSTALL_KEY_SCRIPT, "kwizard", key_line, key_data])
    lines = result.stdout.split()
    if not result.ok or not lines or lines[0] not in ("added", "present"):
        raise RemoteError(
            "Could not install the key",
            f"Writing ~/.ssh/authorized_keys on {conn.host} failed (exit {result.exited}): "
            f"{(result.stderr or result.stdout).strip()[:300]}",
            "Check that the home directory exists, is writable by the user, and the disk is not full.",
        )
    home_mode = lines[lines.index("home-mode") + 1] if "home-mode" in lines else "unknown"
    return KeyInstall(added=lines[0] == "added", home_mode=home_mode)


def probe_sudo(conn: Connection, password: str | None) -> SudoAccess:
    """Whether the connected user is root, may sudo without a password, with `password`, or not at all."""
    result = run(conn, ["sh", "-c", PROBE_SUDO_SCRIPT])
    words = result.stdout.split()
    if words and words[0] == "0":
        return "root"
    if "sudo-nopasswd" in words:
        return "nopasswd"
    if "sudo-needs-password" in words:
        if password is None:
            return "unverified"
        checked = run(conn, ["true"], sudo=True, sudo_password=password, timeout=30)
        return "password" if checked.ok else "none"
    return "none"
