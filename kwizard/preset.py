"""Presets: a ClusterSpec saved as readable YAML; load errors name the file, line, key and fix."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kwizard import yamltext
from kwizard.errors import PresetError
from kwizard.fsutil import atomic_write
from kwizard.spec import (
    DEFER_RULES,
    PINNED_FIELDS,
    SPEC_VERSION,
    ClusterSpec,
    describe_error,
    format_loc,
    rule_problems,
    secret_looking_keys,
)

HEADER = """\
# kwizard preset — the answers of the kwizard wizard for one cluster.
# Replay it with:  kwizard --preset {file}          (wizard, prefilled)
#             or:  kwizard --preset {file} --yes    (headless)
# No passwords are stored here: name an environment variable in ssh.password_env instead.
"""

# Migrations turn the raw data of version N into version N+1. Version 0 was the unversioned draft
# format, in which the host list was called `nodes`.
Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    if "nodes" in data and "hosts" not in data:
        data["hosts"] = data.pop("nodes")
    data["version"] = 1
    return data


MIGRATIONS: dict[int, Migration] = {0: _v0_to_v1}

# More checks a loaded preset must pass (the inventory checks that need no host): (key path, reason) each.
SpecCheck = Callable[[ClusterSpec], Iterable[tuple[str, str]]]


def migrate(data: dict[str, Any], source: str = "<preset>") -> dict[str, Any]:
    """Bring raw preset data up to SPEC_VERSION, refusing versions from the future."""
    version = data.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise PresetError(
            "Invalid preset",
            f"{source}: 'version' is {version!r}; it must be a whole number",
            f"Set 'version: {SPEC_VERSION}'.",
        )
    if version > SPEC_VERSION:
        raise PresetError(
            "Preset from a newer kwizard",
            f"{source} has version {version}; this kwizard understands up to {SPEC_VERSION}",
            "Upgrade kwizard (pip install -U kwizard), or use the kwizard that wrote the preset.",
        )
    while version < SPEC_VERSION:
        data = MIGRATIONS[version](data)
        version = data["version"]
    return data


def parse(text: str, source: str = "<preset>", *, check: SpecCheck | None = None) -> ClusterSpec:
    """Parse preset text into a validated ClusterSpec; every failure is a PresetError.

    All problems are reported at once, each as `file:line: key: reason`: the model's own errors, the
    rules that span several fields, and `check` (the host-free inventory checks) when given.
    """
    document = yamltext.parse(
        text,
        source,
        "Preset is not valid YAML",
        "Fix the YAML syntax at that line (indentation, a missing ':' or an unclosed quote).",
        PresetError,
    )
    data, root = document.data, document.root
    if not isinstance(data, dict):
        raise PresetError(
            "Preset has the wrong shape",
            f"{source}: the top level is {type(data).__name__}, not a mapping of settings",
            "Start from a shipped preset (presets/*.yaml) or save one from the wizard.",
        )
    secrets = secret_looking_keys(data)
    if secrets:
        raise PresetError(
            "Secrets do not belong in a preset",
            f"{source}: {', '.join(secrets)} looks like a secret; presets are saved and shared",
            "Remove it; put the password in an environment variable and name that variable in "
            "ssh.password_env / ssh.become_password_env, or let kwizard ask for it.",
        )
    data = migrate(data, source)
    found: list[tuple[int, str]] = []  # (line, text) of every problem
    try:
        spec: ClusterSpec | None = ClusterSpec.model_validate(data, context=DEFER_RULES)
        broken: list[tuple[Any, ...]] = []
    except ValidationError as exc:
        errors = exc.errors()
        found = [_describe(err, source, root) for err in errors]
        broken = [tuple(err.get("loc", ())) for err in errors]
        # The rest is still checked: the same data without the refused values (their defaults apply).
        spec = _validate_without(data, broken)
    except (TypeError, ValueError, RecursionError) as exc:
        raise PresetError("Invalid preset", f"{source}: {exc}", "Correct the preset.") from None
    if spec is not None:
        found += [
            _describe_field(key, reason, source, root)
            for key, reason in _spec_problems(
                spec, check, hosts_broken=any(loc[:1] == ("hosts",) for loc in broken)
            )
        ]
    if found:
        raise PresetError(
            "Invalid preset",
            "\n".join(text for _, text in sorted(found, key=lambda item: item[0])),
            "Correct the values above; `kwizard --help` and the shipped presets show valid forms.",
        )
    assert spec is not None  # no problem found means the model accepted the data
    return spec


def _spec_problems(
    spec: ClusterSpec, check: SpecCheck | None, *, hosts_broken: bool
) -> list[tuple[str, str]]:
    """The rules spanning several fields, then the extra checks; a rule the checks also report (same
    key) is given once, in the checks' words."""
    checked = list(check(spec)) if check is not None else []
    keys = {key for key, _ in checked}
    problems = [p for p in rule_problems(spec) if p[0] not in keys] + checked
    if hosts_broken:
        # Some hosts lost a refused value (or were dropped): counts of roles and names would mislead.
        problems = [p for p in problems if not p[0].startswith(("hosts", "storage.gluster.replicas"))]
    return problems


