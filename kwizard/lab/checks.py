"""What the lab needs from this machine: Linux, root, namespaces, overlayfs and a few tools."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from kwizard.errors import EnvironmentProblem

# tool → Debian package that provides it
TOOLS: dict[str, str] = {
    "ip": "iproute2",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "setsid": "util-linux",
    "pivot_root": "util-linux",
    "taskset": "util-linux",
    "mount": "mount",
    "ssh-keygen": "openssh-client",
    "openssl": "openssl",
    "mkfs.ext4": "e2fsprogs",
}
SSHD = Path("/usr/sbin/sshd")
PROC_NS = Path("/proc/self/ns")
PROC_FILESYSTEMS = Path("/proc/filesystems")
OVERLAID = ("/etc", "/var", "/usr", "/opt")


def check_platform() -> None:
    """Linux and root, or a clear error saying so."""
    if not sys.platform.startswith("linux"):
        raise EnvironmentProblem(
            "The lab needs Linux",
            f"`kwizard lab` builds hosts from Linux network namespaces; this is {sys.platform}.",
            "Run the lab on a Linux machine or VM (as root), or point kwizard at real servers instead.",
        )
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            "The lab needs root",
            "`kwizard lab` creates network namespaces, a bridge and mounts, which only root may do.",
            "Run it with sudo, e.g. `sudo .venv/bin/kwizard lab up`.",
        )


def check_machine() -> None:
    """Namespaces, overlayfs and the tools the lab runs; names the package to install when one is missing."""
    check_platform()
    for kind in ("net", "pid", "mnt", "uts", "ipc"):
        if not (PROC_NS / kind).exists():
            raise EnvironmentProblem(
                "No namespace support",
                f"this kernel has no {kind} namespaces (/proc/self/ns/{kind} is missing)",
                "Use a kernel built with namespaces (any current distribution kernel), outside restricted "
                "containers.",
            )
    try:
        filesystems = PROC_FILESYSTEMS.read_text()
    except OSError:
        filesystems = ""
    if "overlay" not in filesystems.split():
        raise EnvironmentProblem(
            "No overlayfs",
            "the kernel does not offer the overlay file system the lab hosts' roots are made of",
            "Load it (`modprobe overlay`) or use a kernel with overlayfs.",
        )
    missing = {tool: pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None}
    if not SSHD.exists():
        missing["sshd"] = "openssh-server"
    if missing:
        raise EnvironmentProblem(
            "Tools missing for the lab",
            f"not found: {', '.join(sorted(missing))}",
            f"Install them: apt install {' '.join(sorted(set(missing.values())))} "
            "(or run `sudo bash .ci/install`).",
        )


def check_glusterd() -> None:
    if not Path("/usr/sbin/glusterd").exists():
        raise EnvironmentProblem(
            "glusterd is missing",
            "the lab profile asks for glusterd on some hosts, but /usr/sbin/glusterd does not exist",
            "Install it: apt install glusterfs-server (or drop `glusterd: true` from the profile).",
        )


def check_state_root(state_dir: Path) -> None:
    """The lab's folder must not lie under a folder its hosts overlay (the kernel refuses nested layers)."""
    resolved = str(state_dir.resolve())
    for top in OVERLAID:
        if resolved == top or resolved.startswith(top + "/"):
            raise EnvironmentProblem(
                "Lab folder in an unusable place",
                f"{state_dir} is under {top}, which every lab host overlays",
                "Keep the kwizard data folder elsewhere, e.g. set KWIZARD_WORKDIR=/root/kwizard or pass "
                "--workdir.",
            )
