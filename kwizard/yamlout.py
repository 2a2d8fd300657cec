"""A small, fast YAML writer for inventory data (dicts, lists, strings, numbers, booleans, null).

PyYAML's representer is pure Python and took most of the time of a 1000-host inventory. This writer
emits block-style YAML directly; a string is written plain only when YAML would read it back as the same
string (PyYAML's own resolver decides, with the YAML 1.1 rules Ansible's loader uses), otherwise quoted
as a JSON string, which is valid YAML. Anything else falls back to PyYAML.

With `unsafe=True` (every file Ansible reads), a string is written bare only when it is made of characters
that cannot start Jinja (letters, digits and ``_./@=+~,: -``); every other string, key or value, carries
Ansible's ``!unsafe`` tag, so no value from a preset can ever be evaluated as a template. That is a rule of
the writer, not of where a value happens to land.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any

import yaml

_PLAIN = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./@%=+~, :-]*$")
# No '{' (every Jinja delimiter starts with one) and no '#' (a '#jinja2:' header can change delimiters).
_INERT = re.compile(r"^[A-Za-z0-9_./@=+~,: -]*$")
_STR_TAG = "tag:yaml.org,2002:str"
UNSAFE_TAG = "!unsafe"
_RESOLVER = yaml.resolver.Resolver()


class _Unsupported(Exception):
    pass


class _Unsafe(str):
    """A string the PyYAML fallback writes with the !unsafe tag."""


def dump(data: dict[str, Any], *, unsafe: bool = False) -> str:
    """`data` as block-style YAML (no document marker); `unsafe` tags every string that could be Jinja."""
    string = _unsafe_string if unsafe else _string
    try:
        lines: list[str] = []
        _mapping(data, 0, lines, string)
        return "".join(lines)
    except _Unsupported:
        dumper = _UnsafeDumper if unsafe else getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        tree = _mark_unsafe(data) if unsafe else data
        text: str = yaml.dump(tree, Dumper=dumper, sort_keys=False, allow_unicode=True, width=4096)
        return text


def is_inert(text: str) -> bool:
    """True when `text` cannot be read as a Jinja template, whatever the delimiters (see the module doc)."""
    return _INERT.match(text) is not None


_String = Callable[[str], str]


def _mapping(data: dict[Any, Any], indent: int, lines: list[str], string: _String) -> None:
    pad = " " * indent
    for key, value in data.items():
        if not isinstance(key, str):
            raise _Unsupported
        head = f"{pad}{string(key)}:"
        if isinstance(value, dict) and value:
            lines.append(head + "\n")
            _mapping(value, indent + 2, lines, string)
        elif isinstance(value, list) and value:
            lines.append(head + "\n")
            _sequence(value, indent + 2, lines, string)
        else:
            lines.append(f"{head} {_scalar(value, string)}\n")


def _sequence(items: list[Any], indent: int, lines: list[str], string: _String) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item:
            nested: list[str] = []
            _mapping(item, indent + 2, nested, string)
            nested[0] = f"{pad}- {nested[0][indent + 2 :]}"  # first key on the dash line
            lines.extend(nested)
        elif isinstance(item, list) and item:
            lines.append(f"{pad}-\n")
            _sequence(item, indent + 2, lines, string)
        else:
            lines.append(f"{pad}- {_scalar(item, string)}\n")


def _scalar(value: Any, string: _String) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value).lower()
        # YAML 1.1 reads '1e+16' as a string: its float syntax needs a dot (PyYAML writes it the same way).
        return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text
    if isinstance(value, str):
        return string(value)
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    raise _Unsupported


@functools.lru_cache(maxsize=8192)
def _string(text: str) -> str:
    if not text.isprintable():  # control or line-separator characters: leave the escaping to PyYAML
        raise _Unsupported
    plain = (
        _PLAIN.match(text) is not None
        and ": " not in text
        and not text.endswith((" ", ":"))
        and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG
    )
    return text if plain else json.dumps(text, ensure_ascii=False)


@functools.lru_cache(maxsize=8192)
def _unsafe_string(text: str) -> str:
    if is_inert(text):
        return _string(text)
    if not text.isprintable():
        raise _Unsupported
    return f"{UNSAFE_TAG} {json.dumps(text, ensure_ascii=False)}"


def _mark_unsafe(value: Any) -> Any:
    if isinstance(value, str):
        return value if is_inert(value) else _Unsafe(value)
    if isinstance(value, dict):
        return {_mark_unsafe(k): _mark_unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark_unsafe(item) for item in value]
    return value


class _UnsafeDumper(yaml.SafeDumper):
    """SafeDumper that writes _Unsafe strings as `!unsafe "…"` (double quotes escape control characters)."""


_UnsafeDumper.add_representer(
    _Unsafe, lambda dumper, text: dumper.represent_scalar(UNSAFE_TAG, str(text), style='"')
)


class _UnsafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that reads `!unsafe` values back as the plain strings they tag."""


_UnsafeLoader.add_constructor(UNSAFE_TAG, lambda loader, node: loader.construct_scalar(node))


def load(text: str) -> Any:
    """Read what `dump(…, unsafe=True)` wrote (kwizard's own files), tags removed."""
    return yaml.load(text, Loader=_UnsafeLoader)  # noqa: S506 - a SafeLoader subclass
