"""Headless output (`--yes`): live progress bars on a terminal, readable lines in CI logs, a summary.

It renders RunState snapshots taken from the engine (the same reducer the dashboard uses) and prints
the events worth a line of scrollback: phase starts and ends, failures, diagnoses. With `--json` all of
this goes to stderr and stdout carries only the JSON summary.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from kwizard.engine.grouping import failures_by_cause, findings_by_cause
from kwizard.engine.journal import RunRecord
from kwizard.engine.outcome import RunOutcome
from kwizard.engine.pipeline import PlannedPhase
from kwizard.engine.report import clock, duration_text
from kwizard.engine.state import RunState, failure_message
from kwizard.engine.summary import summary_json
from kwizard.headless.output import output_console
from kwizard.paths import run_workdir_option
from kwizard.protocol.phase import Event

STATUS_STYLE = {
    "ok": "green",
    "skipped": "dim",
    "failed": "bold red",
    "interrupted": "yellow",
    "running": "cyan",
    "pending": "dim",
}


class ProgressView:
    """A rich renderable of the run's progress, re-read from `snapshot()` at every refresh."""

    def __init__(self, snapshot: Callable[[], RunState]) -> None:
        self.snapshot = snapshot

    def __rich__(self) -> RenderableType:
        state = self.snapshot()
        now = time.time()
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=24)
        grid.add_column(width=32)
        grid.add_column()
        overall = state.overall_fraction()
        done = sum(1 for n in state.order if state.phase(n).status in ("ok", "skipped"))
        grid.add_row(
            Text("Overall", style="bold"),
            ProgressBar(total=1.0, completed=overall, width=32),
            f"{done}/{len(state.order)} phases  elapsed {clock(now - state.started if state.started else 0)}",
        )
        for name in state.order:
            view = state.phase(name)
            if view.status != "running":
                continue
            fraction = view.fraction()
            tasks = f"{view.tasks_done}/{view.tasks_total}" if view.tasks_total else f"{view.tasks_done}"
            eta = view.eta(now)
            grid.add_row(
                Text(view.title, style="cyan"),
                ProgressBar(total=1.0, completed=fraction or 0.0, width=32, pulse=fraction is None),
                f"{tasks} tasks  {clock(view.elapsed(now))}"
                + (f"  ETA {clock(eta)}" if eta is not None else ""),
            )
            if view.task:
                grid.add_row("", Text(view.task, style="dim", overflow="ellipsis", no_wrap=True), "")
        counts = state.host_counts()
        if state.hosts:
            hosts = Text(f"hosts: {counts['ok']} ok")
            if counts["failed"]:
                hosts.append(f" · {counts['failed']} failed", style="red")
            if counts["unreachable"]:
                hosts.append(f" · {counts['unreachable']} unreachable", style="red")
            grid.add_row("", hosts, "")
        return grid


# After Ctrl-C, how long to wait for the phase to stop (the runner itself waits up to 30 s for Ansible).
CANCEL_WAIT_SECONDS = 45.0
# After a forced quit has closed the journal, how long the runner may take to stop Ansible.
QUIT_GRACE_SECONDS = 5.0


