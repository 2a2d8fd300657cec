"""Step 3 — Preflight: every host checked at once, results streamed into a checks-by-hosts table.

The checks run in a thread worker (kwizard.preflight.Preflight) that posts HostChecked as each host
answers and ChecksFinished at the end; fixes run the same way and post FixesApplied. A failure must be
fixed or acknowledged ("Continue anyway") before the next step; acknowledgements go into the preset
(`preflight.acknowledged`), so a headless replay does not stop on them again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Button, Checkbox, DataTable, Static
from textual.worker import Worker

from kwizard.errors import KwizardError
from kwizard.headless.preflight_table import cell
from kwizard.hostkeys import KnownHosts
from kwizard.preflight import HostReport, Preflight, PreflightReport
from kwizard.preflight.checks import CHECK_IDS, CHECK_INFO
from kwizard.preflight.fixes import FIXES, FixOutcome
from kwizard.preflight.model import CLUSTER, STATUS_WORDS, CheckResult
from kwizard.preflight.phase import is_known_acknowledgement
from kwizard.protocol.phase import Event, PhaseContext
from kwizard.spec import ClusterSpec
from kwizard.ui.modals import AskModal, ChoiceModal
from kwizard.ui.steps import StepScreen


@dataclass
class HostChecked(Message):
    """One host answered (or could not be reached)."""

    report: HostReport


@dataclass
class ChecksFinished(Message):
    """Every host answered; cross-host checks are in. `error` when the run could not start."""

    report: PreflightReport | None
    error: KwizardError | None = None


@dataclass
class FixesApplied(Message):
    """Fixes ran and their hosts were checked again."""

    spec: ClusterSpec
    report: PreflightReport
    outcomes: list[FixOutcome]


def untrusted_hosts(spec: ClusterSpec, known_hosts: Path) -> list[str]:
    """Hosts of `spec` with no key in the cluster's known_hosts yet."""
    trusted = KnownHosts(known_hosts)
    return [h.name for h in spec.hosts if not trusted.lookup(h.address, spec.ssh_port(h))]


