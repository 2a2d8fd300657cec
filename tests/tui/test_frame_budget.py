"""What kept the dashboard from its frame budget in a flood: cyclic screen lines, footer rebuilds,
layouts as the log grew, every costly pane drawn in the same frame, full collections inside frames,
the producing thread sharing the interpreter during a frame, panes moving as the first events came.

bench/events measures the frame gaps themselves; these tests pin the causes, on real Textual objects.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from kwizard.engine.journal import read_events
from kwizard.protocol.events import EventKind
from kwizard.protocol.phase import Event
from kwizard.ui import gc_pacing, strip_cycles
from kwizard.ui.dashboard import EventFeed, replay_feed, view
from kwizard.ui.dashboard import feed as feed_module
from kwizard.ui.dashboard.app import DashboardApp
from kwizard.ui.widgets.failure_banner import FailureBanner
from kwizard.ui.widgets.footer import Footer
from kwizard.ui.widgets.host_grid import HostGrid
from kwizard.ui.widgets.log_pane import LogPane
from kwizard.ui.widgets.run_progress import RunProgress

RECORDING = Path(__file__).parent.parent / "fixtures" / "events" / "lab-failed-run.jsonl"


def layouts_asked(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """From now on, how many times each kind of widget asks for a layout of the screen."""
    asked: Counter[str] = Counter()
    real = Widget.refresh

    def counted(self: Widget, *regions: Any, layout: bool = False, **kwargs: Any) -> Widget:
        if layout:
            asked[type(self).__name__] += 1
        return real(self, *regions, layout=layout, **kwargs)

    monkeypatch.setattr(Widget, "refresh", counted)
    return asked


def left_for_the_collector(make: object) -> int:
    """Objects only the cyclic garbage collector frees after `make()`'s strips are dropped."""
    gc.collect()
    gc.disable()
    try:
        make()  # type: ignore[operator]
        return gc.collect()
    finally:
        gc.enable()


def test_whole_strip_divide_and_crop_extend_leave_no_cycle_and_answer_as_textual() -> None:
    strip_cycles.apply()
    style = Style(bold=True)

    def whole() -> None:
        strip = Strip([Segment("abc", style), Segment("de")], 5)
        assert strip.divide([5]) == [strip] and strip.divide([5, 9]) == [strip]
        assert strip.crop_extend(0, 5, None) is strip

    def parts() -> None:  # the other answers still come from Textual, cached as before
        strip = Strip([Segment("abc", style), Segment("de")], 5)
        assert [s.text for s in strip.divide([2, 5])] == ["ab", "cde"]
        assert strip.crop_extend(1, 7, None).text == "bcde  "

    assert left_for_the_collector(whole) == 0
    assert left_for_the_collector(parts) == 0


async def test_the_footer_is_rebuilt_once_for_a_burst_of_binding_changes_and_not_for_the_same() -> None:
    app = DashboardApp(replay_feed(RECORDING))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        footer = app.query_one(Footer)
        rebuilt: list[int] = []
        real_recompose = footer.recompose

        async def counted() -> None:
            rebuilt.append(1)
            await real_recompose()

        footer.recompose = counted  # type: ignore[method-assign]
        keys_before = [key.key for key in footer.query("FooterKey")]
        for _ in range(3):  # what start-up does: the stack, the focus, then idle, each says "updated"
            footer.bindings_changed(app.screen)
        await pilot.pause()
        assert rebuilt == []  # the same bindings: nothing to rebuild
        app.dashboard.query_one("#log-search").display = True
        app.dashboard.query_one("#log-search").focus()  # an Input: other bindings than the host grid's
        await pilot.pause()
        await pilot.pause()
        assert rebuilt == [1]
        assert [key.key for key in footer.query("FooterKey")] != keys_before


async def test_frame_gaps_count_from_the_first_frame_shown() -> None:
    app = DashboardApp(replay_feed(RECORDING))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dashboard = app.dashboard
        assert dashboard.first_paint > 0  # the start-up paint is measured, apart from the frame gaps
        await pilot.pause(0.3)
        assert 0 < dashboard.worst_gap < 5


