"""Hosts × result counters of the current attempt; Enter on a host filters the log to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from kwizard.engine.state import HostView, RunState

GRID_CACHE_SIZES = {"_cell_render_cache": 1000, "_row_render_cache": 100, "_line_cache": 100}


class HostGrid(DataTable[Any]):
    """One row per host: result counts and the task it is on. Enter filters the log to that host."""

    COLUMNS: ClassVar = ("host", "ok", "changed", "failed", "unreachable", "skipped", "task")

    @dataclass
    class HostChosen(Message):
        host: str

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._hosts: Any = None
        self._views: dict[str, HostView] = {}
        # DataTable keys its render caches by an update counter, so after each update of the counts every
        # entry is stale; at their default sizes (10,000 cells) they held tens of thousands of dead
        # segment lists that every full garbage collection walked. A few screens' worth is enough.
        for name, size in GRID_CACHE_SIZES.items():
            cache = getattr(self, name, None)
            if cache is not None:
                cache.maxsize = size

    def reset(self) -> None:
        self.clear()
        self._hosts = None
        self._views = {}

    def on_mount(self) -> None:
        for column in self.COLUMNS:
            self.add_column(column.title() if column != "unreachable" else "Unreach.", key=column)

    def show(self, state: RunState, now: float) -> None:
        if state.hosts is self._hosts:
            return
        self._hosts = state.hosts
        self.border_title = state.hosts_title()
        changed = [name for name, view in state.hosts.items() if self._views.get(name) is not view]
        if any(name not in self._views for name in changed):  # new hosts: rows in name order
            self._rebuild(state)
            return
        for name in changed:
            view, before = state.hosts[name], self._cells(name, self._views[name])
            self._views[name] = view
            # Only the cells that read differently: a result usually changes one counter and the task,
            # and every update_cell costs a row refresh (100 hosts × 6 columns was a 50 ms repaint).
            for column, cell, old in zip(self.COLUMNS, self._cells(name, view), before, strict=True):
                if (cell.plain, cell.style) != (old.plain, old.style):
                    self.update_cell(name, column, cell)

    def _rebuild(self, state: RunState) -> None:
        # Only when hosts appear: patching cells leaves far less garbage (Rows, renderables) than
        # rebuilding, and the collector's pauses are what the user would see as stutter.
        cursor = self.cursor_row
        self.clear()
        self._views = dict(state.hosts)
        for name in sorted(state.hosts):
            self.add_row(*self._cells(name, state.hosts[name]), key=name)
        if state.hosts:
            self.move_cursor(row=min(cursor, len(state.hosts) - 1), animate=False, scroll=False)

    @staticmethod
    def _cells(name: str, view: HostView) -> list[Text]:
        bad = view.failed or view.unreachable
        style = "bold red" if bad else ""
        return [
            Text(name, style=style),
            Text(str(view.ok), style="green"),
            Text(str(view.changed), style="dark_orange" if view.changed else ""),
            Text(str(view.failed), style="bold red" if view.failed else "dim"),
            Text(str(view.unreachable), style="bold red" if view.unreachable else "dim"),
            Text(str(view.skipped), style="dim"),
            Text(
                view.task, style="red" if bad and view.last in ("failed", "unreachable") else "", no_wrap=True
            ),
        ]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.HostChosen(str(event.row_key.value)))
