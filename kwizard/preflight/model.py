"""Preflight results: one CheckResult per (host, check), gathered into a PreflightReport."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from kwizard.preflight.facts import HostFacts

Status = Literal["pass", "warn", "fail"]
STATUS_ORDER: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2}
CLUSTER = "cluster"  # the `host` of checks about the hosts together (spread, counts)
# How a check's status reads in a sentence, in the wizard and in the run's events alike.
STATUS_WORDS = {"pass": "passed", "warn": "warning", "fail": "failed"}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one host: what was seen, what is needed, why, and how to fix it."""

    check: str  # stable id, used by --ignore-preflight and spec.preflight.acknowledged
    host: str
    status: Status
    observed: str
    required: str = ""
    why: str = ""
    fix: str = ""
    fix_id: str | None = None  # an automatic fix kwizard can apply (see kwizard.preflight.fixes)
    acknowledged: bool = False

    @property
    def key(self) -> str:
        """`check@host`: how one result is named in acknowledgements."""
        return f"{self.check}@{self.host}"

    @property
    def blocking(self) -> bool:
        return self.status == "fail" and not self.acknowledged

    def with_acknowledged(self, acknowledged: set[str] | frozenset[str]) -> CheckResult:
        """This result, marked acknowledged when its check id (all hosts) or `check@host` is named."""
        hit = self.check in acknowledged or self.key in acknowledged
        return replace(self, acknowledged=hit) if hit != self.acknowledged else self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HostReport:
    """The facts and results of one host; `error` is set when it could not be probed at all."""

    host: str
    facts: HostFacts | None
    results: tuple[CheckResult, ...]
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        return worst(r.status for r in self.results)

    @property
    def effective_status(self) -> Status:
        """The status that counts for going on: an acknowledged failure is only a warning."""
        return worst("warn" if r.status == "fail" and r.acknowledged else r.status for r in self.results)

    def with_acknowledged(self, acknowledged: set[str] | frozenset[str]) -> HostReport:
        return replace(self, results=tuple(r.with_acknowledged(acknowledged) for r in self.results))


@dataclass(frozen=True)
class PreflightReport:
    hosts: tuple[HostReport, ...]
    cluster: tuple[CheckResult, ...] = ()
    seconds: float = 0.0
    checks: tuple[str, ...] = field(default=())  # column order for tables

    @property
    def results(self) -> list[CheckResult]:
        return [r for h in self.hosts for r in h.results] + list(self.cluster)

    @property
    def problems(self) -> list[CheckResult]:
        return [r for r in self.results if r.status != "pass"]

    @property
    def blocking(self) -> list[CheckResult]:
        return [r for r in self.results if r.blocking]

    def result(self, host: str, check: str) -> CheckResult | None:
        return next((r for r in self.results if r.host == host and r.check == check), None)

    def facts(self, host: str) -> HostFacts | None:
        return next((h.facts for h in self.hosts if h.host == host), None)

    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "warn": 0, "fail": 0}
        for r in self.results:
            counts[r.status] += 1
        return counts

    def summary(self) -> str:
        counts = self.counts()
        text = (
            f"{len(self.hosts)} hosts in {self.seconds:.1f} s: {counts['pass']} passed, "
            f"{counts['warn']} warning{'' if counts['warn'] == 1 else 's'}, {counts['fail']} failed"
        )
        acknowledged = sum(1 for r in self.results if r.status == "fail" and r.acknowledged)
        return text + (f" ({acknowledged} acknowledged)" if acknowledged else "")

    def with_acknowledged(self, acknowledged: set[str] | frozenset[str]) -> PreflightReport:
        """Mark failures named by check id (all hosts) or by `check@host` as acknowledged."""
        return replace(
            self,
            hosts=tuple(h.with_acknowledged(acknowledged) for h in self.hosts),
            cluster=tuple(r.with_acknowledged(acknowledged) for r in self.cluster),
        )

    def merged(self, newer: PreflightReport) -> PreflightReport:
        """This report with the hosts (and cluster checks) of a partial re-run replaced."""
        fresh = {h.host: h for h in newer.hosts}
        hosts = tuple(fresh.pop(h.host, h) for h in self.hosts) + tuple(fresh.values())
        return replace(self, hosts=hosts, cluster=newer.cluster, checks=newer.checks or self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "checks": list(self.checks),
            "hosts": {
                h.host: {
                    "status": h.status,
                    "seconds": round(h.seconds, 3),
                    "facts": h.facts.to_json() if h.facts else None,
                    "results": [r.to_json() for r in h.results],
                }
                for h in self.hosts
            },
            "cluster": [r.to_json() for r in self.cluster],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PreflightReport:
        hosts = tuple(
            HostReport(
                host=name,
                facts=HostFacts.from_json(entry["facts"]) if entry.get("facts") else None,
                results=tuple(CheckResult(**r) for r in entry.get("results", ())),
                seconds=float(entry.get("seconds", 0.0)),
            )
            for name, entry in data.get("hosts", {}).items()
        )
        return cls(
            hosts=hosts,
            cluster=tuple(CheckResult(**r) for r in data.get("cluster", ())),
            seconds=float(data.get("seconds", 0.0)),
            checks=tuple(data.get("checks", ())),
        )


def worst(statuses: Any) -> Status:
    """The most severe of `statuses` ("pass" when there are none)."""
    result: Status = "pass"
    for status in statuses:
        if STATUS_ORDER[status] > STATUS_ORDER[result]:
            result = status
    return result
