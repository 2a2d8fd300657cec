"""Hosts from Terraform: `terraform output -json` of a working directory, or a state file.

Outputs are read generously: any output (not marked sensitive) whose value holds IP addresses, as a
string (possibly several separated by spaces/commas/new lines), a list, or a map of name → address.
The output's name hints at the role (`masters`, `control_plane_ips` → control plane; `workers` → worker;
`etcd`; `bastion` → the bastion). State files add `aws_instance` resources with their AZ and type.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from kwizard.discovery.model import Candidate, Discovery, HostProblem
from kwizard.errors import EnvironmentProblem, InputError

_ROLE_HINTS = (
    (re.compile(r"bastion|jump", re.I), "bastion"),
    (re.compile(r"master|control|(^|_)cp(_|$)", re.I), "control_plane"),
    (re.compile(r"etcd", re.I), "etcd"),
    (re.compile(r"worker|node|minion", re.I), "worker"),
)


def terraform_output(directory: Path, *, timeout: float = 120.0) -> dict[str, Any]:
    """The parsed `terraform output -json` of `directory` (needs the terraform binary)."""
    if not directory.is_dir():
        raise InputError(
            "No Terraform directory",
            f"{directory} is not a directory.",
            "Give the folder you run terraform in.",
        )
    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        raise EnvironmentProblem(
            "Terraform not found",
            "Neither `terraform` nor `tofu` is on PATH, so outputs cannot be read.",
            "Install Terraform/OpenTofu, or import the state file (terraform.tfstate) instead.",
        )
    try:
        result = subprocess.run(
            [binary, "output", "-json"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(
            "Terraform timed out", f"`terraform output -json` in {directory} took too long."
        ) from None
    except OSError as exc:
        raise InputError("Cannot run Terraform", f"{directory}: {exc}", "Check the directory.") from None
    if result.returncode != 0:
        raise InputError(
            "Terraform output failed",
            f"`terraform output -json` in {directory} failed: {result.stderr.strip()[:400]}",
            "Run `terraform init` and `terraform apply` there first, or import the state file.",
        )
    return _json(result.stdout, f"terraform output in {directory}")


def from_terraform_dir(directory: Path) -> Discovery:
    """Candidates from the outputs of the Terraform configuration in `directory`."""
    return from_outputs(terraform_output(directory.expanduser()), f"terraform {directory}")


def from_state_file(path: Path) -> Discovery:
    """Candidates from a terraform.tfstate (outputs, plus aws_instance resources)."""
    path = path.expanduser()
    try:
        data = _json(path.read_text(), str(path))
    except OSError as exc:
        raise InputError("Cannot read the state file", f"{path}: {exc.strerror or exc}") from None
    outputs = from_outputs(data.get("outputs") or {}, f"tfstate {path.name}")
    instances = list(_aws_instances(data, f"tfstate {path.name}"))
    known = {c.address for c in instances} | {c.ip for c in instances if c.ip}
    merged = instances + [c for c in outputs.candidates if c.address not in known]
    return Discovery(tuple(merged), outputs.problems, outputs.bastion, outputs.notes)


def from_outputs(outputs: dict[str, Any], source: str) -> Discovery:
    """Candidates from the `outputs` mapping of `terraform output -json` or of a state file."""
    found: dict[str, Candidate] = {}  # by address; an address in several outputs collects their hints
    notes: list[str] = []
    bastion: str | None = None
    for output_name in sorted(outputs):
        entry = outputs[output_name]
        if not isinstance(entry, dict) or "value" not in entry:
            continue
        if entry.get("sensitive"):
            notes.append(f"output {output_name!r} is sensitive and was not read")
            continue
        hint = _role_hint(output_name)
        for name, address in _addresses(entry["value"]):
            if hint == "bastion":
                bastion = bastion or address
                continue
            hints = (hint,) if hint else ()
            if address in found:
                known = found[address]
                merged = known.role_hints + tuple(h for h in hints if h not in known.role_hints)
                found[address] = replace(known, name=known.name or name, role_hints=merged)
            else:
                found[address] = Candidate(address, name=name, role_hints=hints, source=source)
    candidates = list(found.values())
    if not candidates and bastion is None:
        problem = HostProblem(source, "no output holds IP addresses", "Add an output listing the hosts' IPs.")
        return Discovery(problems=(problem,), notes=tuple(notes))
    return Discovery(tuple(candidates), bastion=bastion, notes=tuple(notes))


def _role_hint(output_name: str) -> str | None:
    for pattern, role in _ROLE_HINTS:
        if pattern.search(output_name):
            return role
    return None


def _addresses(value: Any, name: str | None = None) -> Iterator[tuple[str | None, str]]:
    """(name hint, IP) pairs found anywhere in an output value."""
    if isinstance(value, str):
        for word in re.split(r"[\s,]+", value.strip()):
            if _is_ip(word):
                yield name, str(ipaddress.ip_address(word))
    elif isinstance(value, list):
        for item in value:
            yield from _addresses(item, None)
    elif isinstance(value, dict):
        for key in sorted(value):
            yield from _addresses(value[key], key if isinstance(value[key], str) else None)


def _aws_instances(state: dict[str, Any], source: str) -> Iterator[Candidate]:
    for resource in state.get("resources") or []:
        if resource.get("type") != "aws_instance" or resource.get("mode", "managed") != "managed":
            continue
        for instance in resource.get("instances") or []:
            attributes = instance.get("attributes") or {}
            private = attributes.get("private_ip") or None
            public = attributes.get("public_ip") or None
            address = public or private
            if not address or not _is_ip(address):
                continue
            tags = attributes.get("tags") or {}
            index = instance.get("index_key")
            name = tags.get("Name") or (
                f"{resource.get('name')}-{index}" if index is not None else resource.get("name")
            )
            yield Candidate(
                address,
                name=name,
                ip=private if public else None,
                az=attributes.get("availability_zone"),
                instance_type=attributes.get("instance_type"),
                role_hints=tuple(filter(None, [_role_hint(str(resource.get("name", "")))])),
                source=source,
            )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _json(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            "Not Terraform JSON", f"{where}: {exc}", "Pass the output of `terraform output -json`."
        ) from None
    if not isinstance(data, dict):
        raise InputError("Not Terraform JSON", f"{where}: expected an object at the top level.")
    return data
