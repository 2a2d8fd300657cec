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
        self._rows = -1

    def show(self, state: RunState, now: float) -> None:
        if state.slowest is self._shown:
            return
        self._shown = state.slowest
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(justify="right", no_wrap=True, min_width=6)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        for timing in state.slowest[:SLOWEST_SHOWN]:
            table.add_row(Text(duration_text(timing.seconds), style="cyan"), timing.task)
        # One row per task shown (no wrapping): the pane's height changes only with their number.
        rows = min(len(state.slowest), SLOWEST_SHOWN)
        self.update(
            table if state.slowest else Text("No task finished yet.", style="dim"), layout=rows != self._rows
        )
        self._rows = rows