class HeadlessConsole:
    """Runs an engine call on a worker thread with live progress; Ctrl-C cancels, twice quits."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        # Progress and scrollback go to stderr when stdout is reserved for JSON.
        self.console = output_console(stderr=json_mode)
        self.live: Live | None = None

    # Called on engine/runner threads: print only events worth a line.
    def observe(self, event: Event) -> None:
        out = self.live.console if self.live else self.console
        if event.kind == "preflight_report":
            from kwizard.headless.preflight_table import render_json, render_plain
            from kwizard.preflight.model import PreflightReport

            if out.is_terminal:
                out.print(render_json(event.data))  # checks × hosts, then each problem with its fix
            else:  # a log or a pipe: a layout that does not depend on a terminal's width
                out.print(render_plain(PreflightReport.from_json(event.data)), soft_wrap=True, markup=False)
            return
        line = _line_for(event)
        if line is not None:
            out.print(line)

    def run(
        self,
        work: Callable[[], RunOutcome],
        cancel: threading.Event,
        snapshot: Callable[[], RunState],
        abandon: Callable[[], RunOutcome | None] = lambda: None,
    ) -> RunOutcome:
        """Run `work` (engine.start / engine.resume) and show its progress until it returns.

        Ctrl-C (or SIGTERM) sets `cancel` and waits up to CANCEL_WAIT_SECONDS for the phase to stop; a
        second one, or a phase that does not stop in time, quits after `abandon()` has recorded the run as
        interrupted (giving the runner QUIT_GRACE_SECONDS to stop Ansible). Without a run to record,
        KeyboardInterrupt reaches the CLI.
        """
        result: dict[str, Any] = {}
        finished = threading.Event()

        def target() -> None:
            try:
                result["outcome"] = work()
            except BaseException as exc:  # re-raised on the calling thread
                result["error"] = exc
            finally:
                finished.set()

        # Signals only count here; the loop below acts on them. A KeyboardInterrupt raised into the wait
        # would be unsafe: on Python < 3.13 one that lands in Thread.join() marks the still-running thread
        # as finished (CPython gh-90882), which is how a Ctrl-C once lost the run's outcome.
        signals: list[int] = []

        def interrupted(signum: int, frame: FrameType | None) -> None:
            signals.append(signum)
            cancel.set()

        thread = threading.Thread(target=target, name="kwizard-engine", daemon=True)
        previous = _install_handlers(interrupted)
        deadline = float("inf")
        try:
            with Live(
                ProgressView(snapshot), console=self.console, refresh_per_second=4, transient=True
            ) as live:
                self.live = live
                thread.start()
                while not finished.is_set():
                    try:
                        finished.wait(0.2)
                    except KeyboardInterrupt:  # the handlers could not be installed (not the main thread)
                        interrupted(signal.SIGINT, None)
                    if signals and deadline == float("inf"):
                        live.console.print(
                            "[yellow]Stopping: cancelling the current phase (Ctrl-C again to quit now).[/]"
                        )
                        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
                    if len(signals) > 1:
                        break
                    if time.monotonic() > deadline:
                        live.console.print(
                            f"[yellow]The current phase did not stop within {CANCEL_WAIT_SECONDS:.0f} s; "
                            "quitting.[/]"
                        )
                        break
                self.live = None
            abandoned = None if finished.is_set() else abandon()
            # The runner saw the cancel and stops Ansible's process group within a second or so; a short,
            # bounded wait lets it, so that quitting does not leave ansible-playbook working on the hosts.
            # A further Ctrl-C does not wait.
            grace, presses = time.monotonic() + QUIT_GRACE_SECONDS, len(signals)
            while not finished.wait(0.1) and time.monotonic() < grace and len(signals) == presses:
                pass
        finally:
            _restore_handlers(previous)
        if abandoned is not None:
            return abandoned
        if not finished.is_set():  # no open run to record: it never began
            raise KeyboardInterrupt
        if "error" in result:
            raise result["error"]
        outcome: RunOutcome = result["outcome"]
        return outcome

    # -- before and after ----------------------------------------------------------------------------
    def show_plan(self, record: RunRecord, plan: list[PlannedPhase]) -> None:
        """What a resume will do: what succeeded before and what runs again, with the reason."""
        table = Table(title=f"Resuming run {record.run_id} of {record.cluster}", title_justify="left")
        table.add_column("Phase")
        table.add_column("Before")
        table.add_column("Now")
        for planned in plan:
            before = record.phase(planned.name).status
            table.add_row(
                planned.name,
                Text(before, style=STATUS_STYLE.get(before, "")),
                Text(
                    ("run: " if planned.run else "skip: ") + planned.reason,
                    style="" if planned.run else "dim",
                ),
            )
        self.console.print(table)

    def summary(self, outcome: RunOutcome) -> None:
        """Final tables (phases, hosts, failures) and, with --json, the JSON summary on stdout."""
        out = Console(stderr=True, highlight=False) if self.json_mode else self.console
        record = outcome.record
        table = Table(title=f"Run {outcome.run_id}: {outcome.status}", title_justify="left")
        for column in ("Phase", "Status", "Duration", "Summary"):
            table.add_column(column)
        for name in record.selected:
            phase = record.phase(name)
            table.add_row(
                name,
                Text(phase.status, style=STATUS_STYLE.get(phase.status, "")),
                duration_text(phase.duration),
                escape(phase.summary),
            )
        out.print(table)
        state = outcome.state
        if state.hosts:
            hosts = Table(title=state.hosts_title(), title_justify="left", show_edge=False)
            for column in ("Host", "ok", "changed", "failed", "unreachable", "skipped"):
                hosts.add_column(column)
            for name in sorted(state.hosts):
                view = state.hosts[name]
                style = "red" if view.failed or view.unreachable else ""
                hosts.add_row(
                    name,
                    str(view.ok),
                    str(view.changed),
                    str(view.failed),
                    str(view.unreachable),
                    str(view.skipped),
                    style=style,
                )
            out.print(hosts)
        if outcome.error is not None:
            from kwizard.headless.errors import report_error

            report_error(outcome.error)
        for group in failures_by_cause(state.live_failures)[:10]:
            failure = group.item
            out.print(f"[red]✗ {escape(group.where)}[/] — {escape(failure.task)}: {escape(failure.message)}")
            if failure.res.get("fix"):
                out.print(f"  Fix: {escape(str(failure.res['fix']))}")
        for found in findings_by_cause(state.live_findings)[:10]:
            finding, where = found.item, f" on {found.where}" if len(found.hosts) > 1 else ""
            out.print(
                f"[yellow]→ {escape(finding.title)}[/] ({finding.id}){escape(where)}: {escape(finding.fix)}"
            )
        out.print(f"Report: {outcome.directory / 'report.md'}")
        # A day-2 run (add-node, remove-node, reset) continues headless, or from the cluster's home screen.
        headless = " --yes" if record.options.get("operation") else ""
        # A run in another --workdir says so.
        workdir = run_workdir_option(outcome.directory)
        headless += workdir
        if outcome.status == "interrupted":
            out.print(
                "[yellow]Interrupted[/] — resume with: [bold]kwizard --resume "
                + escape(record.cluster)
                + headless
                + "[/]"
            )
        elif outcome.status != "ok":
            fixable = _fixable(state.live_findings)
            if fixable:
                out.print(
                    f"kwizard can apply: {escape(', '.join(fixable))}. Apply and continue with: "
                    f"[bold]kwizard --resume {escape(record.cluster)} --yes --apply-fixes"
                    f"{escape(workdir)}[/]"
                )
            out.print("Continue with: [bold]kwizard --resume " + escape(record.cluster) + headless + "[/]")
        if self.json_mode:
            sys.stdout.write(json.dumps(summary_json(outcome), indent=2) + "\n")
            sys.stdout.flush()


def _fixable(findings: Any) -> list[str]:
    """Titles of the remedies kwizard could apply itself for these findings ."""
    from kwizard.diagnostics.apply import plans_for_findings

    return [plan.remedy.title for plan in plans_for_findings((f.data, f.host) for f in findings)]


def _line_for(event: Event) -> Text | None:
    data = event.data
    if event.kind == "phase_start":
        reason = f" ({data['reason']})" if data.get("reason") else ""
        return Text(f"▶ {data.get('title') or event.phase}{reason}", style="bold cyan")
    if event.kind == "phase_end":
        status = str(data.get("status", ""))
        summary = f" — {data['summary']}" if data.get("summary") else ""
        mark = "↷ reused" if data.get("reused") else status
        return Text(f"■ {event.phase}: {mark}{summary}", style=STATUS_STYLE.get(status, ""))
    if event.kind in ("host_failed", "host_unreachable") and not data.get("ignored"):
        what = "unreachable" if event.kind == "host_unreachable" else "failed"
        return Text(
            f"  ✗ [{event.host}] {data.get('task', '')}: {what}: {failure_message(data.get('res') or {})}",
            style="red",
        )
    if event.kind == "finding":
        return Text(
            f"  → diagnosis: {data.get('title', data.get('id', ''))} — {data.get('fix', '')}", style="yellow"
        )
    if event.kind == "log" and data.get("level") in ("warning", "error"):
        where = f"[{event.host}] " if event.host else ""
        style = "yellow" if data.get("level") == "warning" else "red"
        return Text(f"  {where}{data.get('text', '')}", style=style)
    return None


def _install_handlers(handler: Callable[[int, FrameType | None], None]) -> dict[int, Any]:
    """`handler` for Ctrl-C and SIGTERM (so `kill` cancels cleanly too); the previous handlers."""
    previous: dict[int, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            # None: a handler not set from Python; the default is the closest thing to restore.
            previous[signum] = signal.signal(signum, handler) or signal.SIG_DFL
        except ValueError:  # not the main thread (tests): Ctrl-C never reaches this thread anyway
            break
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
