"""The run dashboard, fed recorded events of a real lab run through the same feed a live run uses.

The recording (tests/fixtures/events/lab-failed-run.jsonl) is the events file of the Kubespray-shaped
fixture playbook run on the lab with lab2's injected failure and an unreachable lab6.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from kwizard.engine.journal import read_events
from kwizard.engine.logring import LogLine
from kwizard.ui.dashboard import EventFeed, replay_feed
from kwizard.ui.dashboard.app import DashboardApp
from kwizard.ui.widgets.failure_banner import FailureBanner
from kwizard.ui.widgets.host_grid import HostGrid
from kwizard.ui.widgets.log_pane import PHASE_CELLS, LogPane, row_text, rows_of
from kwizard.ui.widgets.phase_list import PhaseList
from kwizard.ui.widgets.run_progress import RunProgress
from tests.deploy_driver import shown_log_lines

RECORDING = Path(__file__).parent.parent / "fixtures" / "events" / "lab-failed-run.jsonl"


def partial_feed(count: int) -> EventFeed:
    """The first `count` events of the recording: the dashboard of a run still going."""
    feed = EventFeed()
    feed.extend(list(read_events(RECORDING))[:count])
    return feed


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def log_lines(app: DashboardApp) -> list[str]:
    return shown_log_lines(app.query_one(LogPane))


async def test_failed_run_shows_the_failing_host_and_task() -> None:
    app = DashboardApp(replay_feed(RECORDING))
    async with app.run_test(size=(120, 40)) as pilot:
        app.dashboard.drain_all()
        await pilot.pause()
        state = app.dashboard.state
        assert state.status == "failed"
        banner = app.query_one(FailureBanner)
        assert banner.display
        shown = text_of(banner).replace("\n", " ")
        assert (
            "lab2 failed at 'kubernetes/preinstall : Stop if the node is not ready for Kubernetes'" in shown
        )
        assert "lab6 unreachable at 'Gather minimal facts'" in shown
        grid = app.query_one(HostGrid)
        assert grid.get_row("lab2")[3].plain == "1"  # failed column
        assert grid.get_row("lab6")[4].plain == "1"  # unreachable column
        assert "Stop if the node is not ready" in grid.get_row("lab2")[6].plain
        phases = text_of(app.query_one(PhaseList))
        assert "✗ Kubespray-shaped" in phases and "failed" in phases and "pending" in phases

        await pilot.press("f")  # only failures in the log
        await pilot.pause()
        lines = log_lines(app)
        assert lines and all("failed" in line or "unreachable" in line for line in lines)

        grid.focus()
        await pilot.pause()
        grid.move_cursor(row=grid.get_row_index("lab2"))
        await pilot.press("enter")  # the log of one host
        await pilot.pause()
        lines = log_lines(app)
        assert lines and all("[lab2]" in line for line in lines)
        assert any("injected failure" in line for line in lines)

        await pilot.press("a")
        await pilot.pause()
        assert any("PLAY [Install etcd]" in line for line in log_lines(app))


async def test_a_flood_is_applied_in_bounded_ticks() -> None:
    events = list(read_events(RECORDING))
    feed = EventFeed()
    app = DashboardApp(feed)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            feed.extend(events)  # 25k events arrive at once
        ticks_before = app.dashboard.ticks
        app.dashboard.refresh_from_feed()
        # One tick applies what its time budget allows and leaves the rest for the next ticks.
        assert 0 < len(feed) < len(events) * 200
        app.dashboard.drain_all()
        await pilot.pause()
        assert app.dashboard.state.events == len(events) * 200
        assert app.dashboard.ticks > ticks_before


def test_snapshot_mid_run(snap_compare) -> None:
    """Mid-run (60 events): Inventory done, the Kubespray-shaped phase running at 'Write resolv.conf'
    with 8 tasks and an indeterminate bar (first run: no task total yet); the banner already names lab6
    (unreachable) and lab2 (injected failure) while lab1/lab4/lab5 go on; the log ends with lab2's
    failure line and the next task."""
    app = DashboardApp(partial_feed(60))
    assert snap_compare(app, terminal_size=(120, 40), run_before=_drain)


def test_snapshot_after_failure(snap_compare) -> None:
    """After the failure: phase list ✓ Inventory / ✗ Kubespray-shaped failed / · Sample apps pending;
    the red banner names lab6 (unreachable at 'Gather minimal facts') and lab2 (failed at 'Stop if the
    node is not ready for Kubernetes' with the injected-failure message); the host grid has lab2 with
    1 failed and lab6 with 1 unreachable; the diagnostics pane names lab6's cause ("The host cannot be
    reached over SSH") with its fix; slowest tasks start with 'Gather minimal facts'."""
    app = DashboardApp(replay_feed(RECORDING))
    assert snap_compare(app, terminal_size=(120, 40), run_before=_drain)


def test_snapshot_replay_at_80x24(snap_compare) -> None:
    """`kwizard runs show` at 80×24: the panels stack as on the Deploy step (phases and progress side
    by side, the slowest tasks full width below them) instead of squeezing the progress pane to
    nothing between the fixed-width phases and slowest-tasks panes; the screen scrolls to the rest."""
    app = DashboardApp(replay_feed(RECORDING))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_drain)


async def test_the_stand_alone_dashboard_stacks_its_panels_when_narrow() -> None:
    app = DashboardApp(replay_feed(RECORDING))
    async with app.run_test(size=(80, 24)) as pilot:
        await _drain(pilot)
        progress, phases = app.query_one(RunProgress), app.query_one(PhaseList)
        slowest = app.dashboard.query_one("#slowest")
        assert progress.size.width >= 30 and phases.size.width >= 30
        assert slowest.region.y > phases.region.y and slowest.size.width >= 70
        assert app.screen.max_scroll_y > 0  # the hosts, log and diagnoses are below, a scroll away


async def _drain(pilot: object) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    app.dashboard.drain_all()
    await pilot.pause()  # type: ignore[attr-defined]


def test_a_message_of_several_lines_stays_in_the_log_message_column() -> None:
    text = "Storage failed: lab3\nSee stdout/stderr for the exact error"
    line = LogLine(0.0, "storage", None, "error", text)
    assert rendered([line], width=60) == [
        "   storage Storage failed: lab3",
        "           See stdout/stderr for the exact error",
    ]


def test_a_long_line_wraps_inside_the_message_column() -> None:
    text = "fatal: [lab2]: FAILED! => the node is not ready: kubelet reports NotReady since 10:42"
    assert rendered([LogLine(0.0, "kubespray", "lab2", "error", text)], width=50) == [
        " kubespray fatal: [lab2]: FAILED! => the node is",
        "           not ready: kubelet reports NotReady",
        "           since 10:42",
    ]


def rendered(lines: list[LogLine], width: int) -> list[str]:
    return [row_text(row).rstrip() for line in lines for row in rows_of(line, width - PHASE_CELLS - 1)]
