"""The state of a run as the dashboard, the headless view and the report see it: a pure reducer.

`state = state.apply(event)` returns a new RunState and never changes the old one, so a UI can hand the
same snapshot to several widgets, a test can replay recorded events, and a run's dashboard can be rebuilt
from its events file. Memory is bounded whatever the run's length: counters per host and phase, a ring of
the last log lines, the first failures, the slowest tasks and a short throughput history.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from kwizard.engine.logring import LogLine, LogRing
from kwizard.engine.views import Failure, Finding, HostView, PhaseView, TaskTiming
from kwizard.phases import PHASE_TITLES
from kwizard.protocol.events import EventKind
from kwizard.protocol.phase import Event
from kwizard.results import failure_message

MAX_FAILURES = 200
MAX_FINDINGS = 100
SLOWEST = 10
THROUGHPUT_SECONDS = 120

_RESULT_FIELD = {
    "host_ok": "ok",
    "host_changed": "changed",
    "host_failed": "failed",
    "host_unreachable": "unreachable",
    "host_skipped": "skipped",
}
# Which results appear in the log pane: skipped results are the bulk of Kubespray's output and say little.
_LOGGED_RESULTS = {"host_ok", "host_changed", "host_failed", "host_unreachable"}
_EMPTY: MappingProxyType[str, Any] = MappingProxyType({})


class RunState(NamedTuple):
    run_id: str = ""
    cluster: str = ""
    status: str = "pending"  # running, ok, failed, interrupted
    order: tuple[str, ...] = ()
    phases: MappingProxyType[str, PhaseView] = MappingProxyType({})
    hosts: MappingProxyType[str, HostView] = MappingProxyType({})
    log: LogRing = LogRing()
    failures: tuple[Failure, ...] = ()  # of every attempt (the report's history)
    findings: tuple[Finding, ...] = ()
    attempt: int = 0  # run_start events seen: the attempt running now (or last)
    slowest: tuple[TaskTiming, ...] = ()
    # The task being timed: (phase, name, start time).
    open_task: tuple[str, str, float] | None = None
    throughput: tuple[int, ...] = ()  # events per second, oldest first, excluding the current second
    second: int = 0
    second_count: int = 0
    events: int = 0
    started: float | None = None
    now: float = 0.0
    # The newest ansible-runner folder announced by a phase (phase, path): its `stdout` is Ansible's
    # raw output, for what the dashboard's one-line-per-result log leaves out.
    artifacts: tuple[str, str] = ("", "")

    @property
    def live_failures(self) -> tuple[Failure, ...]:
        """The failures of the attempt running now (or last): what a resume has not fixed yet."""
        return tuple(f for f in self.failures if f.attempt == self.attempt)

    @property
    def live_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.attempt == self.attempt)

    def hosts_title(self) -> str:
        """The hosts table's title: after a resume its counters are of this attempt only."""
        return f"Hosts · attempt {self.attempt} (this resume only)" if self.attempt > 1 else "Hosts"

    # ----------------------------------------------------------------------------------------------
    def apply(self, event: Event) -> RunState:
        """The state after `event`."""
        stamp = event.time or self.now
        # Time never runs backwards for the run's clock: Ansible's forks report out of order.
        now = stamp if stamp > self.now else self.now
        changes: dict[str, Any] = {"events": self.events + 1, "now": now}
        if self.started is None and stamp:
            changes["started"] = stamp
        if int(now) == self.second or not now:
            changes["second_count"] = self.second_count + 1
        else:
            self._next_second(int(now), changes)
        handler = _HANDLERS.get(event.kind)
        if handler is not None:
            handler(self, event, changes)
        return _evolve(self, changes)

    def apply_all(self, events: Iterable[Event]) -> RunState:
        """The state after each of `events` in turn: the same as `apply` one by one, faster.

        A host's start and its ok, changed or skipped result (nine events in ten of a Kubespray run) go
        into a private copy of the hosts map and a list of new log lines, made into one new state when
        another kind of event comes or the events end; every other event goes through `apply`.
        """
        state = self
        hosts: dict[str, HostView] | None = None  # the batch's own copy, while host events come
        lines: list[LogLine] = []
        count = second_count = 0
        now = 0.0
        for event in events:
            kind, host = event.kind, event.host
            fast = host is not None and kind in _BATCHED and state.started is not None
            if fast:
                if hosts is None:  # a batch begins
                    hosts, now, second_count, count = dict(state.hosts), state.now, state.second_count, 0
                stamp = event.time or now
                moved = stamp if stamp > now else now
                fast = int(moved) == state.second or not moved  # a new second's bookkeeping is apply's
            if not fast:
                if hosts is not None:
                    state = _flush(state, hosts, lines, count, now, second_count)
                    hosts, lines = None, []
                state = state.apply(event)
                continue
            assert hosts is not None and host is not None
            now, count, second_count = moved, count + 1, second_count + 1
            old = hosts.get(host) or _NO_HOST
            if kind is EventKind.HOST_START:
                hosts[host] = _started(old, event)
                continue
            hosts[host] = _with_result(old, event, ignored=False)
            if kind in _LOGGED_RESULTS:
                lines.append(LogLine(event.time, event.phase, host, *_result_line(event, ignored=False)))
        if hosts is not None:
            state = _flush(state, hosts, lines, count, now, second_count)
        return state

    # ----------------------------------------------------------------------------------------------
    def phase(self, name: str) -> PhaseView:
        return self.phases.get(name) or PhaseView(name, PHASE_TITLES.get(name, name))

    def overall_fraction(self) -> float:
        """Share of the selected phases done; a running phase counts by its own progress."""
        if not self.order:
            return 0.0
        done = 0.0
        for name in self.order:
            view = self.phase(name)
            if view.status in ("ok", "skipped"):
                done += 1.0
            elif view.status == "running":
                done += view.fraction() or 0.0
        return done / len(self.order)

    def elapsed(self) -> float:
        return 0.0 if self.started is None else max(0.0, self.now - self.started)

    def host_counts(self) -> dict[str, int]:
        """How many hosts are in each condition: failed, unreachable, changed, ok."""
        counts = {"failed": 0, "unreachable": 0, "ok": 0}
        for host in self.hosts.values():
            if host.unreachable:
                counts["unreachable"] += 1
            elif host.failed:
                counts["failed"] += 1
            else:
                counts["ok"] += 1
        return counts

    # ----------------------------------------------------------------------------------------------
    def _next_second(self, second: int, changes: dict[str, Any]) -> None:
        """The clock entered a new second: the finished one's count joins the throughput history."""
        history = self.throughput
        if self.second:
            gap = min(second - self.second - 1, THROUGHPUT_SECONDS)
            history = (*history, self.second_count, *([0] * gap))[-THROUGHPUT_SECONDS:]
        changes.update(throughput=history, second=second, second_count=1)

    def _with_phase(self, changes: dict[str, Any], view: PhaseView) -> None:
        phases = changes.get("phases", self.phases).copy()
        phases[view.name] = view
        changes["phases"] = MappingProxyType(phases)
        if view.name not in self.order and view.name not in changes.get("order", ()):
            changes["order"] = (*changes.get("order", self.order), view.name)

    def _with_host(self, changes: dict[str, Any], name: str, view: HostView) -> None:
        hosts = self.hosts.copy()
        hosts[name] = view
        changes["hosts"] = MappingProxyType(hosts)

    def _log(self, changes: dict[str, Any], event: Event, level: str, text: str) -> None:
        line = LogLine(event.time, event.phase, event.host, level, text)
        changes["log"] = changes.get("log", self.log).append(line)

    def _close_task(self, changes: dict[str, Any], until: float) -> None:
        if self.open_task is None:
            return
        phase, task, begun = self.open_task
        timing = TaskTiming(phase, task, round(max(0.0, until - begun), 3))
        changes["open_task"] = None
        if len(self.slowest) < SLOWEST or timing.seconds > self.slowest[-1].seconds:
            ranked = sorted((*self.slowest, timing), key=lambda t: t.seconds, reverse=True)
            changes["slowest"] = tuple(ranked[:SLOWEST])


