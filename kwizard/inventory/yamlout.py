"""A small, fast YAML writer for inventory data (dicts, lists, strings, numbers, booleans, null).

PyYAML's representer is pure Python and took most of the time of a 1000-host inventory. This writer
emits block-style YAML directly; a string is written plain only when YAML would read it back as the same
string (PyYAML's own resolver decides, with the YAML 1.1 rules Ansible's loader uses), otherwise quoted
as a JSON string, which is valid YAML. Anything else falls back to PyYAML.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

import yaml

_PLAIN = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./@%=+~, :-]*$")
_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()


class _Unsupported(Exception):
    pass


def dump(data: dict[str, Any]) -> str:
    """`data` as block-style YAML (no document marker)."""
    try:
        lines: list[str] = []
        _mapping(data, 0, lines)
        return "".join(lines)
    except _Unsupported:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text: str = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=4096)
        return text


def _mapping(data: dict[Any, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, value in data.items():
        if not isinstance(key, str):
            raise _Unsupported
        head = f"{pad}{_string(key)}:"
        if isinstance(value, dict) and value:
            lines.append(head + "\n")
            _mapping(value, indent + 2, lines)
        elif isinstance(value, list) and value:
            lines.append(head + "\n")
            _sequence(value, indent + 2, lines)
        else:
            lines.append(f"{head} {_scalar(value)}\n")


def _sequence(items: list[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item:
            nested: list[str] = []
            _mapping(item, indent + 2, nested)
            nested[0] = f"{pad}- {nested[0][indent + 2 :]}"  # first key on the dash line
            lines.extend(nested)
        elif isinstance(item, list) and item:
            lines.append(f"{pad}-\n")
            _sequence(item, indent + 2, lines)
        else:
            lines.append(f"{pad}- {_scalar(item)}\n")


def _scalar(value: Any) -> str:
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
        return _string(value)
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
