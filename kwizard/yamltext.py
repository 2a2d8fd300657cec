"""Reading YAML a user wrote (presets, profiles, kubeconfigs): a syntax error names the file and line.

The text is parsed once (with libyaml's C parser when PyYAML has it) into a node tree that keeps line
numbers, checked, then turned into Python data. The check refuses what PyYAML would silently accept or
choke on later: a key given twice (PyYAML keeps the last one), an alias inside the node it refers to
(a cycle: every walk over the data recurses forever), aliases that multiply a few hundred bytes into
millions of values (an "alias bomb": every walk over the data takes minutes), and absurd nesting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from kwizard.errors import InputError

# libyaml refuses nesting past 1000 levels; the pure-Python parser has no such limit, and every recursive
# walk over the data (pydantic included) would hit Python's recursion limit long before that.
MAX_DEPTH = 100
# Values that aliases may add on top of those written out. Real presets share a role list or a few
# settings (tens of values); a bomb of 9 levels × 9 aliases adds 387 million.
MAX_ALIAS_EXPANSION = 10_000

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Document:
    """Parsed YAML: the Python data and the node tree it came from (for line numbers)."""

    data: Any
    root: yaml.Node | None


def error_location(exc: yaml.YAMLError, source: str) -> tuple[str, str]:
    """`(where, problem)` of a YAML error: `source:line:column` (1-based) and the parser's words."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return where, problem


def parse(text: str, source: str, title: str, fix: str, error: type[InputError] = InputError) -> Document:
    """Parse `text` once into data plus nodes; every failure is `error` naming `source` and the line."""
    try:
        loader = _Loader(text)
    except (ValueError, yaml.YAMLError) as exc:  # e.g. lone surrogates, which no YAML stream may hold
        raise error(title, f"{source}: {exc}", "Save the file as plain UTF-8 YAML.") from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError as exc:
            where, problem = error_location(exc, source)
            raise error(title, f"{where}: {problem}", fix) from None
        except RecursionError:  # the pure-Python composer on deep nesting
            raise _too_deep(source, None, error) from None
        if root is None:
            return Document(None, None)
        check_nodes(root, source, error)
        try:
            data = loader.construct_document(root)
        except yaml.YAMLError as exc:  # e.g. a bad !!binary, a timestamp out of range, an unknown tag
            where, problem = error_location(exc, source)
            raise error(title, f"{where}: {problem}", fix) from None
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a non-scalar merged or used as a key
            raise error(title, f"{source}: {exc}", fix) from None
        return Document(data, root)
    finally:
        loader.dispose()


def load(text: str, source: str, title: str, fix: str, error: type[InputError] = InputError) -> Any:
    """The data of `text` (see `parse`)."""
    return parse(text, source, title, fix, error).data


def check_nodes(root: yaml.Node, source: str, error: type[InputError] = InputError) -> None:
    """Refuse duplicate keys, alias cycles, alias bombs and deep nesting in a composed node tree.

    Iterative (no recursion, whatever the depth) and linear in the number of distinct nodes: the size a
    node stands for, aliases expanded, is computed once per node and reused wherever it is aliased.
    """
    expanded: dict[int, int] = {}  # id(node) → values it stands for, aliases expanded
    height: dict[int, int] = {}  # id(node) → nesting levels below it, aliases expanded
    distinct = 0
    on_path: set[int] = set()
    # The path from the root: each node with its children and how many of them were visited.
    stack: list[tuple[yaml.Node, list[yaml.Node], int]] = []

    def enter(node: yaml.Node) -> None:
        nonlocal distinct
        if id(node) in on_path:
            raise error(
                "YAML alias refers to itself",
                f"{source}:{node.start_mark.line + 1}: the anchor here is used inside its own value, "
                "so the value never ends",
                "Remove that alias (*name) or write the value out.",
            )
        if id(node) in expanded:
            return  # an alias of a node already checked: its size is known
        if len(stack) >= MAX_DEPTH:  # bounds the stack before the heights are known
            raise _too_deep(source, node, error)
        distinct += 1
        if isinstance(node, yaml.MappingNode):
            _check_duplicate_keys(node, source, error)
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            expanded[id(node)] = height[id(node)] = 1
            return
        on_path.add(id(node))
        stack.append((node, children, 0))

    enter(root)
    while stack:
        node, children, visited = stack[-1]
        if visited < len(children):
            stack[-1] = (node, children, visited + 1)
            enter(children[visited])
            continue
        stack.pop()
        on_path.discard(id(node))
        size = expanded[id(node)] = 1 + sum(expanded[id(child)] for child in children)
        # Aliases can nest a deep value inside another one: the depth that counts is the expanded one.
        height[id(node)] = 1 + max((height[id(child)] for child in children), default=0)
        if height[id(node)] > MAX_DEPTH:
            raise _too_deep(source, node, error)
        if size - distinct > MAX_ALIAS_EXPANSION:
            raise error(
                "Too many YAML aliases",
                f"{source}:{node.start_mark.line + 1}: aliases (*name) expand this value to {size:,} "
                f"values, more than {MAX_ALIAS_EXPANSION:,} beyond what the file writes out",
                "Write the values out, or use fewer aliases of aliases.",
            )


def _check_duplicate_keys(node: yaml.MappingNode, source: str, error: type[InputError]) -> None:
    # Keys compare as written (tag and text): `1` and `"1"` differ, as they do once constructed.
    seen: dict[tuple[str, str], int] = {}
    for key, _value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
            continue
        line = key.start_mark.line + 1
        first = seen.get((key.tag, key.value))
        if first is None:
            seen[(key.tag, key.value)] = line
        else:
            shown = key.value if len(key.value) <= 60 else key.value[:57] + "..."
            raise error(
                "Duplicate key",
                f"{source}:{line}: {shown!r} is given again (first at line {first}); YAML would silently "
                "keep only the last one",
                f"Keep one of the two: delete line {first} or line {line}.",
            )


def _too_deep(source: str, node: yaml.Node | None, error: type[InputError]) -> InputError:
    where = f"{source}:{node.start_mark.line + 1}" if node is not None else source
    return error(
        "YAML nested too deeply",
        f"{where}: values are nested more than {MAX_DEPTH} levels deep",
        "Flatten the structure; no kwizard setting nests that deep.",
    )
