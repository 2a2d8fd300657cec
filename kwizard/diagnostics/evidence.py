"""What kwizard already knows about the hosts and the cluster, used to re-rank findings.

Sources: the preflight phase's measurements (from the run journal or `PhaseContext.results`), the
preset (proxy, storage, target, EC2 instance types), or a JSON file given to `kwizard diagnose
--evidence`. Unknown or missing facts are simply absent; a rule never guesses from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kwizard.protocol.outputs import PreflightOutput
    from kwizard.spec import ClusterSpec

FactValue = float | bool | None

# Memory (MB) and vCPUs of EC2 instance types people try first; enough to explain a t2.micro.
INSTANCE_SIZES: dict[str, tuple[int, int]] = {
    "t2.nano": (512, 1),
    "t2.micro": (1024, 1),
    "t2.small": (2048, 1),
    "t2.medium": (4096, 2),
    "t2.large": (8192, 2),
    "t3.nano": (512, 2),
    "t3.micro": (1024, 2),
    "t3.small": (2048, 2),
    "t3.medium": (4096, 2),
    "t3.large": (8192, 2),
    "t3a.micro": (1024, 2),
    "t3a.small": (2048, 2),
    "t4g.micro": (1024, 2),
    "t4g.small": (2048, 2),
    "t4g.medium": (4096, 2),
}

# Names the preflight results or a user's JSON may use for the same fact.
_ALIASES: dict[str, tuple[str, ...]] = {
    "memory_mb": ("memory_mb", "mem_mb", "memtotal_mb", "ansible_memtotal_mb", "memory"),
    "cpus": ("cpus", "cpu_count", "vcpus", "ansible_processor_vcpus", "nproc"),
    "python3": ("python3", "python3_present", "has_python3", "python"),
    "ip_forward": ("ip_forward", "net.ipv4.ip_forward", "ipv4_forward"),
    "swap_mb": ("swap_mb", "swaptotal_mb", "ansible_swaptotal_mb"),
    "disk_free_mb": ("disk_free_mb", "free_disk_mb"),
    "clock_offset_s": ("clock_offset_s", "time_offset_s", "clock_skew_s"),
    "os_supported": ("os_supported",),
    "systemd": ("systemd", "service_mgr_systemd"),
    "stub_resolver": ("stub_resolver",),
}
_FLAGS = ("python3", "ip_forward", "os_supported", "systemd", "stub_resolver")


@dataclass(frozen=True)
class HostFacts:
    """Measured facts of one host; None when not measured."""

    memory_mb: float | None = None
    cpus: float | None = None
    python3: bool | None = None
    ip_forward: bool | None = None
    swap_mb: float | None = None
    disk_free_mb: float | None = None
    clock_offset_s: float | None = None
    os_supported: bool | None = None
    systemd: bool | None = None  # PID 1 is systemd
    stub_resolver: bool | None = None  # /etc/resolv.conf names a local stub (127.0.0.53)

    def get(self, name: str) -> FactValue:
        value = getattr(self, name, None)
        return value if isinstance(value, (int, float, bool)) else None

    def merged(self, other: HostFacts) -> HostFacts:
        """These facts, with `other`'s measured values taking precedence."""
        updates = {
            f.name: getattr(other, f.name) for f in fields(other) if getattr(other, f.name) is not None
        }
        return replace(self, **updates)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in (
        "1",
        "true",
        "yes",
        "present",
        "0",
        "false",
        "no",
    ):
        return value.strip().lower() in ("1", "true", "yes", "present")
    return None


def host_facts_from(data: Mapping[str, Any]) -> HostFacts:
    """Facts from a mapping that may use any of the usual names (preflight, Ansible facts, users)."""
    values: dict[str, Any] = {}
    for name, aliases in _ALIASES.items():
        raw = next((data[a] for a in aliases if a in data), None)
        if raw is None:
            continue
        values[name] = _flag(raw) if name in _FLAGS else _number(raw)
    return HostFacts(**{k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True)
class Evidence:
    """Facts per host plus cluster settings."""

    hosts: Mapping[str, HostFacts] = field(default_factory=dict)
    settings: Mapping[str, str | bool] = field(default_factory=dict)

    def facts_for(self, host: str | None) -> list[tuple[str, HostFacts]]:
        """The facts of `host`, or of every host when the record names none."""
        if host is not None:
            return [(host, self.hosts[host])] if host in self.hosts else []
        return sorted(self.hosts.items())

    def merged(self, other: Evidence) -> Evidence:
        hosts = dict(self.hosts)
        for name, facts in other.hosts.items():
            hosts[name] = hosts[name].merged(facts) if name in hosts else facts
        return Evidence(hosts, {**self.settings, **other.settings})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Evidence:
        """Evidence from JSON: {"hosts": {name: facts} | [{"name"|"host": …, facts…}], "settings": {…}}.

        Preflight phase results ({"results": [{"host": …, "facts": {…}}]}) are accepted as well.
        """
        hosts: dict[str, HostFacts] = {}
        raw_hosts = data.get("hosts", data.get("results", {}))
        items: list[tuple[str, Mapping[str, Any]]] = []
        if isinstance(raw_hosts, Mapping):
            items = [(str(k), v) for k, v in raw_hosts.items() if isinstance(v, Mapping)]
        elif isinstance(raw_hosts, list):
            for entry in raw_hosts:
                if isinstance(entry, Mapping) and (entry.get("name") or entry.get("host")):
                    items.append((str(entry.get("name") or entry.get("host")), entry))
        for name, entry in items:
            facts = dict(entry)
            for nested in ("facts", "measured", "checks"):
                if isinstance(entry.get(nested), Mapping):
                    facts.update(entry[nested])
            hosts[name] = host_facts_from(facts)
        settings_raw = data.get("settings", {})
        settings = (
            {str(k): v for k, v in settings_raw.items() if isinstance(v, (str, bool))}
            if isinstance(settings_raw, Mapping)
            else {}
        )
        return cls(hosts, settings)

    @classmethod
    def from_spec(cls, spec: ClusterSpec) -> Evidence:
        """What the preset says: proxy, storage, target and the size of known EC2 instance types."""
        hosts = {}
        for host in spec.hosts:
            size = INSTANCE_SIZES.get(host.instance_type or "")
            if size:
                hosts[host.name] = HostFacts(memory_mb=float(size[0]), cpus=float(size[1]))
        settings: dict[str, str | bool] = {
            "proxy": bool(spec.kubespray.http_proxy or spec.kubespray.https_proxy),
            "storage": spec.storage.type,
            "target": spec.target,
        }
        return cls(hosts, settings)

    @classmethod
    def from_preflight(cls, preflight: PreflightOutput) -> Evidence:
        """Evidence from the preflight phase's output (its measured facts per host)."""
        return cls.from_mapping({"hosts": preflight.hosts})
