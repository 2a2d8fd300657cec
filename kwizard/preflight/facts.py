"""What the probe found on one host, parsed from its `key=value` lines into a frozen HostFacts."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any

from kwizard.errors import RemoteError
from kwizard.storage.checks import DeviceFacts, parse_device_probe


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str  # "3.11.2", or "?" when the file exists but does not run

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.version.split(".") if p.isdigit())


@dataclass(frozen=True)
class DiskSpace:
    path: str
    free_mb: int
    used_percent: int
    mount_point: str


@dataclass(frozen=True)
class HostFacts:
    """Everything the probe reports about one host. Fields are None when the host could not tell."""

    hostname: str
    machine_id: str
    kernel: str
    arch: str
    os_id: str
    os_version_id: str
    os_like: tuple[str, ...]
    os_pretty: str
    uid: int | None
    user: str
    mem_mb: int | None
    swap_mb: int
    swap_active: tuple[str, ...]
    cpus: int | None
    ip_forward: int | None
    systemd: bool
    pid1: str
    sudo: str  # root | nopasswd | password | absent
    interpreters: tuple[Interpreter, ...]
    package_manager: str
    disks: tuple[DiskSpace, ...]
    listening: frozenset[int]
    listeners: tuple[tuple[int, str], ...] = ()  # (port, program), when visible (root only)
    nameservers: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    dmi_vendor: str = ""
    dmi_product: str = ""
    epoch: int | None = None
    clock_skew: float | None = None  # host clock minus controller clock, seconds
    device: DeviceFacts | None = None  # the spec's storage disk, as the storage module probes it
    brick: DiskSpace | None = None

    def program_on(self, port: int) -> str | None:
        return next((program for p, program in self.listeners if p == port), None)

    def disk(self, path: str) -> DiskSpace | None:
        return next((d for d in self.disks if d.path == path), None)

    @property
    def aws_instance_type(self) -> str | None:
        """The EC2 instance type the host reports about itself (Nitro instances expose it in DMI)."""
        if self.dmi_vendor == "Amazon EC2" and re.match(r"^[a-z0-9-]+\.[a-z0-9]+$", self.dmi_product):
            return self.dmi_product
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["listening"] = sorted(self.listening)
        data["listeners"] = [list(pair) for pair in self.listeners]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostFacts:
        values = dict(data)
        values["os_like"] = tuple(values.get("os_like", ()))
        values["swap_active"] = tuple(values.get("swap_active", ()))
        values["interpreters"] = tuple(Interpreter(**i) for i in values.get("interpreters", ()))
        values["disks"] = tuple(DiskSpace(**d) for d in values.get("disks", ()))
        values["listening"] = frozenset(values.get("listening", ()))
        values["listeners"] = tuple((int(p), str(n)) for p, n in values.get("listeners", ()))
        values["nameservers"] = tuple(values.get("nameservers", ()))
        values["addresses"] = tuple(values.get("addresses", ()))
        if values.get("device"):
            device = dict(values["device"])
            for key in ("signatures", "lvm_tags"):
                device[key] = tuple(device.get(key, ()))
            values["device"] = DeviceFacts(**device)
        if values.get("brick"):
            values["brick"] = DiskSpace(**values["brick"])
        return cls(**values)


def _lines(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            found.setdefault(key, []).append(value.strip())
    return found


def _unquote(value: str) -> str:
    # os-release values may be quoted ("12"); the format is shell-like, without expansions we need.
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _address(text: str) -> str:
    """An address in its canonical form (the probe prints IPv6 as eight uncompressed groups)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def _disk(fields: str) -> DiskSpace | None:
    parts = fields.split()
    if len(parts) < 4 or not parts[1].isdigit():
        return None
    return DiskSpace(parts[0], int(parts[1]) // 1024, _int(parts[2].rstrip("%")) or 0, parts[3])


_SS_PORT = re.compile(r":(\d+)\s")
_SS_PROGRAM = re.compile(r'users:\(\("([^"]+)"')


def _listeners(lines: list[str]) -> tuple[tuple[int, str], ...]:
    found: dict[int, str] = {}
    for line in lines:
        # "LISTEN 0 4096 0.0.0.0:6443 0.0.0.0:* users:(("kube-apiserver",pid=1,fd=3))"
        fields = line.split()
        if len(fields) < 4:
            continue
        port = _SS_PORT.search(fields[3] + " ")
        program = _SS_PROGRAM.search(line)
        if port and program:
            found.setdefault(int(port.group(1)), program.group(1))
    return tuple(sorted(found.items()))


DEVICE_BEGIN, DEVICE_END = "device_probe_begin", "device_probe_end"


def _split_device_section(text: str) -> tuple[str, str | None]:
    """The probe output without the storage device's section, and that section (None: not probed)."""
    if DEVICE_BEGIN not in text:
        return text, None
    before, _, rest = text.partition(DEVICE_BEGIN)
    section, _, after = rest.partition(DEVICE_END)
    unprobed = section.strip() == "device_unprobed"
    return before + after, None if unprobed else section


def parse_probe(
    text: str,
    *,
    host: str,
    sent_at: float | None = None,
    received_at: float | None = None,
) -> HostFacts:
    """Turn probe output into HostFacts; output cut short (no end marker) is a RemoteError."""
    text, device_section = _split_device_section(text)
    values = _lines(text)
    if "probe" not in values or "end" not in values:
        tail = text.strip().splitlines()[-3:] if text.strip() else ["(no output)"]
        raise RemoteError(
            "Preflight probe did not finish",
            f"{host}: the probe's output is incomplete. Last lines: {' | '.join(tail)}",
            "Check that the login shell runs /bin/sh scripts (sh -c) and that the session is not "
            "closed by a login banner or a forced command.",
        )

    def one(key: str, default: str = "") -> str:
        return values.get(key, [default])[0]

    epoch = _int(one("epoch"))
    skew = None
    if epoch is not None and sent_at is not None and received_at is not None:
        # The host read its clock between send and receive: compare with the midpoint.
        skew = round(epoch - (sent_at + received_at) / 2, 1)
    mem_kb = _int(one("mem_kb"))
    cpu_counts = [n for n in (_int(one("cpuinfo_cpus")), _int(one("online_cpus"))) if n]
    interpreters = []
    for entry in values.get("python", []):
        path, _, version = entry.partition(" ")
        interpreters.append(Interpreter(path, version or "?"))
    disks = tuple(d for d in (_disk(v) for v in values.get("disk", [])) if d)
    brick = _disk(one("brick")) if "brick" in values else None
    return HostFacts(
        hostname=one("hostname"),
        machine_id=one("machine_id"),
        kernel=one("kernel"),
        arch=one("arch"),
        os_id=_unquote(one("os_ID")).lower(),
        os_version_id=_unquote(one("os_VERSION_ID")),
        os_like=tuple(_unquote(one("os_ID_LIKE")).lower().split()),
        os_pretty=_unquote(one("os_PRETTY_NAME")),
        uid=_int(one("uid")),
        user=one("user"),
        mem_mb=None if mem_kb is None else mem_kb // 1024,
        swap_mb=(_int(one("swap_kb")) or 0) // 1024,
        swap_active=tuple(values.get("swap_active", [])),
        # kubeadm counts the CPUs it may run on, Ansible counts /proc/cpuinfo: the smaller one decides.
        cpus=min(cpu_counts) if cpu_counts else None,
        ip_forward=_int(one("ip_forward")),
        systemd=one("systemd") == "1",
        pid1=one("pid1"),
        sudo=one("sudo", "absent"),
        interpreters=tuple(interpreters),
        package_manager=one("pkg_manager"),
        disks=disks,
        listening=frozenset(p for p in (_int(v) for v in values.get("listen", [])) if p),
        listeners=_listeners(values.get("ss", [])),
        nameservers=tuple(values.get("nameserver", [])),
        addresses=tuple(dict.fromkeys(_address(a) for a in values.get("addr", []))),
        dmi_vendor=one("dmi_vendor"),
        dmi_product=one("dmi_product"),
        epoch=epoch,
        clock_skew=skew,
        device=parse_device_probe(device_section) if device_section is not None else None,
        brick=brick,
    )
