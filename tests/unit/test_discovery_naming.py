"""Candidates → uniquely named Hosts, and the default role layout."""

from __future__ import annotations

import pytest

from kwizard.discovery.model import Candidate
from kwizard.discovery.naming import sanitize_name, to_hosts
from kwizard.discovery.ranges import parse_host_list
from kwizard.roles import default_roles
from kwizard.spec import ClusterSpec, Host, is_rfc1123


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Web_01.Prod.example.com", "web-01"),
        ("k8s-master-1", "k8s-master-1"),
        ("--x--", "x"),
        ("ÄÖÜ", None),
        ("", None),
        ("a" * 80, "a" * 63),
    ],
)
def test_sanitize_name(text: str, expected: str | None) -> None:
    assert sanitize_name(text) == expected
    if expected:
        assert is_rfc1123(expected)


def test_names_unique_lowercase_and_from_dns_labels() -> None:
    existing = [Host(name="node1", address="10.0.0.250")]
    found = parse_host_list("10.0.0.[1:2] web.example.com WEB.other.org 10.0.0.250")
    hosts, problems = to_hosts(found.candidates, existing)
    assert [(h.name, h.address) for h in hosts] == [
        ("node2", "10.0.0.1"),
        ("node3", "10.0.0.2"),
        ("web", "web.example.com"),
        ("web-2", "web.other.org"),
    ]
    assert [p.subject for p in problems] == ["10.0.0.250"]
    assert "already host 'node1'" in problems[0].problem


def test_duplicates_in_one_input_are_reported_once_each() -> None:
    hosts, problems = to_hosts(parse_host_list("a=10.0.0.1 a=10.0.0.2 10.0.0.1 Bad_Name=10.0.0.3").candidates)
    assert [h.name for h in hosts] == ["a"]
    assert [p.problem for p in problems] == [
        "duplicate address: 10.0.0.1 is already listed twice",
        "name 'a' is already used",
        "name 'Bad_Name' is not a valid host name (RFC 1123)",
    ]


def test_candidate_details_reach_the_host() -> None:
    candidate = Candidate(
        "54.1.2.3",
        name="Kube Node A",
        ip="10.0.1.5",
        az="eu-west-1a",
        instance_type="t3.large",
        source="ec2 i-1",
    )
    (host,), problems = to_hosts([candidate])
    assert problems == []
    assert (host.name, host.ip, host.az, host.instance_type) == (
        "kube-node-a",
        "10.0.1.5",
        "eu-west-1a",
        "t3.large",
    )


def test_role_hints_from_outputs_stack_etcd_on_control_plane() -> None:
    candidates = [
        Candidate("10.0.0.1", role_hints=("control_plane",), source="tf"),
        Candidate("10.0.0.2", role_hints=("worker",), source="tf"),
    ]
    hosts, _ = to_hosts(candidates)
    assert [h.roles for h in hosts] == [["control_plane", "etcd"], ["worker"]]


def _hosts(count: int, azs: list[str] | None = None) -> list[Host]:
    return [
        Host(name=f"n{i}", address=f"10.0.0.{i}", az=azs[(i - 1) % len(azs)] if azs else None)
        for i in range(1, count + 1)
    ]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, [["control_plane", "etcd", "worker", "loadbalancer"]]),
        (2, [["control_plane", "etcd"], ["worker", "loadbalancer"]]),
        (
            3,
            [["control_plane", "etcd", "worker", "loadbalancer"]] * 2 + [["control_plane", "etcd", "worker"]],
        ),
        (5, [["control_plane", "etcd"]] * 3 + [["worker", "loadbalancer"]] * 2),
        (6, [["control_plane", "etcd"]] * 3 + [["worker", "loadbalancer"]] * 2 + [["worker"]]),
    ],
)
def test_default_roles_by_count(count: int, expected: list[list[str]]) -> None:
    hosts = default_roles(_hosts(count))
    assert [h.roles for h in hosts] == expected
    ClusterSpec(name="c", hosts=hosts)  # a valid cluster: control plane present, odd etcd count


def test_default_roles_spread_over_availability_zones() -> None:
    # Instances listed AZ by AZ: a naive "first three" would put the whole control plane in one AZ.
    listed = [("a", 3), ("b", 3), ("c", 2)]
    hosts = [
        Host(name=f"{az}{i}", address=f"10.0.{n}.{i}", az=az)
        for n, (az, count) in enumerate(listed)
        for i in range(1, count + 1)
    ]
    hosts = default_roles(hosts)
    control = [h for h in hosts if h.has("control_plane")]
    assert sorted(h.az or "" for h in control) == ["a", "b", "c"]
    balancers = [h for h in hosts if h.has("loadbalancer")]
    assert not any(h.has("control_plane") for h in balancers)
    assert len({h.az for h in balancers}) == len(balancers) == 3
    ClusterSpec(name="c", hosts=hosts)


def test_explicit_roles_are_kept_and_role_less_hosts_become_workers() -> None:
    hosts = _hosts(3)
    hosts[0] = hosts[0].model_copy(update={"roles": ["control_plane", "etcd"]})
    assert [h.roles for h in default_roles(hosts)] == [["control_plane", "etcd"], ["worker"], ["worker"]]
