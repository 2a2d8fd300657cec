"""Network plumbing of a lab: one bridge on this machine, one namespace + veth pair per host."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Sequence
from typing import Any

from kwizard.errors import EnvironmentProblem, KwizardError
from kwizard.lab.layout import LabLayout

IP_TIMEOUT = 15.0


def ip(*args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `ip ARGS`; a failure raises a KwizardError quoting ip's message."""
    argv = ["ip", *args]
    try:
        result = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=IP_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise EnvironmentProblem(
            "iproute2 is missing",
            "the `ip` command was not found",
            "Install iproute2 (apt install iproute2).",
        ) from None
    except subprocess.TimeoutExpired:
        raise KwizardError("Network setup hung", f"`{' '.join(argv)}` took over {IP_TIMEOUT:.0f} s") from None
    if check and result.returncode != 0:
        shown = " ".join(argv) if stdin is None else f"{' '.join(argv)} <<< {stdin.strip()!r}"
        raise KwizardError(
            "Network setup failed", f"`{shown}` failed: {result.stderr.strip() or result.returncode}"
        )
    return result


def _batch(commands: Sequence[str], netns: str | None = None) -> None:
    # One `ip -batch` per namespace instead of one process per command: up stays fast with 12 hosts.
    if commands:
        prefix = ("-n", netns) if netns else ()
        ip(*prefix, "-batch", "-", stdin="\n".join(commands) + "\n")


def create_bridge(layout: LabLayout) -> None:
    """The lab's bridge with this machine's address on it (the hosts' gateway)."""
    _batch(
        [
            f"link add {layout.bridge} type bridge",
            f"addr add {layout.gateway}/{layout.prefixlen} dev {layout.bridge}",
            f"link set {layout.bridge} up",
        ]
    )


def create_host_network(layout: LabLayout, index: int, host: str) -> None:
    """Namespace, veth pair (eth0 inside) on the bridge, address and default route of one host."""
    netns = layout.netns(host)
    veth = layout.veth(index)
    ip("netns", "add", netns)
    _batch(
        [
            f"link add {veth} type veth peer name eth0 netns {netns}",
            f"link set {veth} master {layout.bridge} up",
        ]
    )
    _batch(
        [
            "link set lo up",
            f"addr add {layout.address(index)}/{layout.prefixlen} dev eth0",
            "link set eth0 up",
            f"route add default via {layout.gateway}",
        ],
        netns=netns,
    )


def _listing(*args: str) -> list[dict[str, Any]]:
    """`ip -json ARGS` as a list of objects ([] when ip prints nothing, e.g. no namespaces yet)."""
    try:
        entries = json.loads(ip("-json", *args, check=False).stdout or "[]")
    except json.JSONDecodeError:
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def list_netns(prefix: str) -> list[str]:
    """Named network namespaces whose name starts with `prefix`."""
    return sorted(e["name"] for e in _listing("netns", "list") if str(e.get("name", "")).startswith(prefix))


def list_links(prefix: str) -> list[str]:
    """Interfaces of this machine whose name starts with `prefix`."""
    return sorted(
        e["ifname"] for e in _listing("link", "show") if str(e.get("ifname", "")).startswith(prefix)
    )


def netns_pids(netns: str) -> list[int]:
    """Every process whose network namespace is `netns` (the lab's own processes, nothing else)."""
    result = ip("netns", "pids", netns, check=False)
    return [int(word) for word in result.stdout.split() if word.isdigit()]


def delete_all(links: Sequence[str], netnses: Sequence[str]) -> None:
    """Delete interfaces, then namespaces, in one `ip` run that goes on past ones already gone.

    The machine side of each veth is deleted explicitly (that removes its peer too): a namespace kept
    alive by someone else's reference would otherwise keep the pair, and the bridge port, alive.
    """
    commands = [f"link del {name}" for name in links] + [f"netns del {name}" for name in netnses]
    if commands:
        ip("-force", "-batch", "-", stdin="\n".join(commands) + "\n", check=False)


def range_in_use(layout: LabLayout) -> str | None:
    """Describe what on this machine already uses the lab's range (other than its own bridge), if any."""
    wanted = layout.network
    for link in _listing("-4", "addr", "show"):
        if link.get("ifname") == layout.bridge:
            continue
        for info in link.get("addr_info", []):
            try:
                network = ipaddress.ip_network(f"{info['local']}/{info['prefixlen']}", strict=False)
            except (KeyError, ValueError):
                continue
            if network.overlaps(wanted):
                return f"interface {link.get('ifname')} has address {info['local']}/{info['prefixlen']}"
    for route in _listing("-4", "route", "show"):
        dst, dev = route.get("dst", "default"), route.get("dev")
        if dst == "default" or dev == layout.bridge:
            continue
        try:
            if ipaddress.ip_network(dst, strict=False).overlaps(wanted):
                return f"a route to {dst} via {dev or route.get('gateway')}"
        except ValueError:
            continue
    return None
