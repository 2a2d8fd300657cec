"""The dashboard's host grid draws its cells itself: exactly the segments DataTable would draw."""

from __future__ import annotations

import random
import string
from collections.abc import Iterable

from rich.style import Style
from rich.text import Span, Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from kwizard.engine.state import HostView
from kwizard.ui.widgets.host_grid import HostGrid, plain_cell


class GridApp(App[None]):
    def compose(self) -> ComposeResult:
        yield HostGrid()


def test_only_one_style_ascii_cells_take_the_short_way() -> None:
    assert plain_cell(Text("node001", style="bold red"), 20) == "node001"
    assert plain_cell(Text("a long task name"), 6) == "a long"  # cut at its end, as Rich does
    assert plain_cell(Text("über"), 20) is None  # not ASCII: Rich measures it
    assert plain_cell(Text("tab\there"), 20) is None
    assert plain_cell(Text("trailing "), 20) is None
    assert plain_cell(Text.assemble(("a", "red"), ("b", "green")), 20) is None  # spans
    assert plain_cell(Text("right", justify="right"), 20) is None
    assert plain_cell("a str", 20) is None


async def test_cells_are_drawn_as_datatable_draws_them() -> None:
    rng = random.Random(3)
    alphabet = string.ascii_letters + string.digits + "   :/-_.()[]'\""
    async with GridApp().run_test(size=(120, 30)) as pilot:
        grid = pilot.app.query_one(HostGrid)
        for index in range(12):
            task = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            view = HostView(
                ok=rng.randint(0, 2000),
                changed=rng.randint(0, 3),
                failed=rng.randint(0, 1),
                unreachable=rng.randint(0, 1),
                task=task if index else "",  # one empty task: Rich keeps an empty segment
                last=rng.choice(["ok", "failed", "unreachable"]),
            )
            cells = [HostGrid.cell(cell) for cell in HostGrid.cell_texts(f"n{index:03d}", view)]
            grid.add_row(*cells, key=f"n{index:03d}")
        grid.add_row(*(Text(t) for t in ("wide-ü", "1", "2", "3", "4", "5", "日本語のタスク")), key="wide")
        await pilot.pause()
        compared = 0
        for row in range(grid.row_count):
            for column in range(len(HostGrid.COLUMNS)):
                for width in (3, 6, 9, 25, 40):
                    for cursor, hover in ((False, False), (True, False), (False, True)):
                        for base in (Style(), Style(bgcolor="black"), Style(color="red", bold=True)):
                            grid._cell_render_cache.clear()
                            ours = grid._render_cell(row, column, base, width, cursor, hover)
                            grid._cell_render_cache.clear()
                            theirs = DataTable._render_cell(grid, row, column, base, width, cursor, hover)
                            assert ours == theirs, (row, column, width, cursor, hover, base)
                            compared += 1
        assert compared == 13 * 7 * 5 * 3 * 3


class Measured(HostGrid):
    """A host grid that leaves the measuring of new rows to DataTable."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        DataTable._update_dimensions(self, new_rows)


class TwoGrids(App[None]):
    def compose(self) -> ComposeResult:
        yield HostGrid(id="ours")
        yield Measured(id="datatable")


async def test_new_rows_widen_the_columns_as_datatable_measures_them() -> None:
    rng = random.Random(5)
    alphabet = string.ascii_letters + string.digits + " :/-_.()[]'\""
    async with TwoGrids().run_test(size=(160, 40)) as pilot:
        grids = [pilot.app.query_one("#ours", HostGrid), pilot.app.query_one("#datatable", HostGrid)]
        odd = [
            Text("wide-ü"),  # not ASCII: Rich measures it
            Text("日本語のタスク"),
            Text("two\nlines"),
            Text("spans", spans=[Span(0, 2, "red")]),
            Text("trailing   "),
            Text(""),
            "a str",
        ]
        for batch in range(6):
            for index in range(batch * 10, batch * 10 + 10):
                cells = [
                    Text("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))) for _ in range(7)
                ]
                if index % 4 == 0:  # now and then a row that DataTable measures in either grid
                    cells[rng.randrange(7)] = rng.choice(odd)
                for grid in grids:
                    grid.add_row(*cells, key=f"h{index:03d}")
            await pilot.pause()
            ours, theirs = ([column.content_width for column in grid.ordered_columns] for grid in grids)
            assert ours == theirs
            assert grids[0].virtual_size == grids[1].virtual_size
        assert grids[0].row_count == 60 and max(ours) > 30
