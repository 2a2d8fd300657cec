"""The one YAML reader for user files: parsed once, duplicate keys, alias cycles and bombs refused."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kwizard import preset as presets
from kwizard import yamltext
from kwizard.errors import EXIT_BAD_INPUT, InputError, PresetError
from kwizard.spec import ClusterSpec


def _refusal(text: str) -> PresetError:
    with pytest.raises(PresetError) as caught:
        presets.parse(text, "p.yaml")
    assert caught.value.exit_code == EXIT_BAD_INPUT and caught.value.fix
    return caught.value


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["version: 1", "name: demo", "a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_once_with_its_line() -> None:
    text = alias_bomb()
    assert len(text) < 600
    started = time.monotonic()
    error = _refusal(text)
    assert time.monotonic() - started < 10.0  # a hang guard: the secret-key walk expanded 387 million values
    assert error.title == "Too many YAML aliases"
    assert error.problem.startswith("p.yaml:")


def test_self_referencing_alias_is_refused_not_a_recursion_error() -> None:
    error = _refusal("version: 1\nname: demo\nloop: &l [*l]\n")
    assert error.title == "YAML alias refers to itself"
    assert error.problem.startswith("p.yaml:3:")
    error = _refusal("version: 1\nname: demo\nssh: &s {user: root, again: {deeper: *s}}\n")
    assert error.title == "YAML alias refers to itself"


def test_aliases_nesting_deep_values_are_refused() -> None:
    # Few values, but each alias puts the previous deep value one more level down.
    lines = ["version: 1", "name: demo", "d0: &d0 " + "[" * 60 + "]" * 60]
    for level in range(1, 20):
        lines.append(f"d{level}: &d{level} " + "[" * 60 + f"*d{level - 1}" + "]" * 60)
    assert _refusal("\n".join(lines)).title == "YAML nested too deeply"


def test_ordinary_aliases_are_accepted() -> None:
    hosts = "\n".join(f"  - {{name: n{i}, address: 10.0.0.{i + 1}, roles: *roles}}" for i in range(3, 200))
    text = (
        "version: 1\nname: demo\nx-roles: &roles [worker]\nhosts:\n"
        "  - {name: n0, address: 10.0.0.200, roles: [control_plane, etcd]}\n" + hosts + "\n"
    )
    document = yamltext.parse(text, "p.yaml", "Bad", "Fix it.")
    assert len(document.data["hosts"]) == 198


def test_duplicate_keys_name_both_lines() -> None:
    error = _refusal("version: 1\nname: demo\nssh:\n  user: root\n  port: 22\n  user: admin\n")
    assert error.title == "Duplicate key"
    assert "p.yaml:6:" in error.problem and "'user'" in error.problem and "line 4" in error.problem
    flow = _refusal("version: 1\nname: demo\nssh: {user: a, user: b}\n")
    assert "p.yaml:3:" in flow.problem and "first at line 3" in flow.problem


def test_merge_keys_and_equal_values_of_other_types_are_not_duplicates() -> None:
    text = "base: &b {user: root, port: 22}\nssh:\n  <<: *b\n  user: admin\nkeys: {1: a, '1': b}\n"
    data = yamltext.load(text, "p.yaml", "Bad", "Fix it.")
    assert data["ssh"] == {"user": "admin", "port": 22}
    assert data["keys"] == {1: "a", "1": "b"}


def test_nesting_is_bounded_without_recursion_errors() -> None:
    deep = "version: 1\nname: demo\nkubespray:\n  extra_vars:\n    v: " + "[" * 500 + "]" * 500 + "\n"
    assert _refusal(deep).title == "YAML nested too deeply"
    fine = "version: 1\nname: demo\nkubespray:\n  extra_vars:\n    v: " + "[" * 50 + "]" * 50 + "\n"
    assert isinstance(presets.parse(fine), ClusterSpec)


def test_other_callers_get_their_own_error_class() -> None:
    with pytest.raises(InputError, match="Duplicate key"):
        yamltext.load("a: 1\na: 2\n", "k.yaml", "Bad kubeconfig", "Fix it.")
    with pytest.raises(InputError, match="Bad kubeconfig"):
        yamltext.load("a: [1\n", "k.yaml", "Bad kubeconfig", "Fix it.")


def test_twenty_thousand_hosts_are_composed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The text is parsed once (it was composed and loaded twice); bench/preset prints the time."""
    hosts = "\n".join(
        f"  - {{name: n{i}, address: 10.{i // 65536}.{i // 256 % 256}.{i % 256}, roles: [worker]}}"
        for i in range(1, 20_000)
    )
    text = "version: 1\nname: big\nhosts:\n  - {name: n0, address: 10.9.9.9, roles: [control_plane, etcd]}\n"
    composed: list[int] = []
    original = yamltext._Loader.get_single_node
    monkeypatch.setattr(
        yamltext._Loader, "get_single_node", lambda self: composed.append(1) or original(self)
    )
    monkeypatch.setattr(yaml, "safe_load", lambda *a, **k: pytest.fail("a second parse"))
    monkeypatch.setattr(yaml, "compose", lambda *a, **k: pytest.fail("a second parse"))
    spec = presets.parse(text + hosts + "\n", "big.yaml")
    assert len(spec.hosts) == 20_000
    assert composed == [1]


def test_line_numbers_survive_the_single_parse() -> None:
    error = _refusal("version: 1\nname: demo\nhosts:\n  - name: n1\n    address: 10.0.0.300\n")
    assert "p.yaml:5: hosts[0].address" in error.problem


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=40))
def test_a_saved_preset_loads_back_equal(description: str) -> None:
    spec = ClusterSpec(name="demo", description=description)
    assert presets.parse(presets.dump(spec)) == spec


@pytest.mark.parametrize("description", ["first\x85second", "end\x85", "\x85", "a \u2028 b"])
def test_next_line_character_survives_a_save(description: str) -> None:
    spec = ClusterSpec(name="demo", description=description)
    assert presets.parse(presets.dump(spec)).description == description
