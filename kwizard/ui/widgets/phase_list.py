"""The run's phases with their status icons and times."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from kwizard.engine.report import duration_text
from kwizard.engine.state import RunState

ICONS = {
    "ok": ("✓", "green"),
    "skipped": ("⤼", "dim"),
    "failed": ("✗", "bold red"),
    "interrupted": ("⏸", "yellow"),
    "running": ("▶", "bold cyan"),
    "pending": ("·", "dim"),
}


class PhaseList(Static):
    """Every phase of the run: status, duration, tasks."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._shown: tuple[Any, ...] = ()
        self._rows = -1

    def show(self, state: RunState, now: float) -> None:
        key = (state.order, state.phases, int(now))
        if key == self._shown:
            return
        self._shown = key
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", no_wrap=True)
        for name in state.order:
            view = state.phase(name)
            icon, style = ICONS.get(view.status, ("?", ""))
            word = view.status
            if view.reused:
                icon, style, word = "↷", "green", "done before"
            label = Text.assemble(
                (f"{icon} ", style), (view.title, "bold" if view.status == "running" else "")
            )
            if view.status == "running" and view.tasks_total:
                label.append(f" {view.tasks_done}/{view.tasks_total}", style="dim")
            duration = "" if view.status == "pending" or view.reused else duration_text(view.elapsed(now))
            table.add_row(label, Text.assemble((word, style), (f" {duration}" if duration else "", "dim")))
        # One row per phase (no wrapping): the pane's height changes only with their number.
        self.update(table, layout=len(state.order) != self._rows)
        self._rows = len(state.order)