class PreflightStep(StepScreen):
    step_id = "preflight"
    CHECKS = True

    # StepScreen's other bindings are inherited; ctrl+n is replaced so failures are acknowledged first.
    BINDINGS: ClassVar = [
        Binding("ctrl+n", "next_checked", "Next", priority=True),
        Binding("f", "fix_selected", "Fix selected"),
        Binding("r", "rerun", "Re-run"),
        Binding("p", "toggle_problems", "Only problems"),
    ]
    # Checks or fixes are running on the hosts.
    running: reactive[bool] = reactive(False, init=False, bindings=True)

    def __init__(self, recorded: PreflightReport | None = None) -> None:
        super().__init__()
        # A report to show instead of checking the hosts (replays and tests feed it through the
        # same messages a live run posts).
        self.recorded = recorded
        self.report: PreflightReport | None = None
        self.partial: dict[str, HostReport] = {}
        self.acknowledged: set[str] = set()
        self.fixed_spec: ClusterSpec | None = None
        self.cancel = threading.Event()
        self.fixing = ""  # the "Fixing: …" line while host fixes run, with their latest output lines
        self.fix_lines: dict[str, str] = {}
        self.fix_started = 0.0
        self.fix_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="pf-summary")
        with Horizontal(id="pf-actions"):
            yield Button("Re-run (r)", id="pf-rerun")
            yield Button("Fix selected (f)", id="pf-fix")
            yield Button("Fix all", id="pf-fix-all")
            yield Button("Continue anyway", id="pf-ack", variant="warning")
            yield Checkbox("Only problems (p)", id="pf-problems")
        yield DataTable(id="pf-table", cursor_type="cell", zebra_stripes=True)
        yield Static("", id="pf-details")

    # -- spec in and out -------------------------------------------------------------------------

    def load_spec(self, spec: ClusterSpec) -> None:
        self.acknowledged = set(spec.preflight.acknowledged)
        if self.recorded is not None:
            for host_report in self.recorded.hosts:
                self.post_message(HostChecked(host_report))
            self.post_message(ChecksFinished(self.recorded))
        elif not spec.hosts:
            self._set_summary("No hosts yet: add them on the Hosts step.")
        elif (kept := self.wizard.check_results.get("preflight", self.apply_to(spec))) is not None:
            # Checked before with the same hosts and settings (Back/Next): shown again, r checks again.
            self.post_message(ChecksFinished(kept))
        elif untrusted := untrusted_hosts(spec, self.wizard.ws.known_hosts):
            # Connecting would ask to trust each new key first: that is the Access step's job.
            self._set_summary(
                f"Not checked yet: no trusted host key for {', '.join(untrusted)}. Confirm the keys on the "
                "Access step, or press r to check now. (Deploy runs these checks again before installing.)"
            )
        else:
            self.start_checks()
        self.query_one("#pf-table", DataTable).focus()

    def apply_to(self, spec: ClusterSpec) -> ClusterSpec:
        hosts = spec.hosts
        if self.fixed_spec is not None:  # interpreters set by the python fix
            chosen = {h.name: h.python_interpreter for h in self.fixed_spec.hosts}
            hosts = [
                h.model_copy(update={"python_interpreter": chosen.get(h.name, h.python_interpreter)})
                for h in hosts
            ]
        # Acknowledgements of hosts removed on the Hosts step go with them (the run would refuse them).
        acknowledged = sorted(a for a in self.acknowledged if is_known_acknowledgement(a, spec))
        return spec.updated(hosts=hosts, preflight={"acknowledged": acknowledged})

    def on_unmount(self) -> None:
        self.cancel.set()  # hosts not started yet are skipped; running probes finish within their timeout

    # -- running ---------------------------------------------------------------------------------

    def _phase_context(self, spec: ClusterSpec) -> PhaseContext:
        # A key seen for the first time (r pressed before the Access step) is shown for confirmation.
        return self.wizard.phase_context(spec, self.cancel, emit=self._emit_from_thread)

    def _emit_from_thread(self, event: Event) -> None:
        # A host fix's output, line by line (an apt install runs for a minute): shown under "Fixing…".
        if event.kind == "log" and event.host and self.fixing:
            with contextlib.suppress(RuntimeError):  # the app is closing
                self.app.call_from_thread(self._fix_line, event.host, str(event.data.get("text", "")))

    def _fix_line(self, host: str, text: str) -> None:
        self.fix_lines[host] = text
        self._show_fixing()

    def _show_fixing(self) -> None:
        if not self.fixing:
            return
        elapsed = time.monotonic() - self.fix_started
        lines = [f"{self.fixing} ({elapsed:.0f} s)"]
        lines += [f"  {host}: {text[:110]}" for host, text in sorted(self.fix_lines.items())]
        self._set_summary("\n".join(lines))

    def _fixes_done(self) -> None:
        self.fixing = ""
        self.fix_lines = {}
        if self.fix_timer is not None:
            self.fix_timer.stop()
            self.fix_timer = None

    def start_checks(self) -> None:
        spec = self.apply_to(self.wizard.spec)
        self.running = True
        self.partial = {}
        self.report = None
        self._set_summary(f"Checking {len(spec.hosts)} hosts at once…")
        self._refresh_table()
        self.check_hosts(spec)

    @work(thread=True, exclusive=True, group="preflight")
    def check_hosts(self, spec: ClusterSpec) -> None:
        try:

            def arrived(host_report: HostReport) -> None:
                self.post_message(HostChecked(host_report))

            report = Preflight(self._phase_context(spec)).run(on_host=arrived)
        except KwizardError as error:
            self.post_message(ChecksFinished(None, error))
            return
        self.post_message(ChecksFinished(report))

    @work(thread=True, exclusive=True, group="preflight")
    def apply_fixes(
        self, spec: ClusterSpec, report: PreflightReport, selected: list[tuple[str, str]]
    ) -> None:
        try:
            fixed_spec, rechecked, outcomes = Preflight(self._phase_context(spec)).fix(report, selected)
        except KwizardError as error:
            self.post_message(ChecksFinished(report, error))
            return
        self.post_message(FixesApplied(fixed_spec, rechecked, outcomes))

    def worker_failed(self, worker: Worker[object]) -> None:
        self.running = False
        self._fixes_done()
        self._refresh_table()

    def on_host_checked(self, message: HostChecked) -> None:
        self.partial[message.report.host] = message.report
        self._refresh_table()

    def on_checks_finished(self, message: ChecksFinished) -> None:
        self.running = False
        self._fixes_done()
        if message.error is not None:
            self.record_outcome(False)
            self.wizard.show_error(message.error)
        if message.report is not None:
            self.report = message.report
            self.wizard.check_results.keep("preflight", self.apply_to(self.wizard.spec), message.report)
        self._refresh_table()

    def on_fixes_applied(self, message: FixesApplied) -> None:
        self.running = False
        self._fixes_done()
        self.fixed_spec = message.spec
        self.report = message.report
        self.wizard.check_results.keep("preflight", self.apply_to(self.wizard.spec), message.report)
        self._refresh_table()
        for outcome in message.outcomes:
            title = FIXES[outcome.fix_id].title
            if outcome.ok:
                self.notify(f"{outcome.host}: {title} — done, check passes now", title="Fixed")
            else:
                self.notify(
                    f"{outcome.host}: {title} — {outcome.detail}", title="Fix failed", severity="error"
                )

    # -- what the table shows ---------------------------------------------------------------------

    def current(self) -> PreflightReport | None:
        """The finished report, or what has arrived so far while checks run."""
        if self.report is not None:
            return self.report.with_acknowledged(self.acknowledged)
        if not self.partial:
            return None
        hosts = tuple(self.partial[h.name] for h in self.wizard.spec.hosts if h.name in self.partial)
        present = {r.check for h in hosts for r in h.results}
        return PreflightReport(hosts, checks=tuple(c for c in CHECK_IDS if c in present))

    def _columns(self, report: PreflightReport) -> list[str]:
        names = [h.name for h in self.wizard.spec.hosts]
        if report.cluster:
            names.append(CLUSTER)
        if self.only_problems:
            names = [n for n in names if any(r.host == n and r.status != "pass" for r in report.results)]
        return names

    def _rows(self, report: PreflightReport) -> list[str]:
        checks = list(report.checks)
        if self.only_problems:
            checks = [c for c in checks if any(r.check == c and r.status != "pass" for r in report.results)]
        return checks

    @property
    def only_problems(self) -> bool:
        return self.query_one("#pf-problems", Checkbox).value

    def _refresh_table(self) -> None:
        table = self.query_one("#pf-table", DataTable)
        keep = table.cursor_coordinate
        table.clear(columns=True)
        report = self.current()
        if report is None:
            return
        if self.report is not None:
            # Acknowledged failures (the preset's, or "Continue anyway") do not block, as in the run's
            # preflight phase; anything else still failing means the step did not succeed.
            self.record_outcome(not report.blocking)
        columns = self._columns(report)
        table.add_column("check", key="check")
        for name in columns:
            done = name in self.partial or self.report is not None or name == CLUSTER
            table.add_column(name if done else f"{name} …", key=name)
        for check in self._rows(report):
            cells = [Text(check, style="bold")]
            for name in columns:
                result = report.result(name, check)
                pending = self.report is None and name not in self.partial
                cells.append(Text("…", style="dim") if pending else Text(*cell(result), justify="center"))
            table.add_row(*cells, key=check)
        if table.row_count and table.is_valid_coordinate(keep):
            table.cursor_coordinate = keep
        elif table.row_count:
            table.cursor_coordinate = Coordinate(0, min(1, len(columns)))
        self._set_summary(self._summary(report))
        self._show_details()

    def _summary(self, report: PreflightReport) -> str:
        if self.running and self.report is None:
            return f"Checking {len(self.wizard.spec.hosts)} hosts at once… {len(self.partial)} answered."
        text = report.summary()
        blocking = report.blocking
        if blocking:
            text += f". {len(blocking)} must be fixed or acknowledged before continuing."
        fixable = [r for r in report.results if r.fix_id]
        if fixable:
            text += f" kwizard can fix {len(fixable)} (f on a cell, or Fix all)."
        return text

    def _set_summary(self, text: str) -> None:
        self.query_one("#pf-summary", Static).update(text)

    def selected(self) -> CheckResult | None:
        """The result under the table's cursor (None on the check-name column or an empty cell)."""
        report = self.current()
        table = self.query_one("#pf-table", DataTable)
        if report is None or not table.row_count:
            return None
        row_key, column_key = table.coordinate_to_cell_key(table.cursor_coordinate)
        if column_key.value == "check":
            return None
        return report.result(str(column_key.value), str(row_key.value))

    def _show_details(self) -> None:
        details = self.query_one("#pf-details", Static)
        table = self.query_one("#pf-table", DataTable)
        result = self.selected()
        if result is None:
            if table.row_count:
                row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
                info = CHECK_INFO.get(str(row_key.value))
                details.update(Text(info.title if info else "", style="dim"))
            else:
                details.update("")
            return
        text, style = cell(result)
        word = STATUS_WORDS[result.status] + (" — acknowledged" if result.acknowledged else "")
        body = Text.assemble(
            (f"{result.host} · {CHECK_INFO[result.check].title}  ", "bold"), (f"{text} {word}", style)
        )
        for label, value in (("Observed", result.observed), ("Required", result.required)):
            if value:
                body.append(f"\n{label}: ", style="bold")
                body.append(value)
        if result.why:
            body.append("\nWhy: ", style="bold")
            body.append(result.why)
        if result.fix:
            body.append("\nFix: ", style="bold green")
            body.append(result.fix)
        if result.fix_id:
            body.append(
                f"\nPress f: kwizard will {FIXES[result.fix_id].title}, then check again.", style="cyan"
            )
        details.update(body)

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._show_details()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._refresh_table()

    # -- actions ----------------------------------------------------------------------------------

    @on(Button.Pressed, "#pf-rerun")
    def _pf_rerun_pressed(self) -> None:
        self.action_rerun()

    @on(Button.Pressed, "#pf-fix")
    def _pf_fix_pressed(self) -> None:
        self.action_fix_selected()

    @on(Button.Pressed, "#pf-fix-all")
    def _pf_fix_all_pressed(self) -> None:
        self.action_fix_all()

    @on(Button.Pressed, "#pf-ack")
    def _pf_ack_pressed(self) -> None:
        self.action_continue_anyway()

    def go_next(self) -> None:
        self.action_next_checked()

    def action_rerun(self) -> None:
        if not self.running and self.wizard.spec.hosts:
            self.start_checks()

    def action_toggle_problems(self) -> None:
        checkbox = self.query_one("#pf-problems", Checkbox)
        checkbox.value = not checkbox.value

    def action_fix_selected(self) -> None:
        result = self.selected()
        if result is None or result.fix_id is None:
            self.notify("kwizard has no automatic fix for this cell; the details say what to do.")
            return
        self._fix([(result.host, result.fix_id)])

    def action_fix_all(self) -> None:
        report = self.current()
        selected = [(r.host, r.fix_id) for r in report.results if r.fix_id] if report else []
        if not selected:
            self.notify("Nothing kwizard can fix automatically.")
            return
        self._fix(selected)

    def _fix(self, selected: list[tuple[str, str]]) -> None:
        report = self.report
        if self.running or report is None:
            self.notify("Wait for the checks to finish.")
            return
        needs_password = any(
            FIXES[fix_id].on_host and (facts := report.facts(host)) is not None and facts.sudo == "password"
            for host, fix_id in selected
        )

        def run(password: str | None = None) -> None:
            if password:
                self.wizard.secrets.become_password = password
            self.running = True
            self.fixing = f"Fixing: {', '.join(f'{FIXES[f].title} on {h}' for h, f in selected)}…"
            self.fix_lines, self.fix_started = {}, time.monotonic()
            self.fix_timer = self.set_interval(1.0, self._show_fixing)
            self._show_fixing()
            self.apply_fixes(self.apply_to(self.wizard.spec), report, selected)

        if needs_password and not self.wizard.resolved_secrets().become_password:
            self.app.push_screen(
                AskModal("Become password", "sudo asks for a password on these hosts:", password=True),
                lambda answer: run(answer) if answer else None,
            )
            return
        run()

    def action_continue_anyway(self) -> None:
        report = self.current()
        if report is None or self.running:
            self.notify("Wait for the checks to finish.")
            return
        self._acknowledge_and_continue(report)

    def _acknowledge_and_continue(self, report: PreflightReport) -> None:
        blocking = report.blocking
        if not blocking:
            self.wizard.action_next_step()
            return
        listed = "\n".join(f"  {r.host}: {r.check} — {r.observed}" for r in blocking[:8])
        more = f"\n  … and {len(blocking) - 8} more" if len(blocking) > 8 else ""

        def decided(choice: str | None) -> None:
            if choice == "ack":
                self.acknowledged |= {r.key for r in blocking}
                self._refresh_table()
                self.record_outcome(False)  # continued past them: the checks still failed
                self.wizard.action_next_step()

        self.app.push_screen(
            ChoiceModal(
                "Continue with failed checks?",
                f"{len(blocking)} checks failed:\n{listed}{more}\n\nThe install will probably stop on them. "
                "They are recorded as acknowledged in the preset (preflight.acknowledged).",
                [("ack", "Continue anyway"), ("stay", "Stay and fix")],
                cancel="stay",
            ),
            decided,
        )

    def action_next_checked(self) -> None:
        if self.running:
            self.notify("The checks are still running.")
            return
        report = self.current()
        if self.report is None or report is None:  # never run here: Deploy checks before installing
            self.wizard.action_next_step()
            return
        self._acknowledge_and_continue(report)


__all__ = ["ChecksFinished", "FixesApplied", "HostChecked", "PreflightStep"]
