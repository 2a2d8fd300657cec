"""Overall progress of a run: percent, elapsed, ETA and throughput."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.markup import escape
from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar

from kwizard.engine.report import clock
from kwizard.engine.state import RunState
from kwizard.ui.widgets.sparkline import Sparkline


def one_line(text: str, width: int) -> bool:
    """Whether `text` takes one line of a label `width` wide (an empty label is one line high too)."""
    return width > 0 and "\n" not in text and cell_len(text) <= width


LABELS = ("#overall-label", "#phase-label", "#task-label", "#artifacts-label", "#throughput-label")


class RunProgress(Vertical):
    """Overall and current-phase progress bars, elapsed time and ETA, the current task, throughput."""

    # As high as when every line shows (borders included): the phase bar and the artifacts line come and
    # go with the phases, and the pane keeps its height, so what is below it does not move (a new
    # layout of the whole dashboard, at the run's first events: its dearest frame in a flood).
    DEFAULT_CSS = """
    RunProgress { height: auto; min-height: 12; }
    RunProgress ProgressBar { width: 1fr; }
    /* A narrow panel shrinks the bar, not the percentage ("100%" was cut to "10" at 80x24). */
    RunProgress ProgressBar Bar { width: 1fr; }
    RunProgress ProgressBar PercentageStatus { width: 5; }
    RunProgress Label { width: 1fr; }
    RunProgress Sparkline { height: 2; margin-top: 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Each label starts empty, one line high: its first one-line text needs no new layout.
        self._texts: dict[str, str] = dict.fromkeys(LABELS, "")
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
        """Update a label only when its text changes (each update costs a repaint), and ask for a new
        layout of the screen only when its height may change: a text that fits one line, replacing one
        that fitted, keeps the label one line high. (A layout pass over the whole dashboard on every
        tick was its most expensive part under a flood of events.)"""
        key = content.plain if isinstance(content, Text) else Text.from_markup(content).plain
        before = self._texts.get(selector)
        if before != key:
            self._texts[selector] = key
            label = self.query_one(selector, Label)
            width = label.content_size.width
            same_height = before is not None and one_line(before, width) and one_line(key, width)
            label.update(content, layout=not same_height)

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
        # While the run goes on, the seconds that are over: the chart (the dearest part of this pane to
        # draw) then changes once a second instead of on every tick; once it ends, its last second too.
        live = state.status == "running" and state.throughput
        history = state.throughput[-60:] if live else (*state.throughput[-59:], state.second_count)
        if history != self._history:
            self._history = history
            self.query_one("#throughput", Sparkline).data = list(history)
        self._label(
            "#throughput-label",
            f"[dim]events/s (last {len(history)} s), peak {max(history)} · {state.events} events[/dim]",
        )
