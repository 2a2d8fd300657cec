"""Step 6 — Deploy: the phases run here, on a live dashboard; a failed or interrupted run resumes here."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Static
from textual.worker import Worker

from kwizard.engine.outcome import RunOutcome
from kwizard.engine.pipeline import Engine, PhaseDefinition
from kwizard.errors import KwizardError
from kwizard.paths import workdir_option
from kwizard.ui.dashboard import Dashboard, EventFeed
from kwizard.ui.hostkey import host_key_trust
from kwizard.ui.steps import StepScreen

if TYPE_CHECKING:
    from kwizard.service.fixes import FixResult, PendingFix


class DeployStep(StepScreen):
    step_id = "deploy"

    BINDINGS: ClassVar = [
        Binding("x", "apply_fix", "Apply fix and retry"),
        Binding("m", "show_summary", "Summary"),
        # The dashboard's keys, here too: they work wherever the focus is on this step (a button, say),
        # not only once Tab has reached the dashboard. The log pane's title lists a, f and h.
        Binding("a", "dashboard('log_all')", "Log: all", show=False),
        Binding("f", "dashboard('log_failures')", "Log: failures", show=False),
        Binding("h", "dashboard('log_host')", "Log: host", show=False),
        Binding("slash", "dashboard('log_search')", "Search log"),
    ]
    # A run (or a fix) is in progress: the buttons and the keys follow (watch_running, check_action).
    running: reactive[bool] = reactive(False, init=False, bindings=True)

    @dataclass
    class RunFinished(Message):
        """The engine returned (the run succeeded, failed or was interrupted)."""

        outcome: RunOutcome

    @dataclass
    class RunErrored(Message):
        """The engine could not run at all (cluster busy, nothing to resume, full disk…)."""

        error: KwizardError

    @dataclass
    class FixApplied(Message):
        """The offered fix was applied (preset changed, or commands ran on the hosts); the retry follows."""

        fix: PendingFix
        result: FixResult

    @dataclass
    class FixFailed(Message):
        """The offered fix could not be applied (host unreachable, command failed, re-check failed…)."""

        error: KwizardError

    def __init__(self, phases: Sequence[PhaseDefinition] | None = None) -> None:
        super().__init__()
        self.phases = phases  # None: the product's pipeline; tests give a table of fixture phases
        self.feed = EventFeed()
        self.engine: Engine | None = None
        self.resumable: Path | None = None
        self.fix: PendingFix | None = None  # what "Apply fix and retry" applies
        self.finished_run: Path | None = None  # the last run that finished ok (its Summary)
        self.cancelled = False  # the user pressed Cancel run: an interrupted run has nothing to fix

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="deploy-actions"):
            yield Static("", id="deploy-plan")
            yield Button("Start deployment", id="deploy-start", variant="success")
            yield Button("Resume", id="deploy-resume", variant="primary")
            yield Button("Apply fix and retry", id="deploy-fix", variant="warning")
            yield Button("Summary", id="deploy-summary", variant="primary")
            yield Button("Cancel run", id="deploy-cancel", variant="error", disabled=True)
        yield Static("", id="deploy-result")
        yield Dashboard(self.feed, id="dashboard")

    def on_mount(self) -> None:
        super().on_mount()
        self._show_last_run()

    # -- what is there before anything runs ---------------------------------------------------------
    def load_spec(self, spec: Any) -> None:
        phases = ", ".join(self.wizard.options.selected_phases(spec)) or "none"
        self.query_one("#deploy-plan", Static).update(f"Cluster [b]{spec.name}[/b] · phases: {phases}")

    def _show_last_run(self) -> None:
        """Offer to resume the cluster's last run when it did not finish, and show its dashboard."""
        from kwizard.engine.journal import RunJournal, last_run

        self.resumable = None
        directory = last_run(self.wizard.ws)
        if directory is not None:
            try:
                record = RunJournal.load(directory).record
            except KwizardError:
                record = None
            if record is not None and record.status == "ok":
                # The last run as it ended (not an empty "0/0 phases" board); Start runs again, m its Summary.
                self.finished_run = directory
                self._replay(directory)
                self._result(
                    f"Run {record.run_id} finished ok. Start runs the phases again; m shows its Summary."
                )
            if record is not None and record.status != "ok":
                self.resumable = directory
                self._replay(directory)
                failed = next(
                    (n for n in record.selected if record.phase(n).status not in ("ok", "skipped")), ""
                )
                if record.status == "interrupted":
                    self._result(
                        f"Run {record.run_id} was interrupted at {failed or 'its start'}: nothing failed. "
                        "Resume continues from there."
                    )
                else:
                    self._result(
                        f"Run {record.run_id} stopped: {failed or record.status}. Fix the cause, then Resume."
                    )
        self.query_one("#deploy-resume", Button).display = self.resumable is not None
        self._offer_fix()
        self.query_one("#deploy-summary", Button).display = self.finished_run is not None

    def _replay(self, directory: Path) -> None:
        from kwizard.engine.journal import read_events

        dashboard = self.query_one(Dashboard)
        dashboard.reset()
        self.feed.extend(read_events(directory / "events.jsonl"))
        dashboard.drain_all()

    # -- running ------------------------------------------------------------------------------------
    @on(Button.Pressed, "#deploy-start")
    def _deploy_start_pressed(self) -> None:
        self.start(resume=False)

    @on(Button.Pressed, "#deploy-resume")
    def _deploy_resume_pressed(self) -> None:
        self.start(resume=True)

    @on(Button.Pressed, "#deploy-cancel")
    def _deploy_cancel_pressed(self) -> None:
        self.cancel()

    @on(Button.Pressed, "#deploy-fix")
    def _deploy_fix_pressed(self) -> None:
        self.action_apply_fix()

    @on(Button.Pressed, "#deploy-summary")
    def _deploy_summary_pressed(self) -> None:
        self.action_show_summary()

    def can_leave(self) -> bool:
        if self.running:
            self._busy()
        return not self.running

    def _busy(self) -> None:
        self.notify("A run is in progress: cancel it first.", severity="warning")

    def start(self, resume: bool) -> None:
        """Save the preset and run (or resume) the phases on a worker thread; a run that creates AWS
        hosts shows their plan first and starts only once it is accepted."""
        if self.running:
            return
        spec = self.wizard.spec
        if (
            not resume
            and spec.provision is not None
            and "provision" in self.wizard.options.selected_phases(spec)
        ):
            from kwizard.aws.plan import provision_plan
            from kwizard.ui.provision_plan import ProvisionPlanModal

            modal = ProvisionPlanModal(spec.name, provision_plan(spec.provision))
            self.app.push_screen(modal, lambda create: self._launch(resume) if create else None)
            return
        self._launch(resume)

    def _launch(self, resume: bool) -> None:
        if self.running:
            return
        self.cancelled = False
        wizard = self.wizard
        wizard.action_save_preset()
        if wizard.saved_spec != wizard.spec:
            return  # the save failed and said why
        from kwizard.service.runs import build_engine

        ws, cancel = wizard.ws.create(), threading.Event()
        self.engine, _ = build_engine(
            wizard.spec,
            ws,
            wizard.options,
            self.feed.put,
            phases=self.phases,
            secrets=wizard.resolved_secrets(),
            # The same trust-on-first-use dialogs as the Access step, asked from the engine's thread.
            trust=host_key_trust(self.app, cancel, str(ws.known_hosts)),
            cancel=cancel,
        )
        dashboard = self.query_one(Dashboard)
        if resume and self.resumable is not None:
            self._replay(self.resumable)
        else:
            dashboard.reset()
        dashboard.clock = time.time
        self.running = True
        self._result("Running…" if not resume else "Resuming…")
        self._run_engine(resume)

    @work(thread=True, exclusive=True, group="deploy")
    def _run_engine(self, resume: bool) -> None:
        engine = self.engine
        assert engine is not None
        try:
            outcome = engine.resume() if resume else engine.start()
        except KwizardError as error:
            self.post_message(self.RunErrored(error))
            return
        self.post_message(self.RunFinished(outcome))

    def cancel(self) -> None:
        if self.engine is not None and self.running:
            self.cancelled = True
            self.engine.cancel.set()
            self._result("Cancelling: the current phase is being stopped…")

    def on_deploy_step_run_finished(self, message: RunFinished) -> None:
        outcome = message.outcome
        self._finish()
        if outcome.status == "ok":
            self._result(
                f"[green]✓ Run {outcome.run_id} finished.[/] Report: {outcome.directory / 'report.md'}"
            )
            self.finished_run, self.resumable = outcome.directory, None
            self.action_show_summary()
        else:
            where = f" in phase {outcome.failed_phase}" if outcome.failed_phase else ""
            later = f"kwizard --resume {self.wizard.spec.name}{workdir_option(self.wizard.ws.root)}"
            report = outcome.directory / "report.md"
            if outcome.status == "interrupted":
                # Nothing failed: "fix the cause" would send the user looking for an error that is not there.
                why = "you cancelled it" if self.cancelled else "it was stopped before it finished"
                self._result(
                    f"[yellow]Run {outcome.run_id} interrupted{where}: {why}.[/] Nothing to fix: Resume "
                    f"continues from that phase (or later: {later}). Report: {report}"
                )
            else:
                self._result(
                    f"[red]Run {outcome.run_id} {outcome.status}{where}.[/] Fix the cause shown below, then "
                    f"Resume (or later: {later}). Report: {report}"
                )
            self.resumable = outcome.directory
            if outcome.error is not None:
                self.wizard.show_error(outcome.error)
        self.query_one("#deploy-resume", Button).display = (
            self.resumable is not None and outcome.status != "ok"
        )
        self.query_one("#deploy-summary", Button).display = self.finished_run is not None
        self._offer_fix()

    def on_deploy_step_run_errored(self, message: RunErrored) -> None:
        self._finish()
        self._result(f"[red]{message.error.title}[/]")
        self.wizard.show_error(message.error)

    # -- apply fix and retry ------------------------------------------------------------------------
    def _offer_fix(self) -> None:
        """Show "Apply fix and retry" for the first fix of the stopped run kwizard can apply: the failed
        preflight's fixes, else the newest diagnosed finding's remedy (kwizard.service.fixes)."""
        self.fix = None
        if self.resumable is not None:
            from kwizard.engine.journal import read_events
            from kwizard.service.fixes import pending_fixes

            fixes = pending_fixes(read_events(self.resumable / "events.jsonl"))
            self.fix = fixes[0] if fixes else None
        button = self.query_one("#deploy-fix", Button)
        button.display = self.fix is not None and not self.running
        button.tooltip = self.fix.describe() if self.fix is not None else None
        self.refresh_bindings()

    def action_apply_fix(self) -> None:
        """Apply the offered fix (preset change, host commands or preflight fixes), then resume the run."""
        fix = self.fix
        if fix is None or self.running:
            return
        self.running = True
        where = f" on {', '.join(fix.hosts)}" if fix.hosts and not fix.changes_spec_only else ""
        self._result(f"Applying: {fix.title}{where}…")
        self._apply_fix(fix)

    @work(thread=True, exclusive=True, group="deploy")
    def _apply_fix(self, fix: PendingFix) -> None:
        from kwizard.service.fixes import apply_fix

        wizard = self.wizard
        try:
            ctx = wizard.phase_context(wizard.spec, threading.Event())
            result = apply_fix(ctx, fix)
        except KwizardError as error:
            self.post_message(self.FixFailed(error))
            return
        self.post_message(self.FixApplied(fix, result))

    def on_deploy_step_fix_applied(self, message: FixApplied) -> None:
        self.running = False
        self.wizard.spec = message.result.spec  # saved by start() before the retry
        hosts = ", ".join(message.result.hosts)
        self.notify(
            f"Applied on {hosts}; retrying." if hosts else message.fix.describe(), title=message.fix.title
        )
        self.start(resume=True)

    def on_deploy_step_fix_failed(self, message: FixFailed) -> None:
        self.running = False
        self._offer_fix()
        self._result(f"[red]{message.error.title}[/]")
        self.wizard.show_error(message.error)

    def action_dashboard(self, action: str) -> None:
        getattr(self.query_one(Dashboard), f"action_{action}")()

    # -- summary ------------------------------------------------------------------------------------
    def action_show_summary(self) -> None:
        """Open the Summary screen of the last run that finished ok."""
        if self.finished_run is None or self.running:
            return
        from kwizard import summary
        from kwizard.engine.journal import RunJournal
        from kwizard.ui.screens.summary import SummaryScreen

        try:
            record = RunJournal.load(self.finished_run).record
            shown = summary.from_record(self.wizard.spec, self.wizard.ws, record)
        except KwizardError as error:
            self.wizard.show_error(error)
            return
        self.app.push_screen(SummaryScreen(shown))

    def worker_failed(self, worker: Worker[object]) -> None:
        # The run or the fix crashed: the buttons come back so the user can try again.
        self._finish()
        self._offer_fix()
        self._result("[red]Stopped by an internal error[/]")

    def _finish(self) -> None:
        self.running = False
        dashboard = self.query_one(Dashboard)
        dashboard.drain_all()
        dashboard.clock = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer shows "Apply fix and retry" and "Summary" only when there is one to act on.
        if action == "apply_fix":
            return self.fix is not None and not self.running
        if action == "show_summary":
            return self.finished_run is not None and not self.running
        return super().check_action(action, parameters)

    def watch_running(self, running: bool) -> None:
        self.query_one("#deploy-start", Button).disabled = running
        self.query_one("#deploy-resume", Button).disabled = running
        self.query_one("#deploy-cancel", Button).disabled = not running
        self.query_one("#deploy-fix", Button).disabled = running
        self.query_one("#deploy-summary", Button).disabled = running

    def _result(self, text: str) -> None:
        self.query_one("#deploy-result", Static).update(text)

    def on_unmount(self) -> None:
        # Leaving the wizard mid-run: stop the phase cleanly; the journal says "interrupted".
        if self.engine is not None and self.running:
            self.engine.cancel.set()
