"""The Summary screen, shown when a run ends: how to use the cluster, DNS to add, LB nodes, next steps.

It renders a `kwizard.summary.Summary` (built by the core from the spec and the phases' results) with the
same rich renderables headless mode prints, so both show the same facts.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from kwizard.headless.summary_view import renderables
from kwizard.summary import Summary, render_text
from kwizard.ui.widgets.footer import Footer


class SummaryScreen(Screen[None]):
    """Read-only end-of-run summary; Escape or Close returns to the caller."""

    BINDINGS: ClassVar = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+t", "save_text", "Save as text"),
    ]

    def __init__(self, summary: Summary) -> None:
        super().__init__(id="summary-screen")
        self.summary = summary

    def compose(self) -> ComposeResult:
        yield Static(
            f"[b]Cluster {self.summary.cluster}[/] — what was built, what was not, and what to do next",
            id="summary-title",
        )
        with VerticalScroll(id="summary-body"):
            for index, part in enumerate(renderables(self.summary)):
                yield Static(part, id=f"summary-part-{index}", classes="summary-part")
        with Horizontal(id="summary-nav"):
            yield Button("Save as text", id="save-text")
            yield Button("Close", id="close", variant="primary")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "close":
            self.action_close()
        elif event.button.id == "save-text":
            self.action_save_text()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save_text(self) -> None:
        """Write the plain-text summary next to the cluster's kubeconfig copy (0600)."""
        from pathlib import Path

        from kwizard.fsutil import atomic_write

        target = Path(self.summary.kubeconfig).parent / "summary.txt"
        try:
            atomic_write(target, render_text(self.summary) + "\n")
        except OSError as exc:
            self.notify(f"Not saved: {exc}", severity="error")
            return
        self.notify(f"Saved to {target}", title="Summary")
