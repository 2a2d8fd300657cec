"""What RunState holds about a host, a phase, a failure, a finding and a task's time: immutable values
a UI reads (the reducer in kwizard.engine.state makes new ones)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple


class HostView(NamedTuple):
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    ignored: int = 0
    task: str = ""  # the task it works on now (or its last one)
    last: str = ""  # last result: ok, changed, failed, unreachable, skipped, or a phase's own status word
    phase: str = ""

    @property
    def results(self) -> int:
        return self.ok + self.changed + self.failed + self.unreachable + self.skipped


class PhaseView(NamedTuple):
    name: str
    title: str
    status: str = "pending"  # pending, running, ok, failed, skipped, interrupted
    started: float | None = None
    ended: float | None = None
    tasks_done: int = 0  # tasks started so far in this attempt
    tasks_total: int | None = None  # expected, from --list-tasks or the previous run
    task: str = ""
    play: str = ""
    summary: str = ""
    reused: bool = False  # succeeded in an earlier attempt and was not run again

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return max(0.0, (self.ended if self.ended is not None else now) - self.started)

    def fraction(self) -> float | None:
        """Share of the phase done (0..1), when known."""
        if self.status in ("ok", "skipped") or self.reused:
            return 1.0
        if not self.tasks_total:
            return None
        return min(1.0, self.tasks_done / self.tasks_total)

    def eta(self, now: float) -> float | None:
        """Seconds left, extrapolated from the pace so far."""
        fraction = self.fraction()
        if self.status != "running" or not fraction:
            return None
        elapsed = self.elapsed(now)
        return elapsed * (1.0 - fraction) / fraction


@dataclass(frozen=True, slots=True)
class Failure:
    time: float
    phase: str
    host: str
    task: str
    action: str
    kind: str  # failed | unreachable
    message: str
    res: MappingProxyType[str, Any]
    attempt: int = 0  # the run's attempt it happened in (1 = the first run, 2 = the first resume, …)


@dataclass(frozen=True, slots=True)
class Finding:
    time: float
    phase: str
    host: str | None
    id: str
    title: str
    fix: str
    data: MappingProxyType[str, Any]
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class TaskTiming:
    phase: str
    task: str
    seconds: float
