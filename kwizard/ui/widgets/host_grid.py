"""Hosts × result counters of the current attempt; Enter on a host filters the log to it."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from kwizard.engine.state import HostView, RunState

CELL_STYLES_KEPT = 4096
GRID_CACHE_SIZES = {"_cell_render_cache": 1000, "_row_render_cache": 100, "_line_cache": 100}


def plain_cell(cell: object, room: int) -> str | None:
    """The text a one-style, one-line ASCII cell shows in `room` columns (cut at its end, as Rich
    does); None for anything else."""
    if type(cell) is not Text or cell.spans or cell.justify not in (None, "default", "left"):
        return None
    plain = cell.plain
    if not plain.isascii() or not plain.isprintable() or plain != plain.rstrip():
        return None
    return plain[:room]


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
        self._shown_cells: dict[str, list[tuple[str, str]]] = {}
        self._column_keys: list[ColumnKey] = []
        self._cell_styles: dict[tuple[Any, ...], tuple[Style, Style]] = {}
        # DataTable keys its render caches by an update counter, so after each update of the counts every
        # entry is stale; at their default sizes (10,000 cells) they held tens of thousands of dead
        # segment lists that every full garbage collection walked. A few screens' worth is enough.
        for name, size in GRID_CACHE_SIZES.items():
            cache = getattr(self, name, None)
            if cache is not None:
                cache.maxsize = size

    # The table's rows are its own to scroll: a new virtual size (rows added) asks for its scrollbars to
    # be updated, not for a layout of the whole screen, unless its height follows its rows (height: auto).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        if self.styles.height is not None and self.styles.height.is_auto:
            self.refresh(layout=True)
        elif self.is_mounted:
            self._scroll_update(size)

    def reset(self) -> None:
        self.clear()
        self._hosts = None
        self._views = {}
        self._shown_cells = {}

    def on_mount(self) -> None:
        self._column_keys = [
            self.add_column(column.title() if column != "unreachable" else "Unreach.", key=column)
            for column in self.COLUMNS
        ]

    def show(self, state: RunState, now: float) -> None:
        if state.hosts is self._hosts:
            return
        self._hosts = state.hosts
        self.border_title = state.hosts_title()
        changed = [name for name, view in state.hosts.items() if self._views.get(name) is not view]
        if any(name not in self._views for name in changed):  # new hosts: rows in name order
            self._rebuild(state)
            return
        updated = False
        for name in changed:
            view, before = state.hosts[name], self._shown_cells[name]
            self._views[name] = view
            cells = self._shown_cells[name] = self.cell_texts(name, view)
            row = self._data[RowKey(name)]
            # Only the cells that read differently (a result usually changes one counter and the task),
            # written as update_cell writes them, with one refresh for all: in a flood, 100 hosts'
            # update_cell calls, each refreshing the table, took longer than applying the events.
            for column, cell, old in zip(self._column_keys, cells, before, strict=True):
                if cell != old:
                    row[column] = self.cell(cell)
                    updated = True
        if updated:
            self._update_count += 1
            self.refresh()

    def _rebuild(self, state: RunState) -> None:
        # Only when hosts appear: patching cells leaves far less garbage (Rows, renderables) than
        # rebuilding, and the collector's pauses are what the user would see as stutter.
        cursor = self.cursor_row
        self.clear()
        self._views = dict(state.hosts)
        self._shown_cells = {name: self.cell_texts(name, view) for name, view in state.hosts.items()}
        for name in sorted(state.hosts):
            self.add_row(*map(self.cell, self._shown_cells[name]), key=name)
        if state.hosts:
            self.move_cursor(row=min(cursor, len(state.hosts) - 1), animate=False, scroll=False)

    @staticmethod
    def cell_texts(name: str, view: HostView) -> list[tuple[str, str]]:
        """Each column's text and style for a host (cheap to compare: most of a row is unchanged)."""
        bad = view.failed or view.unreachable
        return [
            (name, "bold red" if bad else ""),
            (str(view.ok), "green"),
            (str(view.changed), "dark_orange" if view.changed else ""),
            (str(view.failed), "bold red" if view.failed else "dim"),
            (str(view.unreachable), "bold red" if view.unreachable else "dim"),
            (str(view.skipped), "dim"),
            (view.task, "red" if bad and view.last in ("failed", "unreachable") else ""),
        ]

    @staticmethod
    def cell(text_and_style: tuple[str, str]) -> Text:
        text, style = text_and_style
        return Text(text, style=style, no_wrap=True)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A data cell's segments, built directly for the grid's one-style ASCII cells.

        DataTable renders each cell through Rich's console (padding, wrapping, measuring), and keys its
        cache by a counter that every update bumps, so a flood re-rendered every visible cell on each
        repaint: the grid was most of a frame's time. The segments built here are the ones Rich gives
        (a test compares both ways over many cells); anything else (headers, wide or styled text)
        goes to DataTable.
        """
        padding = self.cell_padding
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        if row_key is None or column_key is None or fixed or self.rows[row_key].height != 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        room = width - 2 * padding
        cell = self._data[row_key][column_key]
        plain = plain_cell(cell, room)
        if plain is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        # The styles repeat from repaint to repaint (adding Rich styles is most of a cell's cost); the
        # key holds what they are made of, so a new theme or cursor makes new ones.
        key = (base_style, component, post, row_index, column_index, cell.style)
        styles = self._cell_styles.get(key)
        if styles is None:
            if len(self._cell_styles) >= CELL_STYLES_KEPT:
                self._cell_styles.clear()
            outer = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
            styles = self._cell_styles[key] = (outer + post, outer + Style.parse(str(cell.style)) + post)
        around, text_style = styles
        line = [Segment(" " * padding, around)] if padding else []
        # Rich keeps an empty text's segment, without the text's own style.
        line.append(Segment(plain, text_style if plain else around))
        if len(plain) < room:
            line.append(Segment(" " * (room - len(plain)), around))
        if padding:
            line.append(Segment(" " * padding, around))
        return [line]

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Widen the columns for new rows: a one-style ASCII cell is as wide as its text (what Rich's
        measure answers); other rows go to DataTable. Its way renders and measures every cell through
        Rich, which for the hundred rows of a large cluster's first task took a frame of its own."""
        columns = self.ordered_columns
        others: list[RowKey] = []
        for row_key in new_rows:
            row, cells = self.rows.get(row_key), self._data.get(row_key)
            known = self._row_locations.get(row_key) is not None
            plain = [plain_cell(cells.get(c.key), sys.maxsize) for c in columns] if cells and known else []
            widths = [len(text) for text in plain if text is not None]
            odd = row is None or row.label is not None or row.auto_height
            if odd or not plain or len(widths) < len(plain):
                others.append(row_key)
                continue
            for column, width in zip(columns, widths, strict=True):
                column.content_width = max(column.content_width, width)
        super()._update_dimensions(others)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.HostChosen(str(event.row_key.value)))
