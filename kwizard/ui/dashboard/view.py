"""The dashboard: a RunState reduced from an injected EventFeed, rendered by its panes on a timer."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Input

from kwizard.engine.state import RunState
from kwizard.ui import gc_pacing
from kwizard.ui.dashboard.feed import EventFeed
from kwizard.ui.widgets.diagnostics_pane import DiagnosticsPane
from kwizard.ui.widgets.failure_banner import FailureBanner
from kwizard.ui.widgets.host_grid import HostGrid
from kwizard.ui.widgets.log_pane import LogPane
from kwizard.ui.widgets.phase_list import PhaseList
from kwizard.ui.widgets.run_progress import RunProgress
from kwizard.ui.widgets.slowest_tasks import SlowestTasks


class Pane(Protocol):
    def show(self, state: RunState, now: float) -> None: ...


TICK_SECONDS = 1 / 15
# However late a tick is, the event loop gets this long for the repaint and the keys before the next one.
MIN_IDLE_SECONDS = 0.005
# Time a tick may spend applying queued events before it repaints: bounds the frame time during a flood
# (keys and repaints stay responsive); what is left waits for the next tick. A tick that also repaints the
# costly panes applies less, so that its frame is no longer than the others.
APPLY_BUDGET_SECONDS = 0.02
HEAVY_APPLY_BUDGET_SECONDS = 0.008
CHUNK = 256
# During a live run (or while a backlog remains) the costly panes (host grid, log) repaint at most this
# often; counts that change 10⁴ times a second need not be redrawn more than twice a second. They come
# in two groups drawn on different ticks, so that no frame draws them all.
HEAVY_PANES_EVERY_SECONDS = 0.5
LIGHT_PANES = (PhaseList, RunProgress, FailureBanner)
HEAVY_GROUPS = ((HostGrid,), (LogPane, DiagnosticsPane, SlowestTasks))


class Dashboard(Vertical):
    """Phases, progress, hosts, log, diagnoses and slowest tasks of one run."""

    DEFAULT_CSS = """
    Dashboard { height: 1fr; }
    Dashboard #dash-top { height: auto; max-height: 14; }
    Dashboard PhaseList { width: 36; height: auto; border: round $primary; padding: 0 1; }
    Dashboard RunProgress { width: 1fr; border: round $primary; padding: 0 1; }
    Dashboard SlowestTasks { width: 44; height: auto; border: round $primary; padding: 0 1; }
    Dashboard FailureBanner { height: auto; border: heavy $error; padding: 0 1; }
    /* The host grid's and the log's scrollbars are there from the start: content outgrowing the pane
       then lays nothing out (in a flood, each of them appearing was a frame of twice the others). A
       task name wider than the grid is cut at its edge, with no horizontal scrollbar coming and going. */
    Dashboard HostGrid {
        height: 1fr; min-height: 5; border: round $primary; overflow-x: hidden; overflow-y: scroll;
    }
    Dashboard #dash-bottom { height: 1fr; min-height: 8; }
    Dashboard #log-column { width: 3fr; }
    Dashboard LogPane { height: 1fr; border: round $primary; overflow-y: scroll; }
    Dashboard #log-search { display: none; }
    Dashboard #log-search.-open { display: block; }
    Dashboard DiagnosticsPane { width: 2fr; height: 1fr; border: round $warning; padding: 0 1; }
    /* Under 100 columns (the screen's -narrow) the panels stack instead of shrinking: phases and
       progress side by side, then the slowest tasks, the hosts, the log and the diagnoses, each full
       width. The screen holding the dashboard says how it scrolls. */
    .-narrow Dashboard #dash-top {
        layout: grid; grid-size: 2; grid-columns: 1fr 1fr; grid-rows: auto; height: auto; max-height: 40;
    }
    .-narrow Dashboard PhaseList { width: 1fr; }
    .-narrow Dashboard SlowestTasks { width: 1fr; column-span: 2; }
    .-narrow Dashboard HostGrid { height: auto; max-height: 12; }
    .-narrow Dashboard #dash-bottom { layout: vertical; height: auto; }
    .-narrow Dashboard LogPane { width: 1fr; height: 14; }
    .-narrow Dashboard DiagnosticsPane { width: 1fr; height: auto; }
    """
    SCOPED_CSS = False  # the narrow rules depend on the screen's class

    BINDINGS: ClassVar = [
        Binding("a", "log_all", "Log: all"),
        Binding("f", "log_failures", "Log: failures"),
        Binding("h", "log_host", "Log: host"),
        Binding("slash", "log_search", "Search log"),
        Binding("escape", "close_search", "Close search", show=False),
    ]

    def __init__(
        self,
        feed: EventFeed,
        *,
        clock: Callable[[], float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.feed = feed
        self.state = RunState()
        # Live runs use the wall clock for elapsed/ETA; replays and snapshots the last event's time.
        self.clock = clock
        self.ticks = 0
        # The longest time between two ticks once the screen is shown, and how long the first paint of
        # the screen took (from mount: styles, layout and every pane drawn once — start-up, not a gap
        # between two frames, so it is kept apart).
        self.worst_gap = 0.0
        self.first_paint = 0.0
        self._mounted = 0.0
        self._painted = False
        self._last_tick = 0.0
        self._last_heavy = [0.0] * len(HEAVY_GROUPS)  # when each group of costly panes was drawn
        self._partial = False  # the last frame left costly panes behind the state
        self._drew_heavy = False  # the last frame drew costly panes

    def compose(self) -> ComposeResult:
        with Horizontal(id="dash-top"):
            yield PhaseList(id="phases")
            yield RunProgress(id="progress")
            yield SlowestTasks(id="slowest")
        yield FailureBanner(id="failure-banner")
        yield HostGrid(id="hosts")
        with Horizontal(id="dash-bottom"):
            with Vertical(id="log-column"):
                yield Input(placeholder="Search the log (Enter keeps it, Escape clears it)", id="log-search")
                yield LogPane(id="log")
            yield DiagnosticsPane(id="diagnostics")

    def on_mount(self) -> None:
        self.query_one("#phases").border_title = "Phases"
        self.query_one("#progress").border_title = "Progress"
        self.query_one("#hosts").border_title = "Hosts"
        self.query_one("#diagnostics").border_title = "Diagnostics"
        self.query_one("#slowest").border_title = "Slowest tasks"
        self.query_one(LogPane).set_filter()
        self._mounted = time.perf_counter()
        self.refresh_from_feed()
        self.call_after_refresh(self._shown)
        self.set_timer(TICK_SECONDS, self._tick, name="dashboard tick")
        # What exists now (modules, classes, widgets) lives as long as the app: keep it out of the
        # collector's full passes, which otherwise walk it again and again during a flood of events.
        gc.freeze()
        # And run those passes between frames (see gc_pacing).
        gc_pacing.pace()

    def on_unmount(self) -> None:
        self.feed.release()
        gc_pacing.unpace()

    def _tick(self) -> None:
        """A tick every TICK_SECONDS, or as soon as the previous frame's work allows.

        Each tick sets the timer for the next. Not `set_interval`: its timer, finding a tick late, waits
        for the tick after the next one, so a frame of 70 ms work at 15 ticks/s became a 200 ms gap
        between frames. (Nor a worker looping forever: `workers.wait_for_complete()` would never return.)
        """
        # The producers wait while this frame is made and drawn (see EventFeed.hold).
        self.feed.hold()
        self.refresh_from_feed()
        self.call_after_refresh(self.feed.release)
        if gc_pacing.due() and not self._drew_heavy:
            # A full collection once this (light) frame is on the screen, in the time left before the next.
            self.call_after_refresh(gc_pacing.collect)
        due = self._last_tick + TICK_SECONDS - time.perf_counter()
        self.set_timer(max(MIN_IDLE_SECONDS, due), self._tick, name="dashboard tick")

    def _shown(self) -> None:
        self._painted = True
        self._last_tick = time.perf_counter()  # frame gaps count from the first frame shown
        self.first_paint = self._last_tick - self._mounted

    def now(self) -> float:
        return self.clock() if self.clock is not None else self.state.now

    def refresh_from_feed(self) -> None:
        """Apply queued events to the state and repaint once (called by the timer, and by tests)."""
        started = time.perf_counter()
        if self._last_tick and self._painted:
            self.worst_gap = max(self.worst_gap, started - self._last_tick)
        self._last_tick = started
        self.ticks += 1
        self._drew_heavy = False
        state, applied = self.state, 0
        # The costly group drawn longest ago, if it is due.
        group = min(range(len(HEAVY_GROUPS)), key=self._last_heavy.__getitem__)
        due = started - self._last_heavy[group] >= HEAVY_PANES_EVERY_SECONDS
        budget = HEAVY_APPLY_BUDGET_SECONDS if due else APPLY_BUDGET_SECONDS
        while True:
            events = self.feed.drain(CHUNK)
            state = state.apply_all(events)
            applied += len(events)
            if len(events) < CHUNK or time.perf_counter() - started > budget:
                break
        if applied or self.clock is not None or self.ticks == 1 or self._partial:
            self.state = state
            # A trickle is shown at once everywhere; in a flood the costly panes wait their turn, and
            # the first tick after it draws them all.
            self._partial = applied >= CHUNK or len(self.feed) > 0
            if self._partial:
                self.render_state(heavy=False, group=group if due else None)
            else:
                self.render_state()

    def render_state(self, heavy: bool = True, group: int | None = None) -> None:
        """Show the state on the light panes, and on the costly ones (`heavy`) or one group of them."""
        state, now = self.state, self.now()
        groups = range(len(HEAVY_GROUPS)) if heavy else () if group is None else (group,)
        self._drew_heavy = bool(groups)
        panes: list[type[Widget]] = list(LIGHT_PANES)
        for index in groups:
            self._last_heavy[index] = time.perf_counter()
            panes.extend(HEAVY_GROUPS[index])
        with self.app.batch_update():
            for pane in panes:
                cast(Pane, self.query_one(pane)).show(state, now)

    def reset(self) -> None:
        """Forget everything shown (a new run starts on this dashboard)."""
        self.feed.clear()
        self.state = RunState()
        self.query_one(HostGrid).reset()
        log = self.query_one(LogPane)
        log.set_filter()
        log.set_search("")
        self.render_state()

    def drain_all(self) -> None:
        """Apply everything queued now and show it on every pane (replays, the end of a run, tests)."""
        while len(self.feed):
            self.refresh_from_feed()
        self.render_state()

    def on_host_grid_host_chosen(self, message: HostGrid.HostChosen) -> None:
        self.query_one(LogPane).set_filter(host=message.host)
        self.render_state()

    def action_log_all(self) -> None:
        self.query_one(LogPane).set_filter()
        self.render_state()

    def action_log_failures(self) -> None:
        self.query_one(LogPane).set_filter(failures_only=True)
        self.render_state()

    def action_log_host(self) -> None:
        """Only the lines of the host under the host grid's cursor (what Enter does in the grid)."""
        grid = self.query_one(HostGrid)
        if grid.row_count:
            row_key, _ = grid.coordinate_to_cell_key(grid.cursor_coordinate)
            if row_key.value:
                self.on_host_grid_host_chosen(HostGrid.HostChosen(str(row_key.value)))

    def action_log_search(self) -> None:
        search = self.query_one("#log-search", Input)
        search.add_class("-open")
        search.focus()

    def action_close_search(self) -> None:
        search = self.query_one("#log-search", Input)
        if search.has_class("-open"):
            search.value = ""  # Input.Changed clears the search
            search.remove_class("-open")
            self.query_one(HostGrid).focus()

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_one(LogPane).set_search(event.value)
        self.render_state()

    @on(Input.Submitted, "#log-search")
    def _search_kept(self, event: Input.Submitted) -> None:
        # The search stays on (the pane's title says so); the keys go back to the dashboard.
        self.query_one(HostGrid).focus()
