"""Step 5 - Review: what will be written (a diff against disk), what will run, how to run it by hand."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Collapsible, DataTable, Static, TextArea

from kwizard import preset as presets
from kwizard.errors import KwizardError
from kwizard.inventory.files import FileChange
from kwizard.inventory.review import ReviewPlan, review_plan
from kwizard.spec import ClusterSpec
from kwizard.ui.steps import StepScreen

STATUS_LABELS = {"new": "[green]new[/]", "changed": "[yellow]changed[/]", "unchanged": "[dim]unchanged[/]"}


@dataclass
class ReviewPrepared(Message):
    """The review plan was computed (in a worker: it reads files and asks git about the Kubespray clone)."""

    plan: ReviewPlan


@dataclass
class ReviewFailed(Message):
    error: KwizardError


def _counts(change: FileChange) -> str:
    if change.status == "unchanged":
        return ""
    lines = change.diff().splitlines()[2:]  # past the ---/+++ header
    added = sum(line.startswith("+") for line in lines)
    removed = sum(line.startswith("-") for line in lines)
    return f"+{added} -{removed}"


class ReviewStep(StepScreen):
    step_id = "review"
    CHECKS = True

    def compose_body(self) -> ComposeResult:
        yield Static("", id="review-summary")
        yield Static("Checking the inventory…", id="review-findings")
        yield Static("Files to be written", classes="section-title")
        yield Static("", id="review-files-where")
        yield DataTable(id="review-files", cursor_type="row")
        with VerticalScroll(id="review-diff-view"):
            yield Static("", id="review-diff")
        yield Static("Kubespray", classes="section-title")
        yield Static("", id="review-kubespray")
        yield Static("Equivalent command line (what the kubespray phase runs)", classes="section-title")
        with Horizontal(id="review-command-row"):
            yield Static("", id="review-command")
            yield Button("Copy", id="copy-command")
        with Collapsible(title="Preset, exactly as it will be saved", id="review-preset", collapsed=True):
            yield TextArea("", id="preset-yaml", read_only=True)

    def load_spec(self, spec: ClusterSpec) -> None:
        self.changes: list[FileChange] = []
        self.command = ""
        roles = {role: len(spec.hosts_with(role)) for role in ("control_plane", "etcd", "worker")}
        self.query_one("#review-summary", Static).update(
            f"Cluster [b]{spec.name}[/] ({spec.target}): {len(spec.hosts)} hosts - "
            f"{roles['control_plane']} control plane, {roles['etcd']} etcd, {roles['worker']} workers. "
            f"Kubernetes {spec.kubespray.kube_version} with {spec.kubespray.network_plugin} and "
            f"{spec.kubespray.container_manager}.\nPreset file: {self.wizard.ws.preset_file}"
        )
        self.query_one("#preset-yaml", TextArea).text = presets.dump(spec)
        self.query_one("#review-files", DataTable).add_columns("Status", "File", "Change")
        self.prepare(spec)

    @work(thread=True, exclusive=True, group="review")
    def prepare(self, spec: ClusterSpec) -> None:
        wizard = self.wizard
        try:
            plan = review_plan(spec, wizard.ws, wizard.options)
        except KwizardError as error:
            self.post_message(ReviewFailed(error))
            return
        self.post_message(ReviewPrepared(plan))

    def on_review_failed(self, message: ReviewFailed) -> None:
        self.record_outcome(False)
        self.query_one("#review-findings", Static).update(
            f"[b red]{message.error.title}[/]: {message.error.problem}"
        )

    def on_review_prepared(self, message: ReviewPrepared) -> None:
        plan = message.plan
        self.record_outcome(not plan.errors)
        self.changes = plan.changes
        self.command = plan.command
        self.query_one("#review-findings", Static).update(self._findings(plan))
        where = plan.changes[0].path.parent if plan.changes else ""
        self.query_one("#review-files-where", Static).update(f"in {where}")
        table = self.query_one("#review-files", DataTable)
        rows = [(STATUS_LABELS[c.status], c.relative, _counts(c), c.relative) for c in plan.changes]
        # Columns as wide as their widest cell from the start: sized later (when the table is next idle),
        # the header was sometimes drawn at the width of its titles over rows already drawn wider.
        table.clear(columns=True)
        for index, title in enumerate(("Status", "File", "Change")):
            cells = [Text.from_markup(row[index]).cell_len for row in rows]
            table.add_column(title, width=max([len(title), *cells]))
        for status, relative, counts, key in rows:
            table.add_row(status, relative, counts, key=key)
        self._show_diff(0)
        self.query_one("#review-kubespray", Static).update(
            "\n".join(
                line
                for line in (
                    plan.kubespray_state,
                    plan.venv_state,
                    f"Phases that will run: {' → '.join(title for _, title in plan.phases) or 'none'}",
                )
                if line
            )
        )
        self.query_one("#review-command", Static).update(plan.command)

    def _findings(self, plan: ReviewPlan) -> str:
        if not plan.problems:
            return (
                "[green]✓ The inventory passes every check Kubespray would make before and while it runs.[/]"
            )
        lines = []
        for problem in plan.problems:
            colour, mark = ("red", "✗") if problem.severity == "error" else ("yellow", "!")
            lines.append(f"[{colour}]{mark} {problem.field}[/]: {problem.message}")
            if problem.fix:
                lines.append(f"    [dim]{problem.fix}[/]")
        if plan.errors:
            lines.append("[b red]Fix these before deploying: the inventory phase will refuse to run.[/]")
        return "\n".join(lines)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_diff(event.cursor_row)

    def _show_diff(self, index: int) -> None:
        if not 0 <= index < len(self.changes):
            return
        from rich.syntax import Syntax

        change = self.changes[index]
        view = self.query_one("#review-diff", Static)
        if change.status == "unchanged":
            view.update(f"{change.relative} is already on disk exactly like this; it will not be rewritten.")
            return
        view.update(Syntax(change.diff(), "diff", theme="ansi_dark", background_color="default"))

    @on(Button.Pressed, "#copy-command")
    def _copy_command_pressed(self) -> None:
        self._copy_command()

    def _copy_command(self) -> None:
        self.app.copy_to_clipboard(self.command)
        self.notify("Command copied to the clipboard", title="Copied")
