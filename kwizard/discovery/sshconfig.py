"""Hosts the operator already named in `~/.ssh/config` (Host blocks without wildcards)."""

from __future__ import annotations

import glob
from pathlib import Path

import paramiko

from kwizard.discovery.model import Candidate, Discovery, HostProblem
from kwizard.spec import check_address

DEFAULT_PATH = Path("~/.ssh/config")
_MAX_INCLUDE_DEPTH = 4


def from_ssh_config(path: Path = DEFAULT_PATH) -> Discovery:
    """One candidate per concrete `Host` alias: its HostName, User and Port as ssh would resolve them."""
    path = path.expanduser()
    try:
        text = _read_with_includes(path, 0)
    except OSError as exc:
        return Discovery(problems=(HostProblem(str(path), f"cannot read it: {exc.strerror or exc}"),))
    config = paramiko.SSHConfig.from_text(text)
    candidates: list[Candidate] = []
    problems: list[HostProblem] = []
    notes: list[str] = []
    for alias in sorted(config.get_hostnames()):
        if any(char in alias for char in "*?!") or alias == "*":
            continue  # patterns configure many hosts; they do not name one
        settings = config.lookup(alias)
        address = settings.get("hostname", alias)
        try:
            address = check_address(address)
        except ValueError as exc:
            problems.append(HostProblem(f"Host {alias}", str(exc), f"Fix HostName of {alias} in {path}."))
            continue
        port_text = settings.get("port", "22")
        port = int(port_text) if port_text.isdigit() and port_text != "22" else None
        if "proxyjump" in settings or "proxycommand" in settings:
            notes.append(f"{alias} is reached through a jump host in {path}; set it as the bastion if needed")
        candidates.append(
            Candidate(address, name=alias, port=port, user=settings.get("user"), source="ssh_config")
        )
    return Discovery(tuple(candidates), tuple(problems), notes=tuple(notes))


def _read_with_includes(path: Path, depth: int) -> str:
    # paramiko does not follow Include, and `Match exec` would run commands: inline the former, drop
    # Match blocks entirely (they never name a concrete host anyway).
    lines: list[str] = []
    in_match = False
    for line in path.read_text().splitlines():
        words = line.strip().split(None, 1)
        keyword = words[0].lower() if words else ""
        if keyword == "match":
            in_match = True
            continue
        if keyword == "host":
            in_match = False
        if in_match:
            continue
        if keyword == "include" and len(words) == 2 and depth < _MAX_INCLUDE_DEPTH:
            for pattern in words[1].split():
                base = Path(pattern).expanduser()
                if not base.is_absolute():
                    base = Path("~/.ssh").expanduser() / base
                for included in sorted(glob.glob(str(base))):
                    lines.append(_read_with_includes(Path(included), depth + 1))
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"
