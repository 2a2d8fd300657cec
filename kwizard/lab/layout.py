"""Names and addresses of one lab: bridge, namespaces, veths, host addresses and its state folder.

Every kernel object a lab creates carries the lab's name, so `down` can find leftovers even without the
state file (a killed `up`), and two labs with different names and subnets never touch each other.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from kwizard.errors import InputError

DEFAULT_NAME = "kwlab"
DEFAULT_SUBNET = "10.77.0.0/24"
HOST_OFFSET = 10  # host i (1-based) gets network address + 10 + i: lab1 = .11, as in presets/lab.yaml
SSH_PORT = 22
RUN_ROOT = Path("/run/kwizard-lab")  # lab names are unique per machine (they name its namespaces)

# Interface names have at most 15 characters: "kwv-" + 8 + "-" + 2 digits.
LAB_NAME = re.compile(r"^[a-z][a-z0-9]{0,7}$")


def check_lab_name(name: str) -> str:
    """A lab name: 1-8 lower-case letters/digits, starting with a letter."""
    if not LAB_NAME.match(name):
        raise InputError(
            "Invalid lab name",
            f"{name!r} cannot name a lab (it becomes part of interface names, at most 15 characters)",
            "Use 1 to 8 lower-case letters and digits, starting with a letter, e.g. 'kwlab'.",
        )
    return name


def check_subnet(value: str, hosts: int) -> ipaddress.IPv4Network:
    """A private IPv4 range large enough for the gateway and `hosts` hosts."""
    try:
        network = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise InputError(
            "Invalid lab subnet", f"{value!r} is not a network range ({exc})", "Use e.g. 10.77.0.0/24."
        ) from None
    if not isinstance(network, ipaddress.IPv4Network) or not network.is_private:
        raise InputError(
            "Invalid lab subnet",
            f"{value} is not a private IPv4 range; the lab must not shadow real networks",
            "Use a range from 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, e.g. 10.77.0.0/24.",
        )
    if network.num_addresses - 2 < HOST_OFFSET + hosts:
        raise InputError(
            "Lab subnet too small",
            f"{value} has no room for {hosts} hosts (they start at the {HOST_OFFSET + 1}th address)",
            "Use a /24 (room for up to 99 hosts).",
        )
    return network


@dataclass(frozen=True)
class LabLayout:
    """Where a lab lives: its names on this machine and its folder."""

    name: str
    subnet: str
    root: Path  # the kwizard data root; the lab's folder is <root>/lab/<name>

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    @property
    def gateway(self) -> str:
        """This machine's address on the lab bridge (hosts reach the machine and "DNS" through it)."""
        return str(self.network.network_address + 1)

    @property
    def prefixlen(self) -> int:
        return self.network.prefixlen

    @property
    def bridge(self) -> str:
        return f"kwb-{self.name}"

    @property
    def netns_prefix(self) -> str:
        return f"kw-{self.name}-"

    @property
    def veth_prefix(self) -> str:
        return f"kwv-{self.name}-"

    def netns(self, host: str) -> str:
        return f"{self.netns_prefix}{host}"

    def veth(self, index: int) -> str:
        return f"{self.veth_prefix}{index}"

    def address(self, index: int) -> str:
        """Address of host number `index` (1-based)."""
        return str(self.network.network_address + HOST_OFFSET + index)

    @property
    def state_dir(self) -> Path:
        return self.root / "lab" / self.name

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "lab" / f".{self.name}.lock"

    @property
    def key_path(self) -> Path:
        return self.state_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / "known_hosts"

    @property
    def run_dir(self) -> Path:
        """Short-lived files of the running lab, on a short path (unix sockets allow ~107 bytes)."""
        return RUN_ROOT / self.name

    @property
    def control_path_dir(self) -> Path:
        return self.run_dir / "cp"

    def host_dir(self, host: str) -> Path:
        return self.state_dir / "hosts" / host
