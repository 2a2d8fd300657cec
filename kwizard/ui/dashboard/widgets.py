"""The dashboard's panes. Each renders a RunState in `show(state, now)` and skips work when its part of
the (persistent) state is the same object as last time."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, ProgressBar, Sparkline, Static

from kwizard.engine.report import clock, duration_text
from kwizard.engine.state import HostView, RunState

ICONS = {
    "ok": ("✓", "green"),
    "skipped": ("⤼", "dim"),
    "failed": ("✗", "bold red"),
    "interrupted": ("⏸", "yellow"),
    "running": ("▶", "bold cyan"),
    "pending": ("·", "dim"),
}
SLOWEST_SHOWN = 8


class PhaseList(Static):
    """Every phase of the run: status, duration, tasks."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._shown: tuple[Any, ...] = ()

    def show(self, state: RunState, now: float) -> None:
        key = (state.order, state.phases, int(now))
        if key == self._shown:
            return
        self._shown = key
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        table.add_column(justify="right", no_wrap=True)
        for name in state.order:
            view = state.phase(name)
            icon, style = ICONS.get(view.status, ("?", ""))
            word = view.status
            if view.reused:
                icon, style, word = "↷", "green", "done before"
            label = Text.assemble(
                (f"{icon} ", style), (view.title, "bold" if view.status == "running" else "")
            )
            if view.status == "running" and view.tasks_total:
                label.append(f" {view.tasks_done}/{view.tasks_total}", style="dim")
            duration = "" if view.status == "pending" or view.reused else duration_text(view.elapsed(now))
            table.add_row(label, Text.assemble((word, style), (f" {duration}" if duration else "", "dim")))
        self.update(table)


class RunProgress(Vertical):
    """Overall and current-phase progress bars, elapsed time and ETA, the current task, throughput."""

    DEFAULT_CSS = """
    RunProgress { height: auto; }
    RunProgress ProgressBar { width: 1fr; }
    /* A narrow panel shrinks the bar, not the percentage ("100%" was cut to "10" at 80x24). */
    RunProgress ProgressBar Bar { width: 1fr; }
    RunProgress ProgressBar PercentageStatus { width: 5; }
    RunProgress Label { width: 1fr; }
    RunProgress Sparkline { height: 2; margin-top: 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._texts: dict[str, str] = {}
        self._history: tuple[int, ...] = ()

    def compose(self) -> Any:
        yield Label("", id="overall-label")
        yield ProgressBar(total=1.0, show_eta=False, id="overall-bar")
        yield Label("", id="phase-label")
        yield ProgressBar(total=None, show_eta=False, id="phase-bar")
        yield Label("", id="task-label")
        yield Label("", id="artifacts-label")
        yield Sparkline([0], id="throughput")
        yield Label("", id="throughput-label")

    def _label(self, selector: str, content: str | Text) -> None:
        """Update a label only when its text changes (each update costs a repaint)."""
        key = content.plain if isinstance(content, Text) else content
        if self._texts.get(selector) != key:
            self._texts[selector] = key
            self.query_one(selector, Label).update(content)

    def show(self, state: RunState, now: float) -> None:
        done = sum(1 for n in state.order if state.phase(n).status in ("ok", "skipped"))
        running = next((state.phase(n) for n in state.order if state.phase(n).status == "running"), None)
        stopped = next(
            (state.phase(n) for n in state.order if state.phase(n).status in ("failed", "interrupted")),
            None,
        )
        elapsed = (now - state.started) if state.started else 0.0
        self._label(
            "#overall-label",
            f"[b]Overall[/b] {done}/{len(state.order)} phases · elapsed {clock(elapsed)} · {state.status}",
        )
        self.query_one("#overall-bar", ProgressBar).update(total=1.0, progress=state.overall_fraction())
        bar = self.query_one("#phase-bar", ProgressBar)
        if running is None:
            label = ""
            if stopped is not None:
                label = (
                    f"[b]{escape(stopped.title)}[/b] [red]{stopped.status}[/red] after "
                    f"{clock(stopped.elapsed(now))} · {stopped.tasks_done} tasks"
                )
            self._label("#phase-label", label)
            fraction = stopped.fraction() if stopped else (1.0 if state.status == "ok" else None)
            bar.display = fraction is not None
            bar.update(total=1.0, progress=fraction or 0.0)
            self._label("#task-label", Text(stopped.task if stopped else "", style="dim"))
        else:
            eta = running.eta(now)
            tasks = (
                f"{running.tasks_done}/{running.tasks_total}"
                if running.tasks_total
                else str(running.tasks_done)
            )
            self._label(
                "#phase-label",
                f"[b]{escape(running.title)}[/b] · {tasks} tasks · {clock(running.elapsed(now))}"
                + (f" · ETA {clock(eta)}" if eta is not None else " · ETA unknown (first run)"),
            )
            fraction = running.fraction()
            # No bar without a task total (a first run): a pulsing bar would say nothing more.
            bar.display = fraction is not None
            bar.update(total=1.0, progress=fraction or 0.0)
            self._label("#task-label", Text(running.task, style="dim"))
        phase, folder = state.artifacts
        self.query_one("#artifacts-label").display = bool(folder)
        self._label(
            "#artifacts-label",
            f"[dim]Ansible output of {escape(phase)}:[/dim] {escape(folder)}/stdout" if folder else "",
        )
        history = (*state.throughput[-59:], state.second_count)
        if history != self._history:
            self._history = history
            self.query_one("#throughput", Sparkline).data = list(history)
        self._label(
            "#throughput-label",
            f"[dim]events/s (last {len(history)} s), peak {max(history)} · {state.events} events[/dim]",
        )


GRID_CACHE_SIZES = {"_cell_render_cache": 1000, "_row_render_cache": 100, "_line_cache": 100}


class HostGrid(DataTable[Any]):
    """One row per host: result counts and the task it is on. Enter filters the log to that host."""

    COLUMNS: ClassVar = ("host", "ok", "changed", "failed", "unreachable", "skipped", "task")

    class HostChosen(Message):
        def __init__(self, host: str) -> None:
            super().__init__()
            self.host = host

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._hosts: Any = None
        self._views: dict[str, HostView] = {}
        # DataTable keys its render caches by an update counter, so after each update of the counts every
        # entry is stale; at their default sizes (10,000 cells) they held tens of thousands of dead
        # segment lists that every full garbage collection walked. A few screens' worth is enough.
        for name, size in GRID_CACHE_SIZES.items():
            cache = getattr(self, name, None)
            if cache is not None:
                cache.maxsize = size

    def reset(self) -> None:
        self.clear()
        self._hosts = None
        self._views = {}

    def on_mount(self) -> None:
        for column in self.COLUMNS:
            self.add_column(column.title() if column != "unreachable" else "Unreach.", key=column)

    def show(self, state: RunState, now: float) -> None:
        if state.hosts is self._hosts:
            return
        self._hosts = state.hosts
        self.border_title = state.hosts_title()
        changed = [name for name, view in state.hosts.items() if self._views.get(name) is not view]
        if any(name not in self._views for name in changed):  # new hosts: rows in name order
            self._rebuild(state)
            return
        for name in changed:
            view = state.hosts[name]
            self._views[name] = view
            for column, cell in zip(self.COLUMNS[1:], self._cells(name, view)[1:], strict=True):
                self.update_cell(name, column, cell)

    def _rebuild(self, state: RunState) -> None:
        # Only when hosts appear: patching cells leaves far less garbage (Rows, renderables) than
        # rebuilding, and the collector's pauses are what the user would see as stutter.
        cursor = self.cursor_row
        self.clear()
        self._views = dict(state.hosts)
        for name in sorted(state.hosts):
            self.add_row(*self._cells(name, state.hosts[name]), key=name)
        if state.hosts:
            self.move_cursor(row=min(cursor, len(state.hosts) - 1), animate=False, scroll=False)

    @staticmethod
    def _cells(name: str, view: HostView) -> list[Text]:
        bad = view.failed or view.unreachable
        style = "bold red" if bad else ""
        return [
            Text(name, style=style),
            Text(str(view.ok), style="green"),
            Text(str(view.changed), style="dark_orange" if view.changed else ""),
            Text(str(view.failed), style="bold red" if view.failed else "dim"),
            Text(str(view.unreachable), style="bold red" if view.unreachable else "dim"),
            Text(str(view.skipped), style="dim"),
            Text(
                view.task, style="red" if bad and view.last in ("failed", "unreachable") else "", no_wrap=True
            ),
        ]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.HostChosen(str(event.row_key.value)))


class DiagnosticsPane(Static):
    """Known causes of the failures so far (kwizard.diagnostics), with their fixes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._shown: tuple[Any, ...] = ()

    def show(self, state: RunState, now: float) -> None:
        failures, findings = state.live_failures, state.live_findings  # this attempt's
        key = (findings, len(failures))
        if key == self._shown:
            return
        self._shown = key
        explained = {(finding.host, finding.phase) for finding in findings}
        unexplained = sorted({f.host for f in failures if (f.host, f.phase) not in explained})
        text = Text()
        if unexplained:  # first: short, and the findings' fixes below may not fit
            text.append(
                f"{', '.join(unexplained)}: no known cause (see the failure and the log)\n", style="dim"
            )
        for finding in reversed(findings[-6:]):  # newest first
            where = f" ({finding.host})" if finding.host else ""
            text.append(f"● {finding.title}{where}", style="bold yellow")
            text.append(f"  {finding.id}\n", style="dim")
            if finding.fix:
                text.append(f"  Fix: {finding.fix}\n")
        if not failures:
            text.append("No failures.", style="dim")
        self.update(text)


