"""Typed role lists: aliases, separators, repeats and unknown words."""

from __future__ import annotations

import pytest

from kwizard.errors import InputError
from kwizard.roles import parse_roles
from kwizard.spec import Host


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cp,etcd", ["control_plane", "etcd"]),
        ("control_plane etcd", ["control_plane", "etcd"]),
        ("cp, master", ["control_plane"]),  # two aliases of one role
        ("worker, lb, loadbalancer", ["worker", "loadbalancer"]),
        ("Node worker NODE", ["worker"]),
        ("", []),
    ],
)
def test_parse_roles_names_each_role_once(text: str, expected: list[str]) -> None:
    roles = parse_roles(text)
    assert roles == expected
    # What the parser returns is always a valid role list for a host.
    assert set(Host(name="a", address="10.0.0.1", roles=roles).roles) == set(expected)


def test_parse_roles_rejects_an_unknown_word_with_the_choices() -> None:
    with pytest.raises(InputError) as caught:
        parse_roles("cp chef")
    assert caught.value.title == "Unknown role"
    assert "'chef' is not a role" in caught.value.problem
    assert "control_plane" in caught.value.fix
