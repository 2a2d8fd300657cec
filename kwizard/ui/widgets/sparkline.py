"""Textual's Sparkline, drawn with the same segments at a fraction of the cost.

Textual's renderable works cell by cell: it partitions the data with `Fraction`s, and blends a color and
makes a Rich style for every cell of every row. The run dashboard's throughput chart (2 rows, the
progress pane's width) changes on every repaint when a replay or a flood compresses minutes of events
into seconds, and there it cost more than any other pane, the hosts table included. Here each bar's
summary, height and style are computed once per bar, in integers where Textual uses fractions, and the
cells are then laid out as Textual lays them out. A test compares both ways over many data series,
widths and heights: they draw the same cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual.renderables._blend_colors import blend_colors
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widgets import Sparkline as TextualSparkline

BARS = SparklineRenderable.BARS


class SparklineSegments:
    """A Rich renderable: the cells of Textual's sparkline renderable for the same arguments, in the
    segments `Segment.simplify` makes of them."""

    def __init__(
        self,
        data: Sequence[float],
        *,
        width: int,
        height: int,
        min_color: Color,
        max_color: Color,
        summary: Callable[[Sequence[float]], float] = max,
    ) -> None:
        self.data = list(data)
        self.width = width
        self.height = height or 1
        self.min_style = Style.from_color(min_color)
        self.max_style = Style.from_color(max_color)
        self.summary = summary

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.segments(self.width or options.max_width)

    def segments(self, width: int) -> list[Segment]:
        data, height = self.data, self.height
        if not data:
            return [Segment.line()] * (height - 1) + [Segment(BARS[0] * width, self.min_style)]
        if len(data) == 1:
            full = Segment(BARS[-1] * width, self.max_style)
            return [full, Segment.line()] * (height - 1) + [full]
        per_line = len(BARS)
        levels = per_line * height - 1
        minimum, maximum = min(data), max(data)
        extent = maximum - minimum or 1
        low, high = self.min_style.color, self.max_style.color
        assert low is not None and high is not None
        # Each bucket (Textual's partition of the data into `width` slices, the empty ones left out):
        # its bar height in levels and its style, computed once for all rows.
        count = len(data)
        bars: list[tuple[int, Style]] = []
        styles: dict[float, Style] = {}
        for index in range(width):
            part = data[count * index // width : count * (index + 1) // width]
            if part:
                ratio = (self.summary(part) - minimum) / extent
                style = styles.get(ratio)
                if style is None:
                    style = styles[ratio] = Style.from_color(blend_colors(low, high, ratio))
                bars.append((int(ratio * levels), style))
        # Which bucket each column shows: Textual's float walk over the buckets, step by step.
        columns: list[tuple[int, Style]] = []
        position, step = 0.0, len(bars) / width
        for _ in range(width):
            columns.append(bars[int(position)])
            position += step
        result: list[Segment] = []
        for row in reversed(range(height)):
            floor, ceiling = row * per_line, (row + 1) * per_line
            # Neighbouring cells of one style make one segment (Rich's `Segment.simplify`): the same
            # screen, and less work for Textual, which restyles each segment of a widget.
            run: list[str] = []
            run_style: Style | None = None
            for level, bar_style in columns:
                if level < floor:
                    cell, style = " ", None
                elif level >= ceiling:
                    cell, style = BARS[-1], bar_style
                else:
                    cell, style = BARS[level % per_line], bar_style
                if run and style != run_style:
                    result.append(Segment("".join(run), run_style))
                    run = []
                run.append(cell)
                run_style = style
            if run:
                result.append(Segment("".join(run), run_style))
            if row > 0:
                result.append(Segment.line())
        return result


class Sparkline(TextualSparkline):
    """Textual's Sparkline (same look, CSS and colors), rendered by `SparklineSegments`."""

    def render(self) -> SparklineSegments:
        _, base = self.background_colors
        low = base + (
            self.get_component_styles("sparkline--min-color").color
            if self.min_color is None
            else self.min_color
        )
        high = base + (
            self.get_component_styles("sparkline--max-color").color
            if self.max_color is None
            else self.max_color
        )
        return SparklineSegments(
            self.data or [],
            width=self.size.width,
            height=self.size.height,
            min_color=low.rich_color,
            max_color=high.rich_color,
            summary=self.summary_function,
        )