class SlowestTasks(Static):
    """The slowest tasks so far."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self._shown: Any = None

    def show(self, state: RunState, now: float) -> None:
        if state.slowest is self._shown:
            return
        self._shown = state.slowest
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(justify="right", no_wrap=True, min_width=6)
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        for timing in state.slowest[:SLOWEST_SHOWN]:
            table.add_row(Text(duration_text(timing.seconds), style="cyan"), timing.task)
        self.update(table if state.slowest else Text("No task finished yet.", style="dim"))


class FailureBanner(Static):
    """The first failures, big enough to see at a glance: host, task, message, and the known cause."""

    def show(self, state: RunState, now: float) -> None:
        failures, findings = state.live_failures, state.live_findings  # a resume starts afresh
        if not failures:
            self.display = False
            return
        lines = Text()
        for failure in failures[:3]:
            if lines:
                lines.append("\n")
            lines.append_text(
                Text.assemble(
                    ("✗ ", "bold red"),
                    (failure.host, "bold"),
                    f" {failure.kind} at {failure.task!r} ({failure.phase}): ",
                    (failure.message, "red"),
                )
            )
            cause = next(
                (f for f in reversed(findings) if (f.host, f.phase) == (failure.host, failure.phase)),
                None,
            )
            if cause is not None:  # what it really is, right under what Ansible said
                lines.append_text(
                    Text.assemble(
                        ("\n  ↳ ", "yellow"), (cause.title, "bold yellow"), (f"  {cause.id}", "dim")
                    )
                )
        if len(failures) > 3:
            lines.append(f"\n  … and {len(failures) - 3} more (press f for the failures log)", style="dim")
        self.display = True
        self.update(lines)