def _validate_without(data: dict[str, Any], locations: list[tuple[Any, ...]]) -> ClusterSpec | None:
    """The spec of `data` without the values at `locations`, or None if it is still not valid."""
    pruned = copy.deepcopy(data)
    # Deepest and last first, so that removing a list item does not shift the ones still to remove.
    for loc in sorted(locations, key=lambda loc: [(str(type(p)), p) for p in loc], reverse=True):
        _remove(pruned, loc)
    try:
        return ClusterSpec.model_validate(pruned, context=DEFER_RULES)
    except (ValidationError, TypeError, ValueError, RecursionError):
        return None


def _remove(data: Any, loc: tuple[Any, ...]) -> None:
    """Delete the deepest existing item along `loc` (pydantic adds parts that are not keys: skip them)."""
    parent: Any = None
    last: Any = None
    node = data
    for part in loc:
        is_key = isinstance(node, dict) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (is_key or is_index):
            break
        parent, last, node = node, part, node[part]
    if parent is not None:
        del parent[last]


def load(path: Path | str, *, check: SpecCheck | None = None) -> ClusterSpec:
    """Read and validate a preset file (and run `check` on it: see `parse`)."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PresetError(
            "Preset not found", f"{path} does not exist", "Check the path passed to --preset."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PresetError(
            "Preset cannot be read", f"{path}: {exc}", "Check the file's permissions and encoding."
        ) from None
    return parse(text, str(path), check=check)


def dump(spec: ClusterSpec, file_hint: str = "preset.yaml") -> str:
    """The YAML text of a spec: header comment, then only non-default settings plus the essentials."""
    full = spec.model_dump(mode="json")
    data = spec.model_dump(mode="json", exclude_defaults=True)
    for path in PINNED_FIELDS:  # kept even when default: a newer kwizard's defaults must not apply
        _pin(data, full, path)
    if spec.provision is not None:  # what is created on AWS must not follow newer defaults
        data["provision"] = spec.provision.model_dump(mode="json", exclude_none=True)
    data = {"version": SPEC_VERSION, "name": spec.name, **_ordered_like(data, full)}
    body = yaml.dump(
        data, Dumper=_PresetDumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    return HEADER.format(file=file_hint) + body


def _pin(data: dict[str, Any], full: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
        full = full[key]
    data[path[-1]] = full[path[-1]]


def _ordered_like(data: dict[str, Any], full: dict[str, Any]) -> dict[str, Any]:
    """`data` with its keys in the model's order (pinned keys were added at the end)."""
    ordered = {}
    for key in full:
        if key in data:
            value = data[key]
            both_maps = isinstance(value, dict) and isinstance(full[key], dict)
            ordered[key] = _ordered_like(value, full[key]) if both_maps else value
    return ordered


