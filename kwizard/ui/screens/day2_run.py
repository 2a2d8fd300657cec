"""A day-2 run (add-node, remove-node, reset…) on the live dashboard, started from a cluster's home screen.

The engine is the one headless runs use (`kwizard.service.runs.build_engine` with the command's phase
table from its operation), so the journal, diagnostics and `--resume` work the same; only the host-key
question and the progress are shown here instead of on the terminal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Header, Static
from textual.worker import Worker

from kwizard.engine.pipeline import RunOutcome
from kwizard.errors import KwizardError
from kwizard.ui.dashboard import Dashboard, EventFeed
from kwizard.ui.hostkey import host_key_trust
from kwizard.ui.widgets.footer import Footer
from kwizard.ui.workers import GuardedWorkers

if TYPE_CHECKING:
    from kwizard.ui.app import WizardApp


class Day2RunScreen(GuardedWorkers[str | None]):
    """Runs (or resumes) one day-2 operation of the wizard's cluster; dismissed with the run's status."""

    BINDINGS: ClassVar = [
        Binding("escape", "close", "Back to the cluster"),
        Binding("a", "dashboard('log_all')", "Log: all", show=False),
        Binding("f", "dashboard('log_failures')", "Log: failures", show=False),
        Binding("slash", "dashboard('log_search')", "Search log"),
    ]

    # The run is going on: Cancel works, Back waits (watch_running).
    running: reactive[bool] = reactive(False, init=False)

    @dataclass
    class Finished(Message):
        outcome: RunOutcome

    @dataclass
    class Errored(Message):
        error: KwizardError

    def __init__(self, title: str, operation: Mapping[str, Any], *, resume: Path | None = None) -> None:
        super().__init__(id="day2-run")
        self.title_text = title
        self.operation = dict(operation)
        self.resume_from = resume
        self.feed = EventFeed()
        self.cancel = threading.Event()  # the run's: Cancel sets it, whether or not its engine is built yet
        self.outcome: RunOutcome | None = None

    @property
    def wizard(self) -> WizardApp:
        return cast("WizardApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="day2-run-bar"):
            yield Static(self.title_text, id="day2-run-title")
            yield Button("Cancel run", id="day2-cancel", variant="error")
            yield Button("Back", id="day2-back", variant="primary", disabled=True)
        yield Static("", id="day2-run-result")
        yield Dashboard(self.feed, id="day2-dashboard")
        yield Footer()

    def on_mount(self) -> None:
        self.start()

    def start(self) -> None:
        self.query_one(Dashboard).clock = time.time
        self.running = True
        self._result("Resuming…" if self.resume_from else "Running…")
        self._run_engine()

    @work(thread=True, exclusive=True, group="day2")
    def _run_engine(self) -> None:
        """Build the engine (the workspace is made here too: a disk problem is the error modal, as any
        exception escaping this worker is) and run the operation."""
        from kwizard.day2 import phase_table
        from kwizard.service.runs import build_engine

        wizard = self.wizard
        try:
            ws = wizard.ws.create()
            engine, _ = build_engine(
                wizard.spec,
                ws,
                replace(wizard.options, operation=self.operation),
                self.feed.put,
                phases=phase_table(self.operation),
                secrets=wizard.resolved_secrets(),
                trust=host_key_trust(self.app, self.cancel, str(ws.known_hosts)),
                cancel=self.cancel,
            )
            outcome = engine.resume(self.resume_from) if self.resume_from else engine.start()
        except KwizardError as error:
            self.post_message(self.Errored(error))
            return
        self.post_message(self.Finished(outcome))

    def worker_failed(self, worker: Worker[object]) -> None:
        self._stopped()
        self._result("[red]The run stopped on an internal error (see the message).[/]")

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        outcome = self.outcome = message.outcome
        self._stopped()
        report = outcome.directory / "report.md"
        if outcome.status == "ok":
            self._result(f"[green]✓ Run {outcome.run_id} finished.[/] Report: {report}")
        else:
            where = f" in phase {outcome.failed_phase}" if outcome.failed_phase else ""
            self._result(
                f"[red]Run {outcome.run_id} {outcome.status}{where}.[/] The preset did not change; fix "
                f"the cause, then Resume on the cluster's screen (or kwizard --resume "
                f"{self.wizard.spec.name} --yes). Report: {report}"
            )
            if outcome.error is not None:
                self.wizard.show_error(outcome.error)

    @on(Errored)
    def _errored(self, message: Errored) -> None:
        self._stopped()
        self._result(f"[red]{message.error.title}[/]")
        self.wizard.show_error(message.error)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "day2-cancel" and self.running:
            self.cancel.set()
            self._result("Cancelling: the current phase is being stopped…")
        elif event.button.id == "day2-back":
            self.action_close()

    def action_close(self) -> None:
        if self.running:
            self.notify("A run is in progress: cancel it first.", severity="warning")
            return
        self.dismiss(self.outcome.status if self.outcome else None)

    def action_dashboard(self, action: str) -> None:
        getattr(self.query_one(Dashboard), f"action_{action}")()

    def _stopped(self) -> None:
        self.running = False
        dashboard = self.query_one(Dashboard)
        dashboard.drain_all()
        dashboard.clock = None

    def watch_running(self, running: bool) -> None:
        self.query_one("#day2-cancel", Button).disabled = not running
        self.query_one("#day2-back", Button).disabled = running

    def _result(self, text: str) -> None:
        self.query_one("#day2-run-result", Static).update(text)

    def on_unmount(self) -> None:
        if self.running:
            self.cancel.set()
