"""A stand-alone app around the dashboard: `kwizard runs show RUN` (replay) and the benchmark."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header

from kwizard.ui.dashboard.feed import EventFeed
from kwizard.ui.dashboard.view import Dashboard


class DashboardApp(App[int]):
    """Shows one run. The feed is injected: a replay of an events file, or any live source."""

    TITLE = "kwizard run"
    BINDINGS: ClassVar = [Binding("q,escape", "quit", "Quit")]

    def __init__(
        self,
        feed: EventFeed,
        *,
        title: str = "",
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
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
