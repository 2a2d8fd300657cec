"""A stand-alone app around the dashboard: `kwizard runs show RUN` (replay) and the benchmark."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Header

from kwizard.ui import strip_cycles
from kwizard.ui.dashboard.feed import EventFeed
from kwizard.ui.dashboard.view import Dashboard
from kwizard.ui.widgets.footer import Footer


class DashboardApp(App[int]):
    """Shows one run. The feed is injected: a replay of an events file, or any live source."""

    TITLE = "kwizard run"
    BINDINGS: ClassVar = [Binding("q,escape", "quit", "Quit")]
    # As in the wizard: under 100 columns the dashboard stacks its panels and the screen scrolls.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    CSS = """
    Screen.-narrow { overflow-y: auto; }
    Screen.-narrow Dashboard { height: auto; min-height: 0; }
    """

    def __init__(
        self,
        feed: EventFeed,
        *,
        title: str = "",
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        strip_cycles.apply()
        self.feed = feed
        self.clock = clock
        if title:
            self.sub_title = title

    def compose(self) -> ComposeResult:
        yield Header()
        yield Dashboard(self.feed, clock=self.clock)
        yield Footer()

    @property
    def dashboard(self) -> Dashboard:
        return self.query_one(Dashboard)
