"""The closed set of event kinds a run emits, and the payload each one carries.

Every `Event` is one of `EventKind`; an unknown kind is refused when the event is made, so a typo in a
phase fails its tests instead of being silently ignored by the dashboard, the journal and the report.
The payloads are `TypedDict`s: what a phase may put in `Event.data` for a kind, and what the reducer,
the console and the report read from it. Keys marked `Required` are always present. No postponed
annotations in this module: Python 3.11 sees `Required`/`NotRequired` only when they are evaluated.
"""

from enum import StrEnum
from typing import Any, Literal, NotRequired, Required, TypedDict


class EventKind(StrEnum):
    """What happened. Members compare equal to their strings ("log" == EventKind.LOG)."""

    RUN_START = "run_start"  # the engine starts (or resumes) a run
    RUN_END = "run_end"  # the engine's final status for this attempt
    PHASE_START = "phase_start"
    PHASE_END = "phase_end"
    TASK_TOTAL = "task_total"  # a phase announcing how many tasks it expects
    PLAY_START = "play_start"  # Ansible: a play begins
    TASK_START = "task_start"  # Ansible: a task begins
    HOST_START = "host_start"  # Ansible: a host begins the current task
    HOST_OK = "host_ok"
    HOST_CHANGED = "host_changed"
    HOST_FAILED = "host_failed"
    HOST_UNREACHABLE = "host_unreachable"
    HOST_SKIPPED = "host_skipped"
    HOST_STATUS = "host_status"  # a phase outside a playbook reporting on one host
    STATS = "stats"  # Ansible's final PLAY RECAP
    LOG = "log"  # a line for the log
    FINDING = "finding"  # a diagnosis of a failure
    PREFLIGHT_REPORT = "preflight_report"  # the preflight phase's whole report (the console's table)


HOST_RESULTS = frozenset(
    {
        EventKind.HOST_OK,
        EventKind.HOST_CHANGED,
        EventKind.HOST_FAILED,
        EventKind.HOST_UNREACHABLE,
        EventKind.HOST_SKIPPED,
    }
)

LogLevel = Literal["debug", "info", "ok", "changed", "warning", "error"]


class RunStartData(TypedDict, total=False):
    run_id: str
    cluster: str
    phases: list[str]
    titles: dict[str, str]
    tasks_total: dict[str, int]


class RunEndData(TypedDict, total=False):
    status: str
    exit_code: int


class PhaseStartData(TypedDict, total=False):
    title: str
    tasks_total: int | None
    reason: str  # why it runs again (a resume)


class PhaseEndData(TypedDict, total=False):
    status: Required[str]
    summary: str
    reused: bool  # the result of an earlier attempt was kept


class TaskTotalData(TypedDict):
    tasks: int
    source: NotRequired[str]  # where the count comes from ("--list-tasks", an earlier run)


class PlayStartData(TypedDict, total=False):
    play: str
    pattern: str  # the play's hosts pattern


class TaskStartData(TypedDict, total=False):
    task: Required[str]
    action: str
    role: str
    play: str
    path: str  # the task's file:line
    uuid: str


class HostStartData(TypedDict, total=False):
    task: str
    action: str


class HostResultData(TypedDict, total=False):
    task: Required[str]
    action: str
    role: str
    duration: float
    # failed / unreachable only:
    path: str
    play: str
    ignored: bool
    res: dict[str, Any]


class HostStatusData(TypedDict, total=False):
    status: Required[str]  # ok, changed, failed, unreachable, skipped, warning, running…
    text: str
    detail: str
    fix: str
    reason: str
    results: list[dict[str, Any]]


class StatsData(TypedDict, total=False):
    hosts: dict[str, dict[str, int]]  # host → ok, changed, failed, unreachable, skipped, rescued, ignored


class LogData(TypedDict):
    text: str
    level: NotRequired[LogLevel]
    artifacts: NotRequired[str]  # the ansible-runner folder of the playbook being started


class FindingData(TypedDict, total=False):
    """A diagnosis; the rule or check that made it adds its own fields (source, level, outcome…)."""

    id: Required[str]
    title: Required[str]
    fix: str
    task: str


PAYLOADS: dict[EventKind, type] = {
    EventKind.RUN_START: RunStartData,
    EventKind.RUN_END: RunEndData,
    EventKind.PHASE_START: PhaseStartData,
    EventKind.PHASE_END: PhaseEndData,
    EventKind.TASK_TOTAL: TaskTotalData,
    EventKind.PLAY_START: PlayStartData,
    EventKind.TASK_START: TaskStartData,
    EventKind.HOST_START: HostStartData,
    **dict.fromkeys(HOST_RESULTS, HostResultData),
    EventKind.HOST_STATUS: HostStatusData,
    EventKind.STATS: StatsData,
    EventKind.LOG: LogData,
    EventKind.FINDING: FindingData,
    EventKind.PREFLIGHT_REPORT: dict,  # the report's own JSON form (kwizard.preflight.model)
}


def event_kind(kind: str) -> EventKind:
    """`kind` as an EventKind; ValueError naming the known kinds for anything else."""
    try:
        return EventKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in EventKind)
        raise ValueError(f"unknown event kind {kind!r} (known: {known})") from None
