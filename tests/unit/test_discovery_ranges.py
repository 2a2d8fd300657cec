"""Typed host lists and Ansible-style ranges."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kwizard.discovery.ranges import MAX_EXPANSION, MAX_HOSTS, RangeError, expand, parse_host_list


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("10.0.0.5", ["10.0.0.5"]),
        ("10.0.0.[10:12]", ["10.0.0.10", "10.0.0.11", "10.0.0.12"]),
        ("node[01:03].example.com", ["node01.example.com", "node02.example.com", "node03.example.com"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("h[0:10:5]", ["h0", "h5", "h10"]),
        ("r[1:2]-n[1:2]", ["r1-n1", "r1-n2", "r2-n1", "r2-n2"]),
        ("x[:2]", ["x0", "x1", "x2"]),
        ("n[8:11]", ["n8", "n9", "n10", "n11"]),
    ],
)
def test_expand(pattern: str, expected: list[str]) -> None:
    assert expand(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("node[1:3", "unbalanced"),
        ("node1:3]", "unbalanced"),
        ("n[[1:2]:3]", "nested"),
        ("n[3:1]", "backwards"),
        ("n[1:a]", "two numbers"),
        ("n[01:3]", "same length"),
        ("n[1:3:0]", "step"),
        ("n[1]", "[start:end]"),
        ("n[1:]", "no end"),
        ("n[1:100000]", "limit"),
        ("n[1:10000000000000]", "limit"),  # refused before building a list that size
    ],
)
def test_expand_rejects_malformed_ranges(pattern: str, message: str) -> None:
    with pytest.raises(RangeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        expand(pattern)


@given(st.integers(0, 500), st.integers(0, 500), st.integers(1, 7))
def test_numeric_range_count_and_bounds(a: int, b: int, step: int) -> None:
    low, high = min(a, b), max(a, b)
    names = expand(f"h[{low}:{high}:{step}]")
    assert len(names) == len(range(low, high + 1, step)) <= MAX_EXPANSION
    assert names[0] == f"h{low}"
    assert all(low <= int(n[1:]) <= high for n in names)


def test_host_list_tokens_users_ports_names() -> None:
    found = parse_host_list("10.0.0.[1:2], admin@node[01:02].x.com:2222\ncp1=10.1.1.1 ; fe80::1")
    assert [(c.address, c.user, c.port, c.name) for c in found.candidates] == [
        ("10.0.0.1", None, None, None),
        ("10.0.0.2", None, None, None),
        ("node01.x.com", "admin", 2222, None),
        ("node02.x.com", "admin", 2222, None),
        ("10.1.1.1", None, None, "cp1"),
        ("fe80::1", None, None, None),
    ]
    assert found.problems == ()


def test_host_list_names_range_pairs_with_addresses() -> None:
    found = parse_host_list("cp[1:3]=10.0.0.[11:13]")
    assert [(c.name, c.address) for c in found.candidates] == [
        ("cp1", "10.0.0.11"),
        ("cp2", "10.0.0.12"),
        ("cp3", "10.0.0.13"),
    ]
    mismatch = parse_host_list("cp[1:2]=10.0.0.[11:13]")
    assert mismatch.candidates == ()
    assert "2 names for 3 addresses" in mismatch.problems[0].problem


def test_bad_tokens_become_problems_and_the_rest_continue() -> None:
    found = parse_host_list("10.0.0.1 10.0.0.300 node[1:3 u@h:70000 Bad$User@h 10.0.0.2")
    assert [c.address for c in found.candidates] == ["10.0.0.1", "10.0.0.2"]
    subjects = [p.subject for p in found.problems]
    assert subjects == ["10.0.0.300", "node[1:3", "u@h:70000", "Bad$User@h"]
    assert all(p.fix for p in found.problems)
    assert "not a valid IP address" in found.problems[0].problem


def test_quick_entry_one_host_per_line_with_roles() -> None:
    found = parse_host_list("node1 10.0.0.11 cp,etcd\nn2 10.0.0.12\nweb1 web2\n10.0.0.1 10.0.0.2")
    assert [(c.name, c.address, c.roles) for c in found.candidates] == [
        ("node1", "10.0.0.11", ("control_plane", "etcd")),
        ("n2", "10.0.0.12", ()),
        (None, "web1", ()),  # two bare names are two hosts, not a name and an address
        (None, "web2", ()),
        (None, "10.0.0.1", ()),
        (None, "10.0.0.2", ()),
    ]
    bad = parse_host_list("node1 10.0.0.11 chef")
    assert bad.candidates == () and bad.problems[0].problem == "'chef' is not a role"
    assert "NAME ADDRESS [ROLES]" in bad.problems[0].fix


def test_the_whole_list_is_capped_before_it_is_expanded() -> None:
    # Ten patterns of 4096 each used to expand to 40,960 hosts and freeze the hosts table.
    text = " ".join(f"10.{i}.[0:15].[0:255]" for i in range(10))
    started = time.monotonic()
    found = parse_host_list(text)
    assert time.monotonic() - started < 2.0
    assert len(found.candidates) == MAX_HOSTS
    (problem,) = found.problems
    assert problem.subject == "10.1.[0:15].[0:255]"
    assert f"more than {MAX_HOSTS} hosts" in problem.problem and problem.fix


def test_absurd_range_numbers_are_problems_not_crashes() -> None:
    found = parse_host_list("10.0.0.[1:" + "9" * 5000 + "] 10.0.0.[1:99999] 10.0.0.7")
    assert [c.address for c in found.candidates] == ["10.0.0.7"]
    assert "far too large" in found.problems[0].problem
    assert "expands to 99999 hosts" in found.problems[1].problem


@pytest.mark.parametrize(
    ("text", "addresses"),
    [("::1", ["::1"]), ("a b", ["a", "b"]), ("$(reboot)", []), ("x" * 10_000, []), ("`id`;ls", ["ls"])],
)
def test_hostile_host_lists_are_parsed_or_refused(text: str, addresses: list[str]) -> None:
    found = parse_host_list(text)
    assert [c.address for c in found.candidates] == addresses
    assert all(p.problem and p.fix for p in found.problems)
    assert len(found.problems) == (1 if text != "a b" and text != "::1" else 0)
