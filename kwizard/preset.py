"""Presets: a ClusterSpec saved as readable YAML; load errors name the file, line, key and fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kwizard import yamltext
from kwizard.errors import PresetError
from kwizard.fsutil import atomic_write
from kwizard.spec import SPEC_VERSION, ClusterSpec, describe_error, format_loc, secret_looking_keys

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


def parse(text: str, source: str = "<preset>") -> ClusterSpec:
    """Parse preset text into a validated ClusterSpec; every failure is a PresetError."""
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
    try:
        return ClusterSpec.model_validate(data)
    except ValidationError as exc:
        raise PresetError(
            "Invalid preset",
            "\n".join(_describe(err, source, root) for err in exc.errors()),
            "Correct the values above; `kwizard --help` and the shipped presets show valid forms.",
        ) from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise PresetError("Invalid preset", f"{source}: {exc}", "Correct the preset.") from None


def load(path: Path | str) -> ClusterSpec:
    """Read and validate a preset file."""
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
    return parse(text, str(path))


def dump(spec: ClusterSpec, file_hint: str = "preset.yaml") -> str:
    """The YAML text of a spec: header comment, then only non-default settings plus the essentials."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    data = {"version": SPEC_VERSION, "name": spec.name, **data}
    body = yaml.dump(
        data, Dumper=_PresetDumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
    return HEADER.format(file=file_hint) + body


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


def _describe(error: Any, source: str, root: yaml.Node | None) -> str:
    loc = tuple(error.get("loc", ()))
    line = _line_of(root, loc)
    where = f"{source}:{line}" if line else source
    if "input" in error:  # the message quotes the bad value: keep it short and printable
        error = {**error, "input": _Shown(error["input"])}
    message = describe_error(error)
    if len(message) > MESSAGE_CHARS:  # validators quote the value they refuse, whatever its length
        message = f"{message[:MESSAGE_CHARS]}… ({len(message):,} characters)"
    return f"{where}: {format_loc(loc) or '(top level)'}: {message}"


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
        if node is not None:
            line = node.start_mark.line + 1
    return line
