"""kwizard's fast YAML writer reads back (with PyYAML, as Ansible does) exactly as the data it was given."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kwizard.yamlout import dump

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(
        ["yes", "No", "on", "~", "null", "1.35.4", "1:20", "0x1f", "10.0.0.1", "-o x", "a: b", "a #b",
         "%h:%p", "@x", "*x", "&x", "!x", "'q'", '"q"', "x:", " lead", "trail ", "", "=", "<<", "[a]", "{a}",
         "1e3", ".5", "0o17", "2024-01-01", "\u2028", "\x7f", "é", "😀", 1e16, 1e-7, 5e-324, -0.0]
    ),
)  # fmt: skip
_keys = st.one_of(st.text(max_size=20), st.sampled_from(["yes", "1.5", "topology.kubernetes.io/zone", "<<"]))
_values = st.recursive(
    _scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_round_trip(data: dict[str, Any]) -> None:
    assert yaml.safe_load(dump(data) or "{}") == data


def test_plain_where_it_is_safe_and_quoted_where_yaml_would_change_it() -> None:
    text = dump({"kube_version": "1.35.4", "ansible_host": "10.0.0.1", "on": "yes", "port": 22, "labels": {}})
    assert text == 'kube_version: 1.35.4\nansible_host: 10.0.0.1\n"on": "yes"\nport: 22\nlabels: {}\n'


def test_nested_blocks() -> None:
    data = {"all": {"hosts": {"a": {"x": [1, {"k": "v", "l": [True]}], "y": []}}}}
    assert dump(data) == (
        "all:\n  hosts:\n    a:\n      x:\n        - 1\n        - k: v\n          l:\n"
        "            - true\n      y: []\n"
    )
