"""Parse the written inventory with the real `ansible-inventory --list`, as Kubespray's ansible will.

Ansible's default on a source it cannot parse is a warning and an inventory holding only localhost (the
"Unable to parse … as an inventory source" trap), so the parser is forced to fail loudly, and the hosts
and groups it returns are compared with what the spec asked for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kwizard.childenv import child_environment
from kwizard.errors import EnvironmentProblem, InputError
from kwizard.inventory.render import BASTION_NAME, node_hosts
from kwizard.spec import ClusterSpec

TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class ParsedInventory:
    """What ansible-inventory made of the files."""

    groups: dict[str, list[str]]  # group → its direct hosts
    hostvars: dict[str, dict[str, Any]]
    binary: Path
    seconds: float


def ansible_inventory_binary(bin_dir: Path | None = None) -> Path:
    """ansible-inventory of the Kubespray venv when given, else the one installed next to this Python."""
    candidates = [bin_dir / "ansible-inventory"] if bin_dir else []
    candidates.append(Path(sys.executable).parent / "ansible-inventory")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise EnvironmentProblem(
        "ansible-inventory not found",
        "Neither the Kubespray environment nor kwizard's own environment has ansible-inventory "
        f"(looked in: {', '.join(str(c.parent) for c in candidates)}).",
        "Reinstall kwizard with its dependencies (ansible-core), or run the kubespray phase once to build "
        "Kubespray's environment.",
    )


def parse(
    hosts_file: Path, *, bin_dir: Path | None = None, ansible_cfg: Path | None = None
) -> ParsedInventory:
    """Run `ansible-inventory -i hosts_file --list` and return its groups and host variables."""
    binary = ansible_inventory_binary(bin_dir)
    settings = {
        "ANSIBLE_INVENTORY_ENABLED": "yaml",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True",
        "ANSIBLE_NOCOLOR": "1",
    }
    if ansible_cfg is not None:
        settings["ANSIBLE_CONFIG"] = str(ansible_cfg)
    # Only what ansible-inventory needs: kwizard's environment may hold the SSH or sudo password.
    env = child_environment(settings, named=() if ansible_cfg else ("ANSIBLE_CONFIG",))
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            [str(binary), "-i", str(hosts_file), "--list"],
            cwd=hosts_file.parent,  # never pick up an ansible.cfg from wherever kwizard was started
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentProblem(
            "ansible-inventory did not finish",
            f"Parsing {hosts_file} took longer than {TIMEOUT_SECONDS:.0f} s.",
            "Check that the machine is not overloaded and run again.",
        ) from None
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip()
        raise InputError(
            "Ansible cannot parse the inventory",
            f"{binary} -i {hosts_file} --list failed (exit {completed.returncode}):\n{detail[-2000:]}",
            "This is a bug in kwizard's inventory writer if the preset is valid; please report it with the "
            "preset attached.",
        )
    try:
        data = json.loads(completed.stdout)
    except json.JSONDecodeError as exc:
        raise InputError(
            "Unexpected ansible-inventory output", f"{binary} printed something that is not JSON: {exc}"
        ) from None
    groups = {
        name: list(entry.get("hosts", []))
        for name, entry in data.items()
        if name != "_meta" and isinstance(entry, dict)
    }
    hostvars = data.get("_meta", {}).get("hostvars", {})
    return ParsedInventory(groups=groups, hostvars=hostvars, binary=binary, seconds=seconds)


def expected_groups(spec: ClusterSpec) -> dict[str, set[str]]:
    """The hosts each Kubespray group must hold for `spec`."""
    expected = {
        "kube_control_plane": {h.name for h in spec.hosts_with("control_plane")},
        "kube_node": {h.name for h in node_hosts(spec)},
        "etcd": {h.name for h in spec.hosts_with("etcd")},
    }
    if spec.bastion is not None:
        expected["bastion"] = {BASTION_NAME}
    return expected


def compare(spec: ClusterSpec, parsed: ParsedInventory) -> list[str]:
    """Differences between what ansible parsed and what the spec asked for (empty when they agree)."""
    differences = []
    for group, hosts in expected_groups(spec).items():
        found = set(parsed.groups.get(group, []))
        if found != hosts:
            differences.append(f"group {group}: ansible sees {sorted(found)}, the spec has {sorted(hosts)}")
    for host in spec.hosts:
        variables = parsed.hostvars.get(host.name)
        if variables is None:
            differences.append(f"host {host.name} is missing")
            continue
        if variables.get("ansible_host") != host.address:
            differences.append(f"host {host.name}: ansible_host is {variables.get('ansible_host')!r}")
        if (host.has("control_plane") or host.has("worker")) and (
            variables.get("kube_version")
            != spec.kubespray.extra_vars.get("kube_version", spec.kubespray.kube_version)
        ):
            differences.append(f"host {host.name}: group_vars/k8s_cluster were not applied")
    return differences