class _PresetDumper(yaml.SafeDumper):
    """SafeDumper whose strings load back unchanged."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML writes NEL (U+0085) raw in plain and single-quoted scalars, where YAML reads it as a line
    # break (folded to a space); double quotes escape it as \N.
    style = '"' if "\x85" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_PresetDumper.add_representer(str, _represent_str)


def save(spec: ClusterSpec, path: Path | str) -> Path:
    """Write the preset atomically (mode 0600: it may name internal hosts)."""
    path = Path(path).expanduser()
    return atomic_write(path, dump(spec, path.name))


def _describe(error: Any, source: str, root: yaml.Node | None) -> tuple[int, str]:
    loc = tuple(error.get("loc", ()))
    if "input" in error:  # the message quotes the bad value: keep it short and printable
        error = {**error, "input": _Shown(error["input"])}
    message = describe_error(error)
    if len(message) > MESSAGE_CHARS:  # validators quote the value they refuse, whatever its length
        message = f"{message[:MESSAGE_CHARS]}… ({len(message):,} characters)"
    return _located(loc, format_loc(loc) or "(top level)", message, source, root)


def _describe_field(key: str, reason: str, source: str, root: yaml.Node | None) -> tuple[int, str]:
    """A problem named by its key path (`kubespray.extra_vars.x`, `hosts[2].roles`, `hosts[].roles`)."""
    return _located(_loc_of(key), key, reason, source, root)


def _located(
    loc: tuple[Any, ...], key: str, message: str, source: str, root: yaml.Node | None
) -> tuple[int, str]:
    line = _line_of(root, loc)
    where = f"{source}:{line}" if line else source
    return line or 0, f"{where}: {key}: {message}"


_KEY_PART = re.compile(r"([^.\[\]]+)|\[(\d*)\]")


def _loc_of(key: str) -> tuple[Any, ...]:
    """`hosts[2].roles` → ("hosts", 2, "roles"); `hosts[].roles` (every host) → ("hosts",)."""
    loc: list[Any] = []
    for name, index in _KEY_PART.findall(key):
        if name:
            loc.append(name)
        elif index:
            loc.append(int(index))
        else:
            break  # `[]`: the whole list
    return tuple(loc)


SHOWN_CHARS = 60
MESSAGE_CHARS = 400


class _Shown:
    """A bad value as an error message quotes it: a 1 MB string or a 5,000-digit number is cut short
    (Python refuses to print an int of more than 4,300 digits at all)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        value = self.value
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
            return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
        if isinstance(value, str) and len(value) > SHOWN_CHARS:
            return f"{value[:SHOWN_CHARS]!r}… ({len(value):,} characters)"
        if isinstance(value, (str, int, float, bool)) or value is None:
            return repr(value)
        count = len(value) if isinstance(value, (list, dict, tuple)) else 0
        plural = "" if count == 1 else "s"
        text = repr(value) if _small(value) else f"a {type(value).__name__} of {count:,} item{plural}"
        return text if len(text) <= 2 * SHOWN_CHARS else text[: 2 * SHOWN_CHARS] + "…"


def _small(value: Any) -> bool:
    """Whether repr(value) is cheap and safe: a short container of short scalars."""
    if not isinstance(value, (list, dict, tuple)):
        return True
    items = list(value.items()) if isinstance(value, dict) else list(value)
    if len(items) > 10:
        return False
    flat = [part for item in items for part in (item if isinstance(value, dict) else (item,))]
    return all(
        (isinstance(part, (str, float, bool, type(None))) and len(str(part)) <= SHOWN_CHARS)
        or (isinstance(part, int) and part.bit_length() <= 64)
        for part in flat
    )


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node along `loc` (best effort)."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            match = next(
                ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
    else:
        # A list item is where it starts; a key (even of a whole block such as `hosts:`) is its own line.
        if node is not None and loc and isinstance(loc[-1], int):
            line = node.start_mark.line + 1
    return line
