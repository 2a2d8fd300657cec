"""The same failure or finding on many hosts, said once with the hosts it hit.

A package mirror out of reach fails the same task on every host: the run's end and the dashboard list
it once, "lab1, lab2, lab4", instead of once per host.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from kwizard.engine.state import Failure, Finding

T = TypeVar("T", Failure, Finding)


@dataclass(frozen=True, slots=True)
class OnHosts(Generic[T]):
    """One failure or finding (the first seen) and every host it was seen on, in name order."""

    item: T
    hosts: tuple[str, ...]

    @property
    def where(self) -> str:
        return ", ".join(self.hosts)


def _grouped(items: Iterable[T]) -> list[OnHosts[T]]:
    groups: dict[Hashable, tuple[T, set[str]]] = {}
    for item in items:
        hosts = groups.setdefault(_key(item), (item, set()))[1]
        if item.host:
            hosts.add(item.host)
    return [OnHosts(first, tuple(sorted(hosts))) for first, hosts in groups.values()]


def _key(item: Failure | Finding) -> Hashable:
    if isinstance(item, Finding):
        return ("finding", item.phase, item.id, item.fix)
    return ("failure", item.phase, item.kind, item.task, item.message)


def failures_by_cause(failures: Iterable[Failure]) -> list[OnHosts[Failure]]:
    """Failures of the same task with the same message, once each, in the order first seen."""
    return _grouped(failures)


def findings_by_cause(findings: Iterable[Finding]) -> list[OnHosts[Finding]]:
    """Findings with the same rule and fix, once each, in the order first seen."""
    return _grouped(findings)