async def test_panes_ask_for_a_new_layout_only_when_their_height_may_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each tick rewrites the progress labels, the phase list and the failure banner; a layout of the
    whole screen is asked for only when a pane's height may change (each of them asked on every tick:
    banner 72, labels 113, phase list 36 times over this recording's 42 ticks). The log's height in rows
    is its own (a scroll view's virtual size): assigning it laid the screen out for every batch of lines,
    and its scrollbar appearing once more; now nothing does."""
    events = list(read_events(RECORDING))
    feed = EventFeed()
    app = DashboardApp(feed)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        asked = layouts_asked(monkeypatch)
        ticks = 0
        for start in range(0, len(events), 3):
            feed.extend(events[start : start + 3])
            app.dashboard.refresh_from_feed()
            app.dashboard.render_state()
            await pilot.pause()
            ticks += 1
        assert ticks >= 40 and app.dashboard.state.status == "failed"
        assert app.query_one(FailureBanner).display  # shown, and its text follows the failures
        assert asked["FailureBanner"] <= 8 and asked["Label"] <= 6 and asked["PhaseList"] <= 2, asked
        pane = app.query_one(LogPane)
        assert pane.virtual_size.height == pane.row_count > pane.size.height  # it scrolls
        assert pane.scroll_offset.y == pane.max_scroll_y  # and follows the newest line
        # Their scrollbars are there from the start: their content outgrowing them lays nothing out.
        assert asked["LogPane"] == 0 and asked["HostGrid"] == 0, asked


async def test_the_progress_pane_keeps_its_height_as_its_lines_come_and_go() -> None:
    """The phase bar and the artifacts line show and hide with the phases; the pane stays as high, so
    the panes below it do not move (which redrew all of them, at the run's first events)."""

    def event(kind: EventKind, phase: str = "", **data: Any) -> Event:
        return Event(kind, phase, None, data, 1000.0)

    events = [
        event(EventKind.RUN_START, run_id="r", cluster="c", phases=["cluster", "apps"]),
        event(EventKind.PHASE_START, "cluster", title="Kubespray", tasks_total=3),  # a bar
        event(EventKind.LOG, "cluster", text="runner", artifacts="/runs/r/cluster/artifacts/1"),
        event(EventKind.TASK_START, "cluster", task="t1"),
        event(EventKind.PHASE_END, "cluster", status="ok"),
        event(EventKind.PHASE_START, "apps", title="Apps"),  # no total: no bar
        event(EventKind.TASK_START, "apps", task="t2"),
        event(EventKind.PHASE_END, "apps", status="ok"),
        event(EventKind.RUN_END, status="ok"),
    ]
    feed = EventFeed()
    app = DashboardApp(feed)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        progress = app.query_one(RunProgress)
        bar, artifacts = progress.query_one("#phase-bar"), progress.query_one("#artifacts-label")
        heights, shown = set(), set()
        for one in events:
            feed.put(one)
            app.dashboard.refresh_from_feed()
            await pilot.pause()
            heights.add((progress.outer_size.height, app.query_one("#dash-top").outer_size.height))
            shown.add((bar.display, artifacts.display))
        assert shown >= {(False, False), (True, True), (False, True)}, shown  # they came and went
        assert heights == {(12, 12)}, heights


def test_a_producer_waits_while_the_feed_is_held_and_goes_on_once_released() -> None:
    feed = EventFeed()
    event = next(iter(read_events(RECORDING)))
    feed.hold()
    producer = threading.Thread(target=feed.put, args=(event,), daemon=True)
    producer.start()
    producer.join(0.1)
    assert producer.is_alive() and len(feed) == 0  # waiting for the frame
    feed.put(event)  # the UI's own thread never waits
    assert len(feed) == 1
    feed.release()
    producer.join(5)
    assert not producer.is_alive() and len(feed) == 2


def test_a_hold_never_released_ends_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed_module, "HOLD_LIMIT", 0.2)
    feed = EventFeed()
    events = list(read_events(RECORDING))[:50]
    feed.hold()
    started = time.monotonic()
    producer = threading.Thread(target=lambda: [feed.put(event) for event in events], daemon=True)
    producer.start()
    producer.join(5)
    waited = time.monotonic() - started
    assert not producer.is_alive() and len(feed) == len(events)
    assert 0.15 <= waited < 2  # the limit once, not once per event


async def test_the_dashboard_holds_its_feed_only_while_it_draws_a_frame() -> None:
    """A producing thread (the engine) feeds a live dashboard: every hold of a tick is released once its
    frame is drawn, and everything sent arrives."""
    events = list(read_events(RECORDING))
    feed = EventFeed()
    holds: list[str] = []
    real_hold, real_release = feed.hold, feed.release
    feed.hold = lambda: (holds.append("hold"), real_hold())[-1]  # type: ignore[method-assign]
    feed.release = lambda: (holds.append("release"), real_release())[-1]  # type: ignore[method-assign]
    app = DashboardApp(feed)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        producer = threading.Thread(target=lambda: [feed.put(event) for event in events * 20], daemon=True)
        producer.start()
        for _ in range(500):
            if not producer.is_alive() and not len(feed):
                break
            await pilot.pause(0.02)
        await pilot.pause(0.2)
        assert not producer.is_alive() and app.dashboard.state.events == len(events) * 20
        ticks = holds.count("hold")
        assert ticks >= 3 and holds.count("release") >= ticks - 1, holds


async def test_in_a_flood_a_frame_draws_at_most_one_group_of_costly_panes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = list(read_events(RECORDING))
    feed = EventFeed()
    app = DashboardApp(feed)
    drawn: list[str] = []
    for pane in (HostGrid, LogPane):
        real_show = pane.show

        def show(self: Any, state: Any, now: float, _real: Any = real_show) -> None:
            drawn.append(type(self).__name__)
            _real(self, state, now)

        monkeypatch.setattr(pane, "show", show)
    monkeypatch.setattr(view, "HEAVY_PANES_EVERY_SECONDS", 0.0)  # a costly group is due on every tick
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        for _ in range(400):
            feed.extend(events)  # a backlog far beyond one tick's work
        per_tick: list[list[str]] = []
        while len(feed):
            drawn.clear()
            app.dashboard.refresh_from_feed()
            per_tick.append(list(drawn))
        *busy, last = per_tick
        assert busy and all(len(names) <= 1 for names in busy), per_tick
        assert {"HostGrid", "LogPane"} <= {name for names in busy for name in names}
        drawn.clear()
        app.dashboard.refresh_from_feed()
        # The tick that emptied the feed drew everything, or (if it still took a full batch) the next.
        assert sorted(last if len(last) > 1 else drawn) == ["HostGrid", "LogPane"]
        drawn.clear()
        app.dashboard.refresh_from_feed()  # and then nothing until something happens
        assert drawn == []


async def test_in_a_flood_full_collections_run_between_frames_and_python_takes_over_after() -> None:
    """Python's full passes came with whatever allocated next, often the longest frame's work; while a
    dashboard shows a run they run after a light frame is on the screen, and only there."""
    events = list(read_events(RECORDING))
    feed = EventFeed()
    app = DashboardApp(feed)
    before = gc.get_threshold()
    full: list[bool] = []  # for each full collection: was it the dashboard's, between two frames?
    between = [False]
    real_collect = gc_pacing.collect

    def paced() -> None:
        between[0] = True
        try:
            real_collect()
        finally:
            between[0] = False

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(between[0])

    gc.callbacks.append(seen)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(gc_pacing, "collect", paced)
            async with app.run_test(size=(160, 50)) as pilot:
                await pilot.pause()
                assert gc.get_threshold()[2] == gc_pacing.BACKSTOP
                for _ in range(300):
                    feed.extend(events)
                for _ in range(2000):  # the dashboard's own ticks drain it
                    if not len(feed):
                        break
                    await pilot.pause(0.02)
                assert not len(feed)
                await pilot.pause(0.2)
    finally:
        gc.callbacks.remove(seen)
    assert full and all(full), full
    assert gc.get_threshold() == before  # Python's own trigger again once the dashboard is gone
