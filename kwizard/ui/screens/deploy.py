"""Step 6 — Deploy: the phases run here, on a live dashboard."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from kwizard.ui.steps import StepScreen


class DeployStep(StepScreen):
    step_id = "deploy"
    NOT_BUILT = (
        "Not built yet: this version cannot run the phases. Save the preset now and run it later with "
        "`kwizard --preset FILE --yes`."
    )

    def compose_body(self) -> ComposeResult:
        phases = ", ".join(self.wizard.options.selected_phases(self.wizard.spec))
        yield Static(f"Phases selected: {phases}", id="deploy-phases")
