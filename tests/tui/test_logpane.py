"""The dashboard's log pane: lines wrapped once into plain rows, drawn only where they are seen, the
newest followed unless the user scrolled up, and the scrollback bounded."""

from __future__ import annotations

import gc

from textual.app import App, ComposeResult
from textual.strip import Strip

from kwizard.engine.state import RunState
from kwizard.protocol.phase import Event
from kwizard.ui.widgets.host_grid import GRID_CACHE_SIZES, HostGrid
from kwizard.ui.widgets.log_pane import LOG_PANE_LINES, PHASE_CELLS, LogPane, wrap_cells
from tests.deploy_driver import shown_log_lines


def state_with(count: int, host: str = "lab1", level: str = "ok") -> RunState:
    state = RunState()
    for index in range(count):
        state = state.apply(
            Event("log", "kubespray", host, {"level": level, "text": f"line {index}"}, time=float(index))
        )
    return state


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LogPane()


def test_words_wrap_and_a_long_word_folds() -> None:
    assert wrap_cells("alpha beta gamma", 11) == ["alpha beta", "gamma"]
    assert wrap_cells("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert wrap_cells("first\nsecond", 40) == ["first", "second"]
    assert wrap_cells("", 10) == [""]


async def test_rows_are_plain_text_until_drawn() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogPane)
        pane.show(state_with(1500), 0.0)
        await pilot.pause()
        # The pane keeps its newest lines only, each as plain strings the collector does not track.
        assert pane.row_count == LOG_PANE_LINES
        assert all(isinstance(part, str) for row in pane._rows for part in row)
        assert not any(isinstance(o, Strip) and o in pane._rows for o in gc.get_referents(pane._rows))
        # It follows the newest line: the last row on screen is the last line written.
        assert shown_log_lines(pane)[-1].endswith("line 1499")
        assert pane.scroll_offset.y == pane.max_scroll_y > 0


async def test_scrolled_up_it_stays_where_the_user_is() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogPane)
        pane.show(state_with(100), 0.0)
        await pilot.pause()
        pane.scroll_to(y=10, animate=False)
        await pilot.pause()
        pane.show(state_with(150), 0.0)
        await pilot.pause()
        assert pane.scroll_offset.y == 10
        assert pane.row_count == 150


async def test_a_narrower_pane_wraps_the_lines_again() -> None:
    app = PaneApp()
    long = "x " * 60
    state = RunState().apply(
        Event("log", "kubespray", "lab1", {"level": "error", "text": long.strip()}, time=0.0)
    )
    async with app.run_test(size=(100, 12)) as pilot:
        pane = app.query_one(LogPane)
        pane.show(state, 0.0)
        await pilot.pause()
        wide = pane.row_count
        await pilot.resize_terminal(50, 12)
        await pilot.pause()
        assert pane.row_count > wide
        rows = [strip.text for strip in pane.lines]
        assert rows[0].startswith(" kubespray x x")
        assert all(row.startswith(" " * (PHASE_CELLS + 1)) for row in rows[1:])
        assert all(len(row.rstrip()) <= 50 for row in rows)


async def test_filters_redraw_from_the_state() -> None:
    app = PaneApp()
    state = state_with(5, host="lab1")
    state = state.apply(
        Event("log", "kubespray", "lab2", {"level": "error", "text": "boom on lab2"}, time=9.0)
    )
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.query_one(LogPane)
        pane.show(state, 0.0)
        pane.set_filter(failures_only=True)
        pane.show(state, 0.0)
        await pilot.pause()
        assert [line.split(None, 1)[1] for line in shown_log_lines(pane)] == ["boom on lab2"]
        pane.set_filter()
        pane.set_search("LINE 3")
        pane.show(state, 0.0)
        await pilot.pause()
        assert [line.split(None, 1)[1] for line in shown_log_lines(pane)] == ["line 3"]


async def test_host_grid_keeps_small_render_caches() -> None:
    """DataTable keys its caches by an update counter: the grid keeps them small (GC walks them)."""

    class GridApp(App[None]):
        def compose(self) -> ComposeResult:
            yield HostGrid()

    async with GridApp().run_test() as pilot:
        grid = pilot.app.query_one(HostGrid)
        for name, size in GRID_CACHE_SIZES.items():
            assert getattr(grid, name).maxsize == size, name


async def test_it_follows_the_newest_line_through_several_writes_in_one_tick() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(LogPane)
        for count in (50, 120, 300):  # three batches before the screen refreshes once
            pane.show(state_with(count), 0.0)
        await pilot.pause()
        assert shown_log_lines(pane)[-1].endswith("line 299")
        assert pane.scroll_offset.y == pane.max_scroll_y > 0
