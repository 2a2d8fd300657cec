"""The slowest tasks of the run so far."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from kwizard.engine.report import duration_text
from kwizard.engine.state import RunState

SLOWEST_SHOWN = 8


class SlowestTasks(Static):
    """The slowest tasks so far."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._shown: Any = None
        self._first = True

    def show(self, state: RunState, now: float) -> None:
        if state.slowest is self._shown:
            return
        self._shown = state.slowest
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(justify="right", no_wrap=True, min_width=6)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        shown = state.slowest[:SLOWEST_SHOWN]
        for timing in shown:
            table.add_row(Text(duration_text(timing.seconds), style="cyan"), timing.task)
        if not shown:
            table.add_row("", Text("No task finished yet.", style="dim"))
        for _ in range(SLOWEST_SHOWN - max(len(shown), 1)):
            table.add_row("", "")
        # One row per task (no wrapping) and always as many rows: the pane keeps its height while the
        # list fills, instead of laying the whole screen out again as each of the first tasks ends.
        self.update(table, layout=self._first)
        self._first = False
