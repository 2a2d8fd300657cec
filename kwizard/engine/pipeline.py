"""The phase engine: runs phases in order, journals every change, and resumes a run where it stopped.

The engine is UI-free: it reports through Events (to an optional observer — the dashboard or the headless
console) and returns a RunOutcome. It runs on whatever thread calls it; `cancel` stops it cooperatively.
Which phases exist is a table of PhaseDefinitions, by default the product's pipeline (DESIGN.md §1);
tests pass their own table of real playbook phases.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from kwizard.engine import fingerprint as fp
from kwizard.engine.journal import (
    Attempt,
    JournalError,
    RunJournal,
    cluster_lock,
    list_runs,
    read_events,
    run_to_resume,
)
from kwizard.engine.outcome import RunOutcome, exit_code_for, phase_crash, phase_os_error
from kwizard.engine.state import RunState
from kwizard.errors import (
    EXIT_INTERRUPTED,
    InputError,
    KwizardError,
)
from kwizard.fsutil import atomic_write
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.phases import PHASE_TITLES, PHASES
from kwizard.protocol.events import EventKind
from kwizard.protocol.phase import (
    Event,
    HostKeyPrompt,
    PhaseContext,
    PhaseFunction,
    PhaseResult,
    Secrets,
    load_phase,
)
from kwizard.spec import ClusterSpec

Observer = Callable[[Event], None]
# (failure event, outputs of earlier phases such as preflight facts) -> findings as JSON-able dicts
Diagnoser = Callable[[Event, dict[str, dict[str, Any]]], list[dict[str, Any]]]
SUCCESS = ("ok", "skipped")


@dataclass(frozen=True)
class PhaseDefinition:
    """A phase the engine can run: its name, title, implementation loader and spec inputs."""

    name: str
    title: str
    load: Callable[[], PhaseFunction]
    inputs: tuple[str, ...] | None = None  # spec parts it depends on (None: the whole spec)


def product_phases() -> tuple[PhaseDefinition, ...]:
    """The pipeline of DESIGN.md §1, each phase loaded lazily from its module."""
    return tuple(
        PhaseDefinition(name, PHASE_TITLES[name], partial(load_phase, name), fp.PHASE_INPUTS.get(name))
        for name in PHASES
    )


@dataclass(frozen=True)
class PlannedPhase:
    name: str
    run: bool  # False: reuse the earlier success
    reason: str = ""  # why it runs (again) or why it is skipped


def is_diagnosed(event: Event) -> bool:
    """True for the events the engine hands to its diagnoser: failed results that were not ignored."""
    return event.kind in ("host_failed", "host_unreachable") and not event.data.get("ignored")


@dataclass
class Engine:
    """Runs the phases of one cluster. Create one per run (or resume)."""

    spec: ClusterSpec
    ws: Workspace
    options: RunOptions = field(default_factory=RunOptions)
    secrets: Secrets = field(default_factory=Secrets)
    phases: Sequence[PhaseDefinition] = field(default_factory=product_phases)
    observer: Observer | None = None
    confirm_host_key: Callable[[HostKeyPrompt], bool] | None = None
    confirm_host_keys: Callable[[Sequence[HostKeyPrompt]], Sequence[bool]] | None = None
    diagnose: Diagnoser | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    # True when the caller already holds the cluster lock (taken before it wrote the preset), so that a
    # refused second kwizard changes nothing; the engine then does not take it again.
    holds_lock: bool = False

    def __post_init__(self) -> None:
        self.state = RunState()
        self.journal: RunJournal | None = None
        self.journal_error: JournalError | None = None
        self._lock = threading.RLock()
        self._table = {definition.name: definition for definition in self.phases}
        self.results: dict[str, dict[str, Any]] = {}  # outputs of finished phases (ctx.results)
        self.stopped_orphans: list[int] = []  # ansible processes a killed kwizard left running
        self._abandoned = False  # the journal was closed by abandon(); the run's thread writes no more
        self._recorded_notes: list[str] = []  # options a resume took from the run's journal

    # -- planning ------------------------------------------------------------------------------------
    def selected(self) -> list[str]:
        if self.options.operation:  # a day-2 command runs its own phase list, whole
            return [d.name for d in self.phases]
        wanted = set(self.options.selected_phases(self.spec))
        return [d.name for d in self.phases if d.name in wanted]

    def plan_resume(self, journal: RunJournal) -> list[PlannedPhase]:
        """What a resume of `journal` will do for each phase, with the reason."""
        record = journal.record
        names = self.selected() if (self.options.only or self.options.until) else list(record.selected)
        names = [name for name in names if name not in self.options.skip]
        plan = []
        for name in names:
            if name not in self._table:
                continue
            before = record.phase(name)
            now = fp.fingerprint(self.spec, self._table[name].inputs)
            changed = fp.changed_parts(before.fingerprint, now)
            if before.status in SUCCESS and not changed:
                plan.append(PlannedPhase(name, False, "succeeded before; spec unchanged"))
            elif before.status in SUCCESS:
                plan.append(PlannedPhase(name, True, f"{', '.join(changed)} changed since it succeeded"))
            elif before.status == "pending":
                plan.append(PlannedPhase(name, True, "not run yet"))
            else:
                plan.append(PlannedPhase(name, True, f"{before.status} last time"))
        return plan

    # -- running -------------------------------------------------------------------------------------
    def _cluster_lock(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if self.holds_lock else cluster_lock(self.ws)

    def start(self) -> RunOutcome:
        """A new run of the selected phases."""
        selected = self.selected()
        if not selected:
            raise InputError(
                "No phase to run",
                "The preset's phase list and --until/--only leave nothing to run.",
                "Check `phases:` in the preset and the --until/--only options.",
            )
        with self._cluster_lock():
            self._stop_orphans()
            journal = RunJournal.create(self.ws, selected)
            return self._execute(journal, [PlannedPhase(name, True) for name in selected], resumed=False)

    def resume(self, directory: Path | None = None) -> RunOutcome:
        """Continue the cluster's last run (or `directory`) from its failed or interrupted phase."""
        with self._cluster_lock():
            directory = directory or run_to_resume(self.ws)
            self._stop_orphans()
            journal = RunJournal.load(directory)
            self.options, self._recorded_notes = self.options.with_recorded(journal.record.options)
            self._replay(journal)
            return self._execute(journal, self.plan_resume(journal), resumed=True)

    def _stop_orphans(self) -> None:
        from kwizard.runner.orphans import kill_orphans

        self.stopped_orphans = kill_orphans(self.ws.artifacts_dir)

    def emit(self, event: Event) -> None:
        """Record an event: reducer, journal, observer, and diagnoses of failures. Any thread."""
        if not event.time:  # phases' own events (ctx.log) come without a time stamp
            event = replace(event, time=time.time())
        with self._lock:
            self.state = self.state.apply(event)
            if self.journal is not None and self.journal_error is None and not self._abandoned:
                try:
                    self.journal.append_event(event)
                except JournalError as error:
                    self.journal_error = error
                    self.cancel.set()  # a run that cannot be journalled must not go on
            if self.observer is not None:
                self.observer(event)
            if is_diagnosed(event):
                self._diagnose(event)

    def _diagnose(self, event: Event) -> None:
        if self.diagnose is None:
            return
        try:
            findings = self.diagnose(event, self.results)
        except Exception as exc:  # a diagnosis must never break the run it explains
            findings = []
            self.emit(
                Event(
                    EventKind.LOG,
                    event.phase,
                    event.host,
                    {"text": f"diagnostics failed: {exc}", "level": "warning"},
                    time.time(),
                )
            )
        for finding in findings:
            data = {"task": event.data.get("task", ""), **finding}
            self.emit(Event(EventKind.FINDING, event.phase, event.host, data, time.time()))

    def _replay(self, journal: RunJournal) -> None:
        state = RunState()
        for event in read_events(journal.events_file):
            state = state.apply(event)
        self.state = state

    def abandon(self) -> RunOutcome | None:
        """Close the journal of a run whose phase has not stopped yet, for a process about to quit.

        A second Ctrl-C quits without waiting for the phase's thread; the journal must still say what a
        cooperative cancel would have said (phase and run interrupted), not `running`. Whatever that thread
        does afterwards is no longer journalled. None when there is no open run to close.
        """
        self.cancel.set()
        with self._lock:
            journal = self.journal
            if journal is None or self._abandoned or journal.record.status != "running":
                return None
            running = [name for name, phase in journal.record.phases.items() if phase.status == "running"]
            result = PhaseResult("interrupted", "interrupted by the user before the phase had stopped")
            for name in running:
                self._save_phase_end(name, result, result.summary, None)
                self.emit(
                    self._event(EventKind.PHASE_END, name, status=result.status, summary=result.summary)
                )
            self._finish(journal, "interrupted", EXIT_INTERRUPTED)
            self._abandoned = True
            return self._outcome(
                journal, "interrupted", EXIT_INTERRUPTED, None, running[0] if running else None
            )

    def _execute(self, journal: RunJournal, plan: list[PlannedPhase], *, resumed: bool) -> RunOutcome:
        record = journal.record
        with self._lock:  # abandon() sees either no journal or one with this attempt in it
            self.journal = journal
            try:
                journal.update(
                    status="running",
                    exit_code=None,
                    selected=tuple(p.name for p in plan) if not resumed else record.selected,
                    options=self.options.recorded(),
                    attempts=(
                        *record.attempts,
                        Attempt(
                            started=time.time(),
                            pid=os.getpid(),
                            resumed=resumed,
                            host=socket.gethostname(),
                            skipped=tuple(p for p in PHASES if p in self.options.skip),
                        ),
                    ),
                )
            except JournalError:
                journal.close()
                raise
        ctx = PhaseContext(
            spec=self.spec,
            ws=self.ws,
            options=self.options,
            secrets=self.secrets,
            emit=self.emit,
            cancel=self.cancel,
            confirm_host_key=self.confirm_host_key,
            confirm_host_keys=self.confirm_host_keys,
            results=self.results,
            run_id=record.run_id,
        )
        totals = {p.name: self._expected_tasks(p.name) for p in plan}
        self.emit(
            self._event(
                EventKind.RUN_START,
                "",
                run_id=record.run_id,
                cluster=record.cluster,
                phases=[p.name for p in plan],
                titles={p.name: self._table[p.name].title for p in plan},
                tasks_total={k: v for k, v in totals.items() if v},
                attempt=len(journal.record.attempts),
                resumed=resumed,
            )
        )
        if self._recorded_notes:
            self.emit(
                self._event(EventKind.LOG, "", text=recorded_options_note(self._recorded_notes), level="info")
            )
        if self.options.skip:
            skipped = ", ".join(p for p in PHASES if p in self.options.skip)
            text = f"not run, as --skip asks: {skipped}"
            self.emit(self._event(EventKind.LOG, "", text=text, level="warning"))
        if self.stopped_orphans:
            text = f"stopped {len(self.stopped_orphans)} ansible processes left running by a killed kwizard"
            self.emit(self._event(EventKind.LOG, "", text=text, level="warning"))
        status, error, failed_phase = "ok", None, None
        for planned in plan:
            if self.cancel.is_set():
                status = "interrupted"
                break
            if not planned.run:
                ctx.results[planned.name] = dict(record.phase(planned.name).data)
                self.emit(
                    self._event(
                        EventKind.PHASE_END, planned.name, status="ok", reused=True, summary=planned.reason
                    )
                )
                continue
            try:
                result, error = self._run_phase(ctx, planned, totals.get(planned.name))
            except JournalError as exc:  # the phase could not even be marked as started
                self.journal_error = exc
                failed_phase = planned.name
                break
            self.results[planned.name] = dict(result.data)
            self.spec = ctx.spec  # a phase may complete the spec (discovery of created hosts)
            if result.status not in SUCCESS:
                status = "interrupted" if result.status == "interrupted" else "failed"
                failed_phase = planned.name
                break
            if self.journal_error is not None:
                break
        if self.journal_error is not None:
            status, error = "failed", self.journal_error
        phase_status = self.journal.record.phase(failed_phase).status if failed_phase else status
        exit_code = exit_code_for(status, failed_phase, phase_status, error)
        with self._lock:
            if self._abandoned:  # the journal was closed as interrupted while this phase ran
                return self._outcome(journal, "interrupted", EXIT_INTERRUPTED, None, failed_phase)
            self._finish(journal, status, exit_code)
        return self._outcome(journal, status, exit_code, error, failed_phase)

    def _outcome(
        self, journal: RunJournal, status: str, exit_code: int, error: KwizardError | None, failed: str | None
    ) -> RunOutcome:
        record = journal.record
        return RunOutcome(
            record.run_id, journal.directory, status, exit_code, self.state, record, error, failed
        )

    def _run_phase(
        self, ctx: PhaseContext, planned: PlannedPhase, expected: int | None
    ) -> tuple[PhaseResult, KwizardError | None]:
        definition = self._table[planned.name]
        journal = self.journal
        assert journal is not None
        name = planned.name
        with self._lock:
            if self._abandoned:
                return PhaseResult("interrupted", "interrupted by the user"), None
            before = journal.record.phase(name)
            journal.update_phase(
                name,
                status="running",
                started=time.time(),
                ended=None,
                summary="",
                error={},
                fingerprint=fp.fingerprint(self.spec, definition.inputs),
                attempts=before.attempts + 1,
            )
        self.emit(
            self._event(
                EventKind.PHASE_START,
                name,
                title=definition.title,
                tasks_total=expected,
                reason=planned.reason,
            )
        )
        error: KwizardError | None = None
        try:
            result = definition.load()(ctx)
        except KwizardError as exc:
            error = exc
            result = PhaseResult("failed", exc.title)
        except KeyboardInterrupt:
            self.cancel.set()
            result = PhaseResult("interrupted", "interrupted by the user")
        except OSError as exc:
            error = phase_os_error(name, exc, journal.directory)
            result = PhaseResult("failed", error.title)
        except Exception as exc:  # a bug in a phase: keep the traceback for the report, not the screen
            error = phase_crash(name, exc, journal.directory)
            result = PhaseResult("failed", error.title)
        if self.cancel.is_set() and result.status not in SUCCESS:
            # The user's cancel (Ctrl-C reaches kwizard's children too) is the cause: what a child said on
            # its way down (ansible-inventory's "User interrupted execution") is no fault to fix.
            if error is not None and self.journal_error is None:
                stopped = f"stopped by the cancel: {error.title}"
                self.emit(self._event(EventKind.LOG, name, text=stopped, level="info"))
                result, error = PhaseResult("interrupted", "interrupted by the user"), None
            result = replace(result, status="interrupted")
        summary = result.summary or (error.problem if error else "")
        # A phase that completed the spec (discovery filled in the created hosts) succeeded for the spec
        # it left: a resume must not re-run it for "host addresses changed" that it changed itself.
        completed = ctx.spec is not self.spec and result.status in SUCCESS
        fingerprint = fp.fingerprint(ctx.spec, definition.inputs) if completed else None
        self._save_phase_end(name, result, summary, error, fingerprint)
        self.emit(self._event(EventKind.PHASE_END, name, status=result.status, summary=summary))
        if error is not None:
            self.emit(self._event(EventKind.LOG, name, text=error.render_text(), level="error"))
        return result, error

    def _save_phase_end(
        self,
        name: str,
        result: PhaseResult,
        summary: str,
        error: KwizardError | None,
        fingerprint: dict[str, str] | None = None,
    ) -> None:
        assert self.journal is not None
        extra: dict[str, Any] = {"fingerprint": fingerprint} if fingerprint is not None else {}
        with self._lock:
            if self._abandoned:
                return
            try:
                self.journal.update_phase(
                    name,
                    status=result.status,
                    ended=time.time(),
                    summary=summary,
                    data=dict(result.data),
                    tasks=self.state.phase(name).tasks_done,
                    error={"title": error.title, "problem": error.problem, "fix": error.fix} if error else {},
                    **extra,
                )
            except JournalError as exc:
                self.journal_error = self.journal_error or exc
                self.cancel.set()

    def _finish(self, journal: RunJournal, status: str, exit_code: int) -> None:
        attempts = journal.record.attempts
        last = replace(attempts[-1], ended=time.time(), status=status)
        self.emit(self._event(EventKind.RUN_END, "", status=status, exit_code=exit_code))
        try:
            journal.update(status=status, exit_code=exit_code, attempts=(*attempts[:-1], last))
            from kwizard.engine.report import render_report

            atomic_write(journal.report_file, render_report(journal.record, self.state))
        except (JournalError, OSError) as exc:
            if self.journal_error is None:
                self.journal_error = (
                    exc
                    if isinstance(exc, JournalError)
                    else JournalError("The run report cannot be written", str(exc), "Free some disk space.")
                )
        finally:
            journal.close()

    def _expected_tasks(self, name: str) -> int | None:
        """Task count of the last finished attempt of this phase here or in an earlier run (progress total).

        An attempt stopped part way (interrupted, failed) counted only the tasks it got to: as a total it
        would show the next attempt at 100% from its first tasks on."""
        if self.journal is not None:
            here = self.journal.record.phase(name)
            if here.tasks and here.status == "ok":
                return here.tasks
        for directory in reversed(list_runs(self.ws)[-20:]):
            try:
                earlier = RunJournal.load(directory).record.phase(name)
            except KwizardError:
                continue
            if earlier.tasks and earlier.status == "ok":
                return earlier.tasks
        return None

    @staticmethod
    def _event(kind: EventKind, phase: str, **data: object) -> Event:
        return Event(kind, phase, None, dict(data), time.time())


def recorded_options_note(notes: list[str]) -> str:
    """What a resume says when it reuses options of the run's first command."""
    return f"using {' and '.join(notes)} as recorded with the run (give an option again to change it)"
