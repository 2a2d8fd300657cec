"""The throughput chart's sparkline draws the cells Textual's Sparkline draws, for less."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.color import Color
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.widgets import Sparkline as TextualSparkline

from kwizard.ui.widgets.sparkline import Sparkline, SparklineSegments

LOW, HIGH = Color.from_rgb(10, 40, 90), Color.from_rgb(200, 120, 30)
CONSOLE = Console(width=200)
Summary = Callable[[Sequence[float]], float]


def textual_segments(data: list[float], width: int, height: int, summary: Summary = max) -> list[Segment]:
    renderable = SparklineRenderable(
        data, width=width, height=height, min_color=LOW, max_color=HIGH, summary_function=summary
    )
    return list(renderable.__rich_console__(CONSOLE, CONSOLE.options))


def our_segments(data: list[float], width: int, height: int, summary: Summary = max) -> list[Segment]:
    renderable = SparklineSegments(
        data, width=width, height=height, min_color=LOW, max_color=HIGH, summary=summary
    )
    return list(renderable.__rich_console__(CONSOLE, CONSOLE.options))


def cells(segments: Iterable[Segment]) -> list[list[tuple[str, Style | None]]]:
    """Each line's cells: character and style (ours come in fewer segments: a run of one style is one)."""
    return [
        [(char, style) for text, style, _ in line for char in text] for line in Segment.split_lines(segments)
    ]


numbers = st.one_of(
    st.integers(min_value=0, max_value=50_000),
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=400, deadline=None)
@given(
    data=st.lists(numbers, max_size=130),
    width=st.integers(min_value=1, max_value=160),
    height=st.integers(min_value=1, max_value=4),
)
def test_the_same_segments_as_textual(data: list[float], width: int, height: int) -> None:
    assert cells(our_segments(data, width, height)) == cells(textual_segments(data, width, height))


def test_the_same_segments_for_a_run_shaped_series_and_another_summary() -> None:
    # Events per second of a run: a ramp, a plateau with dips, a tail (60 seconds in 1 to 150 columns).
    series = [min(second * 700, 9_000) - (1_500 if second % 7 == 0 else 0) for second in range(60)]
    for width in (1, 2, 7, 59, 60, 61, 97, 150):
        for height in (1, 2, 3):
            ours, textual = our_segments(series, width, height), textual_segments(series, width, height)
            assert cells(ours) == cells(textual)
            if width > 60:  # columns showing one second share its style: one segment for them
                assert len(ours) < len(textual)

            def mean(part: list[float]) -> float:
                return sum(part) / len(part)

            ours, textual = (
                our_segments(series, width, height, mean),
                textual_segments(series, width, height, mean),
            )
            assert cells(ours) == cells(textual)


class Charts(App[None]):
    CSS = "Sparkline { height: 2; }"

    def compose(self) -> ComposeResult:
        yield TextualSparkline([3, 9, 4, 0, 12, 7, 7, 1], id="textual")
        yield Sparkline([3, 9, 4, 0, 12, 7, 7, 1], id="ours")


async def test_the_widget_draws_the_lines_of_textuals_widget() -> None:
    async with Charts().run_test(size=(53, 6)) as pilot:
        textual, ours = pilot.app.query_one("#textual"), pilot.app.query_one("#ours")
        for data in ([3, 9, 4, 0, 12, 7, 7, 1], [], [5], list(range(90))):
            textual.data = ours.data = data
            await pilot.pause()
            size = textual.size
            assert ours.size == size and size.height == 2
            for y in range(size.height):
                ours_line, textual_line = ours.render_line(y), textual.render_line(y)
                assert ours_line.cell_length == textual_line.cell_length
                assert ours_line.cell_length == size.width or (not data and y == 0)  # Textual's blank line
                assert cells(ours_line) == cells(textual_line)