_T = TypeVar("_T", RunState, HostView, PhaseView)
_FIELD_INDEX = {
    cls: {name: i for i, name in enumerate(cls._fields)} for cls in (RunState, HostView, PhaseView)
}


def _evolve(obj: _T, changes: dict[str, Any]) -> _T:
    """A copy of the named tuple `obj` with `changes` applied (6x faster than `_replace`).

    The reducer runs once per Ansible event (10⁵ to 10⁶ per run), so this is its hot path: a change
    touches a few of RunState's fields, so only those are looked up.
    """
    values = list(obj)
    index = _FIELD_INDEX[type(obj)]
    for key, value in changes.items():
        values[index[key]] = value
    return tuple.__new__(type(obj), values)


def _evolve_kw(obj: _T, **changes: Any) -> _T:
    return _evolve(obj, changes)


# --------------------------------------------------------------------------------------------------
# One function per event kind. Each reads the old state and writes into `changes` (a fresh dict).


def _run_start(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    data = event.data
    changes["attempt"] = state.attempt + 1
    changes.update(run_id=data.get("run_id", state.run_id), cluster=data.get("cluster", state.cluster))
    changes["status"] = "running"
    order = tuple(data.get("phases", state.order))
    titles = data.get("titles", {})
    totals = data.get("tasks_total", {})
    phases = dict(state.phases)
    for name in order:
        old = phases.get(name)
        title = titles.get(name) or PHASE_TITLES.get(name, name)
        if old is None or old.status not in ("ok", "skipped"):
            phases[name] = PhaseView(name, title, tasks_total=totals.get(name))
    changes.update(order=order, phases=MappingProxyType(phases))
    if state.attempt:
        # A resume: the host counters start again, like the live failures, so a table never shows an
        # earlier attempt's "failed 1" next to "No failures" (the report keeps those failures as history).
        changes["hosts"] = MappingProxyType({name: HostView() for name in state.hosts})


def _run_end(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    state._close_task(changes, event.time)
    changes["status"] = event.data.get("status", "ok")


def _phase_start(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    state._close_task(changes, event.time)
    old = state.phase(event.phase)
    view = PhaseView(
        event.phase,
        event.data.get("title") or old.title,
        status="running",
        started=event.time,
        tasks_total=event.data.get("tasks_total", old.tasks_total),
    )
    state._with_phase(changes, view)
    note = event.data.get("reason", "")
    state._log(changes, event, "info", f"▶ {view.title}" + (f" ({note})" if note else ""))


def _phase_end(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    state._close_task(changes, event.time)
    old = state.phase(event.phase)
    status = event.data.get("status", "ok")
    reused = bool(event.data.get("reused"))
    view = _evolve_kw(
        old,
        status=status,
        ended=event.time if not reused else old.ended,
        summary=event.data.get("summary", ""),
        reused=reused,
        task="",
    )
    state._with_phase(changes, view)
    level = {"ok": "ok", "skipped": "info", "interrupted": "warning"}.get(status, "error")
    text = f"■ {view.title}: {status}" + (f" — {view.summary}" if view.summary else "")
    state._log(changes, event, level, text)


def _task_total(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    view = state.phase(event.phase)
    if view.tasks_total is None:  # the journal's count of a previous run is better than --list-tasks
        state._with_phase(changes, _evolve_kw(view, tasks_total=event.data.get("tasks")))


def _play_start(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    view = state.phase(event.phase)
    play = event.data.get("play", "")
    state._with_phase(changes, _evolve_kw(view, play=play))
    state._log(changes, event, "info", f"PLAY [{play}]")


def _task_start(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    state._close_task(changes, event.time)
    task = event.data.get("task", "")
    view = state.phase(event.phase)
    state._with_phase(changes, _evolve(view, {"task": task, "tasks_done": view.tasks_done + 1}))
    changes["open_task"] = (event.phase, task, event.time)
    state._log(changes, event, "info", f"TASK [{task}]")


def _host_start(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    if event.host is not None:
        state._with_host(changes, event.host, _started(state.hosts.get(event.host) or _NO_HOST, event))


def _host_result(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    host = event.host
    if host is None:
        return
    kind, data = event.kind, event.data
    ignored = kind == "host_failed" and bool(data.get("ignored"))
    state._with_host(changes, host, _with_result(state.hosts.get(host) or _NO_HOST, event, ignored))
    if kind in ("host_failed", "host_unreachable") and not ignored:
        name = _RESULT_FIELD[kind]
        message = failure_message(data.get("res") or {})
        if len(state.live_failures) < MAX_FAILURES:
            failure = Failure(
                event.time,
                event.phase,
                host,
                data.get("task", ""),
                data.get("action", ""),
                name,
                message,
                MappingProxyType(dict(data.get("res") or {})),
                state.attempt,
            )
            changes["failures"] = (*state.failures, failure)
        state._log(changes, event, "error", f"{name}: [{host}] {message}")
    elif kind in _LOGGED_RESULTS:
        state._log(changes, event, *_result_line(event, ignored))


# A host's view is built directly (not through _evolve): these run for every task on every host.
_NO_HOST = HostView()
_COUNTER = {name: HostView._fields.index(field) for name, field in _RESULT_FIELD.items()}
_OK, _IGNORED = HostView._fields.index("ok"), HostView._fields.index("ignored")


def _started(old: HostView, event: Event) -> HostView:
    """The host's view as a task starts on it: HostView(*counters, task, last, phase)."""
    return tuple.__new__(HostView, (*old[:6], event.data.get("task", ""), old.last, event.phase))


def _with_result(old: HostView, event: Event, ignored: bool) -> HostView:
    """The host's view after a result; an ignored failure counts as ok, as Ansible's own recap does."""
    counters = list(old[:6])
    if ignored:
        counters[_OK] += 1
        counters[_IGNORED] += 1
        last = "ok"
    else:
        counters[_COUNTER[event.kind]] += 1
        last = _RESULT_FIELD[event.kind]
    return tuple.__new__(HostView, (*counters, event.data.get("task", old.task), last, event.phase))


def _result_line(event: Event, ignored: bool) -> tuple[str, str]:
    """The log's level and text for an ok, changed or ignored-failure result."""
    level = "changed" if event.kind == "host_changed" else "ok"
    return level, f"{'ignored failure' if ignored else _RESULT_FIELD[event.kind]}: [{event.host}]"


# Kinds apply_all takes without apply: they change a host's view, the counters and maybe the log.
_BATCHED = frozenset(
    {EventKind.HOST_START, EventKind.HOST_OK, EventKind.HOST_CHANGED, EventKind.HOST_SKIPPED}
)


def _flush(
    state: RunState,
    hosts: dict[str, HostView],
    lines: list[LogLine],
    count: int,
    now: float,
    second_count: int,
) -> RunState:
    """`state` with a batch of host events applied (see RunState.apply_all)."""
    changes: dict[str, Any] = {"events": state.events + count, "now": now, "second_count": second_count}
    changes["hosts"] = MappingProxyType(hosts)
    if lines:
        changes["log"] = state.log.extend(lines)
    return _evolve(state, changes)


def _host_status(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    """A non-playbook phase (preflight, access…) reporting on a host: `status` and `text`."""
    if event.host is None:
        return
    status = event.data.get("status", "")
    # Preflight words its line `text`; access and discovery give `detail` and a `fix`.
    text = str(event.data.get("text") or event.data.get("detail") or status)
    old = state.hosts.get(event.host) or HostView()
    counts: dict[str, int] = {}
    if status in ("ok", "changed", "failed", "unreachable", "skipped"):
        counts[status] = getattr(old, status) + 1
    view = _evolve_kw(old, last=status, task=text, phase=event.phase, **counts)
    state._with_host(changes, event.host, view)
    if status in ("failed", "unreachable") and len(state.live_failures) < MAX_FAILURES:
        # A host that failed outside a playbook (it never spoke SSH, refused the key…) is a failure of the
        # run like a failed task: the summary, the report and the failure banner name it with the fix.
        fix = str(event.data.get("fix") or "")
        res = {"msg": text, **({"fix": fix} if fix else {})}
        # The failure's task already names the phase: "lab3 — preflight: python failed", not twice.
        message = text.removeprefix(f"{event.phase}: ")
        failure = Failure(
            event.time,
            event.phase,
            event.host,
            event.phase,
            "",
            status,
            message,
            MappingProxyType(res),
            state.attempt,
        )
        changes["failures"] = (*state.failures, failure)
    level = {"failed": "error", "unreachable": "error", "warning": "warning"}.get(status, "info")
    state._log(changes, event, level, f"[{event.host}] {text}")


def _log_event(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    if event.data.get("artifacts"):
        changes["artifacts"] = (event.phase, str(event.data["artifacts"]))
    state._log(changes, event, event.data.get("level", "info"), str(event.data.get("text", "")))


def _finding(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    data = event.data
    if len(state.live_findings) < MAX_FINDINGS:
        finding = Finding(
            event.time,
            event.phase,
            event.host,
            str(data.get("id", "")),
            str(data.get("title", "")),
            str(data.get("fix", "")),
            MappingProxyType(dict(data)),
            state.attempt,
        )
        changes["findings"] = (*state.findings, finding)
    where = f"[{event.host}] " if event.host else ""
    state._log(changes, event, "warning", f"diagnosis: {where}{data.get('title', data.get('id', ''))}")


def _stats(state: RunState, event: Event, changes: dict[str, Any]) -> None:
    state._close_task(changes, event.time)


# Every kind but PREFLIGHT_REPORT (the console's table; the dashboard shows that phase's host_status events).
_HANDLERS = {
    EventKind.RUN_START: _run_start,
    EventKind.RUN_END: _run_end,
    EventKind.PHASE_START: _phase_start,
    EventKind.PHASE_END: _phase_end,
    EventKind.TASK_TOTAL: _task_total,
    EventKind.PLAY_START: _play_start,
    EventKind.TASK_START: _task_start,
    EventKind.HOST_START: _host_start,
    EventKind.HOST_OK: _host_result,
    EventKind.HOST_CHANGED: _host_result,
    EventKind.HOST_FAILED: _host_result,
    EventKind.HOST_UNREACHABLE: _host_result,
    EventKind.HOST_SKIPPED: _host_result,
    EventKind.HOST_STATUS: _host_status,
    EventKind.LOG: _log_event,
    EventKind.FINDING: _finding,
    EventKind.STATS: _stats,
}
