"""The banner naming the run's failure, its cause and what to do."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kwizard.engine.grouping import failures_by_cause
from kwizard.engine.state import RunState


class FailureBanner(Static):
    """The first failures, big enough to see at a glance: host, task, message, and the known cause."""

    _shown = ""  # the text shown ("" while hidden)

    def show(self, state: RunState, now: float) -> None:
        failures, findings = state.live_failures, state.live_findings  # a resume starts afresh
        if not failures:
            if self.display:
                self.display = False
            self._shown = ""
            return
        lines = Text()
        groups = failures_by_cause(failures)  # the same failure on many hosts is one line
        for group in groups[:3]:
            failure = group.item
            if lines:
                lines.append("\n")
            lines.append_text(
                Text.assemble(
                    ("✗ ", "bold red"),
                    (group.where, "bold"),
                    f" {failure.kind} at {failure.task!r} ({failure.phase}): ",
                    (failure.message, "red"),
                )
            )
            cause = next(
                (f for f in reversed(findings) if f.phase == failure.phase and f.host in group.hosts),
                None,
            )
            if cause is not None:  # what it really is, right under what Ansible said
                lines.append_text(
                    Text.assemble(
                        ("\n  ↳ ", "yellow"), (cause.title, "bold yellow"), (f"  {cause.id}", "dim")
                    )
                )
        if len(groups) > 3:
            lines.append(f"\n  … and {len(groups) - 3} more (press f for the failures log)", style="dim")
        if lines.plain == self._shown:
            return  # each update would lay the whole screen out again
        height_changed = lines.plain.count("\n") != self._shown.count("\n") or not self._shown
        self._shown = lines.plain
        self.display = True
        self.update(lines, layout=height_changed)
