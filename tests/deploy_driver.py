"""Driving the Deploy step in Pilot tests: a wizard running a given phase table, and a bounded wait."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Button

from kwizard.engine.pipeline import PhaseDefinition
from kwizard.ui.app import WizardApp
from kwizard.ui.screens.deploy import DeployStep
from kwizard.ui.steps import StepScreen
from kwizard.ui.widgets.log_pane import LogPane


def wizard_with_phases(phases: Sequence[PhaseDefinition]) -> type[WizardApp]:
    """A WizardApp whose Deploy step runs `phases` instead of the product's pipeline."""

    class FixtureWizard(WizardApp):
        def make_step(self, index: int) -> StepScreen:
            screen = super().make_step(index)
            return DeployStep(phases=phases) if isinstance(screen, DeployStep) else screen

    return FixtureWizard


def deploy_step(app: WizardApp) -> DeployStep | None:
    """The Deploy step, also when a finished run's Summary is open over it."""
    return next((s for s in reversed(app.screen_stack) if isinstance(s, DeployStep)), None)


async def wait_until_idle(
    pilot: object, app: WizardApp, seconds: float = 300.0, after: object | None = None
) -> DeployStep:
    """Wait (bounded) until the Deploy step's run has finished; returns the step. With `after` (the
    engine of an earlier run), a run started later than that one must have finished."""
    for _ in range(int(seconds * 10)):
        await pilot.pause(0.1)  # type: ignore[attr-defined]
        screen = deploy_step(app)
        if screen is None or screen.engine is None or screen.engine is after:
            continue
        if not screen.running:
            return screen
    raise AssertionError("the run did not finish in time")


async def run_with(pilot: object, app: WizardApp, button: str, seconds: float = 300.0) -> DeployStep:
    """Press the Deploy step's `button` (Start, Resume) and wait (bounded) for the run it starts to
    finish. The button is pressed, not clicked at its place on screen: a notification drawn over it
    would take a click, and the wait would then return the previous run."""
    screen = deploy_step(app)
    assert screen is not None, "the Deploy step is not open"
    before = screen.engine
    widget = screen.query_one(button, Button)
    assert widget.display and not widget.disabled, f"{button} cannot be pressed"
    widget.press()
    return await wait_until_idle(pilot, app, seconds, after=before)


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
