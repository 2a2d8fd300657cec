"""The shapes a preset value may take: names, paths, addresses, versions (each check names what is wrong).

Values that land in the inventory, group_vars or a playbook's variables are written so that Ansible never
evaluates them (kwizard.yamlout tags them !unsafe). Fields that can only ever hold a name, a path or an
address are also held to that shape here, so a template, a shell fragment or a newline in one is refused
with the key named instead of being carried along.
"""

from __future__ import annotations

import ipaddress
import re

# Kubespray's own host-name rule (roles/kubernetes/preinstall: "Stop if bad hostname").
RFC1123_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LOOKS_LIKE_IPV4 = re.compile(r"^[0-9.]+$")

# A login name: what useradd accepts on the distributions Kubespray supports (plus upper case and '.').
USER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$")
# A Kubernetes label value (a zone or an instance type becomes a node label).
LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)$")
# A DNS-1123 label: Kubernetes namespace and Service names.
DNS_LABEL = re.compile(r"^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$")
# An absolute path made of plain characters, for paths kwizard hands to remote commands and playbooks.
PLAIN_ABSOLUTE_PATH = re.compile(r"^/[A-Za-z0-9_.+/-]*$")
# A tag or branch name: it becomes a folder name and an argument of git (no '..', '/', leading '-').
VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
# An Ansible variable name (what Kubespray's variables look like).
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Extra vars that would override how kwizard connects or start programs on this machine.
KWIZARD_OWNED_VARIABLE = re.compile(
    r"^ansible_(?:host|user|port|ssh_.*|scp_.*|sftp_.*|.*_exe|.*_executable|.*_args|host_key_checking"
    r"|private_key_file|become.*|password|pass)$"
)
# Characters no path, URL or name kwizard asks for ever needs, and that templates and shells are made of.
_CODE_CHARACTERS = frozenset("{}`$;|&<>\\\"'")


def check_user_name(value: str) -> str:
    if not USER_NAME.match(value):
        raise ValueError(
            f"{value!r} is not a login name: use letters, digits, '_', '.' and '-' "
            "(at most 32, not starting with '.' or '-')"
        )
    return value


def check_path_text(value: str, what: str = "path") -> str:
    """A local path given by the user: printable, and free of template and shell syntax."""
    if not value.strip():
        raise ValueError(f"the {what} is empty")
    bad = sorted({c for c in value if c in _CODE_CHARACTERS or not c.isprintable()})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise ValueError(f"{value!r} is not a usable {what}: it contains {shown}")
    if value.startswith("-"):
        raise ValueError(f"{value!r} is not a usable {what}: it starts with '-'")
    return value


def check_plain_absolute_path(value: str, example: str) -> str:
    """An absolute path of letters, digits and `_.+-/`, without '..' (it is used on the hosts)."""
    value = value.rstrip("/") or value
    if not PLAIN_ABSOLUTE_PATH.match(value) or value == "/" or ".." in value.split("/") or "//" in value:
        raise ValueError(
            f"{value!r} must be an absolute path other than '/', of letters, digits and '_.+-/', "
            f"without '..' (e.g. {example})"
        )
    return value


def is_rfc1123(name: str) -> bool:
    return len(name) <= 253 and bool(RFC1123_NAME.match(name))


def check_address(value: str) -> str:
    """A host address: an IP (v4/v6) or a DNS name. Strings of digits and dots must be valid IPv4."""
    value = value.strip()
    if not value:
        raise ValueError("an address is required")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    if LOOKS_LIKE_IPV4.match(value) or ":" in value:
        raise ValueError(f"{value!r} is not a valid IP address")
    if not is_rfc1123(value.lower()):
        raise ValueError(f"{value!r} is neither an IP address nor a valid DNS name")
    return value.lower()


def check_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IP address") from None


def check_cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=True))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid network range ({exc})") from None
