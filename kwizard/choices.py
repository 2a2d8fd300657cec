"""What the wizard offers for its options (TUI and plain mode alike), and the parsing of typed option text."""

from __future__ import annotations

from kwizard.errors import InputError
from kwizard.storage.choice import STORAGE_OPTIONS

NETWORK_PLUGINS = ["calico", "cilium", "flannel", "kube-ovn", "kube-router", "macvlan", "custom_cni", "cni"]
CONTAINER_MANAGERS = ["containerd", "crio", "docker"]
# Every storage backend, for plain mode (the wizard's StorageChoice offers only those that fit the target).
STORAGE_TYPES: list[tuple[str, str]] = [(o.title, o.key) for o in STORAGE_OPTIONS]


def parse_virtual_hosts(text: str) -> list[dict[str, object]]:
    """Lines of `host service [namespace] [port]` → virtual host dicts."""
    result: list[dict[str, object]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) < 2 or len(words) > 4:
            raise InputError(
                "Invalid virtual host",
                f"line {number}: {line.strip()!r}",
                "Write one per line: HOST SERVICE [NAMESPACE] [PORT], e.g. grafana.example.com grafana "
                "monitoring 3000",
            )
        entry: dict[str, object] = {"host": words[0], "service": words[1]}
        if len(words) > 2:
            entry["namespace"] = words[2]
        if len(words) > 3:
            if not words[3].isdigit():
                raise InputError("Invalid virtual host", f"line {number}: port {words[3]!r}", "Use a number.")
            entry["port"] = int(words[3])
        result.append(entry)
    return result
