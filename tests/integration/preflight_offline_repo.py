"""An offline apt repository for the lab, so the python3 fix can run the real package manager.

The lab has no internet. Its python-less host still lists python3 as installed in dpkg (the lab only
deleted the binaries), so kwizard's fix reinstalls the packages owning /usr/bin/python3* with apt-get.
This module repacks exactly those installed packages (same name, version, files, maintainer scripts)
from this machine with dpkg-deb, indexes them in a flat `Packages` file, and points a lab host's apt
at that directory only. apt then resolves, verifies (sizes, SHA256) and installs them for real.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

_DROPPED_FIELDS = ("Status", "Conffiles", "Config-Version", "Installed-Size")
_SCRIPTS = ("preinst", "postinst", "prerm", "postrm")
INFO_DIR = Path("/var/lib/dpkg/info")


def python_packages() -> list[str]:
    """The installed packages that own /usr/bin/python3 and /usr/bin/python3.X on this machine."""
    out = subprocess.run(
        ["dpkg", "-S", "/usr/bin/python3", "/usr/bin/python3.[0-9]*"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    owners = set()
    for line in out.splitlines():
        match = re.match(r"^([^:]+): /usr/bin/python3(\.\d+)?$", line.strip())
        if match:
            owners.update(p.strip() for p in match.group(1).split(","))
    return sorted(owners)


def _control(package: str) -> str:
    status = subprocess.run(["dpkg-query", "-s", package], capture_output=True, text=True, check=True).stdout
    kept: list[str] = []
    dropping = False
    for line in status.splitlines():
        if line.startswith((" ", "\t")):
            if not dropping:
                kept.append(line)
            continue
        dropping = line.split(":", 1)[0] in _DROPPED_FIELDS
        if not dropping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _info_file(package: str, suffix: str) -> Path | None:
    arch = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    for name in (package, f"{package}:{arch}"):
        candidate = INFO_DIR / f"{name}.{suffix}"
        if candidate.exists():
            return candidate
    return None


def repack(package: str, out_dir: Path, work: Path) -> Path:
    """Build `<package>.deb` from the files dpkg says it installed on this machine."""
    root = work / package
    (root / "DEBIAN").mkdir(parents=True)
    listing = _info_file(package, "list")
    assert listing is not None, f"dpkg has no file list for {package}"
    for line in listing.read_text().splitlines():
        source = Path(line)
        if line in ("/.", "") or not (source.exists() or source.is_symlink()):
            continue
        target = root / line.lstrip("/")
        if source.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(source), target)
        elif source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (root / "DEBIAN" / "control").write_text(_control(package))
    conffiles = _info_file(package, "conffiles")
    if conffiles is not None:
        shutil.copy2(conffiles, root / "DEBIAN" / "conffiles")
    for script in _SCRIPTS:
        found = _info_file(package, script)
        if found is not None:
            shutil.copy2(found, root / "DEBIAN" / script)
            (root / "DEBIAN" / script).chmod(0o755)
    deb = out_dir / f"{package}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(root), str(deb)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return deb


def build_repo(repo: Path, packages: list[str]) -> Path:
    """A flat apt repository (debs + Packages) in `repo` holding `packages` as installed here."""
    repo.mkdir(parents=True, exist_ok=True)
    work = repo / ".build"
    stanzas = []
    for package in packages:
        deb = repack(package, repo, work)
        control = subprocess.run(
            ["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True
        ).stdout
        data = deb.read_bytes()
        stanzas.append(
            control.rstrip("\n")
            + f"\nFilename: ./{deb.name}\nSize: {len(data)}\nSHA256: {hashlib.sha256(data).hexdigest()}\n"
        )
    shutil.rmtree(work)
    (repo / "Packages").write_text("\n".join(stanzas))
    return repo


def point_apt_at(repo_dir_on_host: str) -> str:
    """Shell commands (run as root inside a lab host) making `repo_dir_on_host` its only apt source."""
    return (
        "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* && "
        f"echo 'deb [trusted=yes] file:{repo_dir_on_host} ./' > /etc/apt/sources.list.d/kwizard-lab.list && "
        "rm -rf /var/lib/apt/lists/*"
    )
