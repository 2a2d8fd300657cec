"""Driving the Deploy step in Pilot tests: a wizard running a given phase table, and a bounded wait."""

from __future__ import annotations

from collections.abc import Sequence

from kwizard.engine.pipeline import PhaseDefinition
from kwizard.ui.app import WizardApp
from kwizard.ui.dashboard.widgets import LogPane
from kwizard.ui.screens.deploy import DeployStep
from kwizard.ui.steps import StepScreen


def wizard_with_phases(phases: Sequence[PhaseDefinition]) -> type[WizardApp]:
    """A WizardApp whose Deploy step runs `phases` instead of the product's pipeline."""

    class FixtureWizard(WizardApp):
        def make_step(self, index: int) -> StepScreen:
            screen = super().make_step(index)
            return DeployStep(phases=phases) if isinstance(screen, DeployStep) else screen

    return FixtureWizard


async def wait_until_idle(pilot: object, app: WizardApp, seconds: float = 300.0) -> DeployStep:
    """Wait (bounded) until the Deploy step's run has finished; returns the step."""
    for _ in range(int(seconds * 10)):
        await pilot.pause(0.1)  # type: ignore[attr-defined]
        # A finished run opens the Summary over the Deploy step: look below it too.
        screen = next((s for s in reversed(app.screen_stack) if isinstance(s, DeployStep)), None)
        if screen is not None and screen.engine is not None and not screen.running:
            return screen
    raise AssertionError("the run did not finish in time")


def shown_log_lines(log: LogPane) -> list[str]:
    """The log pane's lines, each wrapped line joined again (its later rows leave the phase column blank)."""
    lines: list[str] = []
    for strip in log.lines:
        text = strip.text.rstrip()
        if lines and text.startswith(" " * 11):
            lines[-1] += " " + text.strip()
        else:
            lines.append(text)
    return lines
