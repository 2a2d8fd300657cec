"""The report of a run (its report.md), opened from the command palette."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown, Static

from kwizard.ui.widgets.footer import Footer


class ReportScreen(Screen[None]):
    """A run's report.md, read-only; Escape returns to the step."""

    BINDINGS: ClassVar = [Binding("escape,q", "close", "Close")]

    def __init__(self, report: Path) -> None:
        super().__init__(id="report-screen")
        self.report = report

    def compose(self) -> ComposeResult:
        yield Static(f"[b]Run report[/] {escape(str(self.report))}", id="report-title")
        with VerticalScroll(id="report-body"):
            yield Markdown(self.report.read_text(encoding="utf-8"), id="report-text")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
