"""The dashboard's log pane: the newest log lines, wrapped to the pane, drawn only where they are seen.

A Kubespray run writes thousands of lines a minute. Rendering each one into rich segments as it arrives
(what RichLog does) cost up to a quarter of a second per tick in a flood, and the rendered strips, each
with its own caches, were what every full garbage collection then walked. Here a line is wrapped once
into plain strings (which the collector does not track) and a row becomes a strip only when it is on
screen.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kwizard.engine.logring import LogLine
from kwizard.engine.state import RunState

# Lines the pane keeps; the state's ring keeps ~2000, so a filter still finds a host's older lines.
LOG_PANE_LINES = 500
PHASE_CELLS = 10  # the phase column, right-aligned; the message starts one cell after it
LEVEL_STYLE = {"error": "red", "warning": "yellow", "changed": "dark_orange", "ok": "green", "info": ""}
_STYLES = {level: Style.parse(style) if style else Style() for level, style in LEVEL_STYLE.items()}
_DIM = Style(dim=True)

Row = tuple[str, str, str]  # (the phase column's text or "" on a continuation row, message part, level)


def wrap_cells(text: str, width: int) -> list[str]:
    """`text` in rows of at most `width` cells: broken between words, a longer word folded."""
    width = max(width, 1)
    rows: list[str] = []
    for paragraph in text.expandtabs(4).splitlines() or [""]:
        row = ""
        for word in paragraph.split(" "):
            candidate = f"{row} {word}" if row else word
            if cell_len(candidate) <= width:
                row = candidate
                continue
            if row:
                rows.append(row)
            pieces = chop_cells(word, width) if cell_len(word) > width else [word]
            rows.extend(pieces[:-1])
            row = pieces[-1]
        rows.append(row)
    return rows


def phase_cell(phase: str) -> str:
    if cell_len(phase) > PHASE_CELLS:
        phase = chop_cells(phase, PHASE_CELLS - 1)[0] + "…"
    return phase.rjust(PHASE_CELLS)


def rows_of(line: LogLine, message_width: int) -> list[Row]:
    """A log line's rows: the phase on the first, the message wrapped to `message_width` cells."""
    parts = wrap_cells(line.text, message_width)
    return [
        (phase_cell(line.phase) if index == 0 else "", part, line.level) for index, part in enumerate(parts)
    ]


def row_text(row: Row) -> str:
    return f"{row[0] or ' ' * PHASE_CELLS} {row[1]}"


class LogPane(ScrollView, can_focus=True):
    """The newest log lines, wrapped to the pane, optionally only one host's, only failures, or only
    the lines holding a search text. Follows the newest line unless the user scrolled up."""

    DEFAULT_CSS = """
    LogPane { overflow-x: hidden; overflow-y: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host_filter: str | None = None
        self.failures_only = False
        self.search = ""
        self._total = 0
        self._redraw = True
        self._state: RunState | None = None
        self._kept: deque[LogLine] = deque(maxlen=LOG_PANE_LINES)
        self._heights: deque[int] = deque()
        self._rows: list[Row] = []
        self._width = 0
        self._to_end_pending = False

    # -- what is shown ------------------------------------------------------------------------------
    def set_filter(self, host: str | None = None, failures_only: bool = False) -> None:
        self.host_filter, self.failures_only, self._redraw = host, failures_only, True
        self._title()

    def set_search(self, text: str) -> None:
        """Show only the lines holding `text` (any case); "" shows every line again."""
        self.search, self._redraw = text.strip(), True
        self._title()

    def _title(self) -> None:
        host = self.host_filter
        what = f"host {host}" if host else "failures" if self.failures_only else "all"
        if self.search:
            what += f", matching {self.search!r}"
        self.border_title = f"Log ({what}) · /: search · a: all · f: failures · h: host under cursor"

    def _keep(self, line: LogLine) -> bool:
        if self.failures_only and line.level != "error":
            return False
        if self.host_filter and line.host != self.host_filter:
            return False
        return not self.search or self.search.casefold() in line.text.casefold()

    def show(self, state: RunState, now: float) -> None:
        self._state = state
        ring = state.log
        if self._redraw:
            self._redraw = False
            self._kept.clear()
            self._heights.clear()
            self._rows = []
            lines = ring.lines()
        elif ring.total == self._total:
            return
        else:
            lines = ring.newest(min(ring.total - self._total, LOG_PANE_LINES))
        self._total = ring.total
        self._append([line for line in lines if self._keep(line)])

    def on_resize(self, event: Resize) -> None:
        # Rows are wrapped at the width they were made for: make them again for the new width.
        if self._message_width() != self._width:
            lines = list(self._kept)
            self._kept.clear()
            self._heights.clear()
            self._rows = []
            self._append(lines, follow=True)

    # -- rows ---------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def lines(self) -> list[Strip]:
        """Every row as it is drawn (tests and copy read them; drawing itself renders only what is seen)."""
        width = self.scrollable_content_region.width or PHASE_CELLS + 1 + self._width
        return [self._strip(row, width) for row in self._rows]

    def _message_width(self) -> int:
        return max(self.scrollable_content_region.width - PHASE_CELLS - 1, 1)

    def _append(self, lines: list[LogLine], follow: bool | None = None) -> None:
        if not lines:
            self._size_changed(follow)
            return
        width = self._width = self._message_width()
        for line in lines[-LOG_PANE_LINES:]:
            if len(self._kept) == LOG_PANE_LINES:
                del self._rows[: self._heights.popleft()]
            self._kept.append(line)
            rows = rows_of(line, width)
            self._heights.append(len(rows))
            self._rows.extend(rows)
        self._size_changed(follow)

    def _size_changed(self, follow: bool | None) -> None:
        at_end = self._to_end_pending or self.is_vertical_scroll_end if follow is None else follow
        size = Size(self.scrollable_content_region.width, len(self._rows))
        if size != self.virtual_size:
            # Only the scrollbars depend on it (they lay the screen out again if one appears or goes):
            # assigning it would lay out the whole screen on every batch of lines (~60 ms at 160x50).
            self.set_reactive(LogPane.virtual_size, size)
            self._scroll_update(size)
        if at_end and not self._to_end_pending:
            # After the refresh: only then does the pane know it can scroll that far.
            self._to_end_pending = True
            self.call_after_refresh(self._to_end)
        self.refresh()

    def _to_end(self) -> None:
        self._to_end_pending = False
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def _strip(self, row: Row, width: int) -> Strip:
        phase, text, level = row
        base = self.rich_style
        segments = [
            Segment(f"{phase or ' ' * PHASE_CELLS} ", base + _DIM),
            Segment(text, base + _STYLES.get(level, _STYLES["info"])),
        ]
        return Strip(segments).crop_extend(0, width, base)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        return self._strip(self._rows[index], width)
