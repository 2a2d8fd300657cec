"""Known causes of this attempt's failures, with their fixes."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from kwizard.engine.grouping import findings_by_cause
from kwizard.engine.state import RunState


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
        for found in reversed(findings_by_cause(findings)[-6:]):  # newest first, once for all its hosts
            finding, where = found.item, f" ({found.where})" if found.hosts else ""
            text.append(f"● {finding.title}{where}", style="bold yellow")
            text.append(f"  {finding.id}\n", style="dim")
            if finding.fix:
                text.append(f"  Fix: {finding.fix}\n")
        if not failures:
            text.append("No failures.", style="dim")
        self.update(text)
