"""The AWS plan dialog: what the provision phase will create, how many, and what it costs a month."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from kwizard.aws.plan import Plan


class ProvisionPlanModal(ModalScreen[bool]):
    """Shown before a run creates AWS hosts; dismisses with True to create them."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, cluster: str, plan: Plan) -> None:
        super().__init__(classes="modal")
        self.cluster = cluster
        self.plan = plan

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="plan"):
            yield Label(f"AWS hosts for {self.cluster} in {self.plan.region}", id="dialog-title")
            yield Static("kwizard creates what does not exist yet; what exists is kept.", id="dialog-problem")
            yield DataTable(id="plan-table", cursor_type="none", zebra_stripes=True)
            yield Static(self.plan.footer().strip(), id="plan-total")
            with Horizontal(classes="buttons"):
                yield Button("Create them", id="plan-create", variant="primary")
                yield Button("Cancel", id="plan-cancel")

    def on_mount(self) -> None:
        table = self.query_one("#plan-table", DataTable)
        table.add_column("What")
        table.add_column("Count")
        table.add_column("Details")
        table.add_column("$/month")
        for line in self.plan.lines:
            cost = f"{line.monthly_usd:,.2f}" if line.monthly_usd else ""
            table.add_row(line.what, str(line.count), line.detail, cost)
        self.query_one("#plan-create", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "plan-create")

    def action_cancel(self) -> None:
        self.dismiss(False)
