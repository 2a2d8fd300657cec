"""The wizard's commands in the command palette (Ctrl+P): go to a step, save, check access, run…

Each command calls the same app or step action as its key or button; the palette only finds them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from kwizard.ui.steps import STEPS, StepScreen

if TYPE_CHECKING:
    from kwizard.ui.app import WizardApp

Command = tuple[str, Callable[[], Awaitable[object] | object], str]


class WizardCommands(Provider):
    """Commands of the wizard, offered while a step is on screen."""

    def commands(self) -> list[Command]:
        screen = self.screen
        if not isinstance(screen, StepScreen):
            return []  # a dialog or the Summary is on top: steps cannot be switched under it
        wizard = cast("WizardApp", self.app)
        here = STEPS.index(next(s for s in STEPS if s.id == screen.step_id))
        found: list[Command] = [
            (f"Go to step {index + 1}: {step.title}", partial(wizard.go_to_step, index), "Open this step")
            for index, step in enumerate(STEPS)
            if index != here
        ]
        found += [
            ("Help for this step", screen.action_help, "What this step does, its keys, what next (F1)"),
            ("Save preset", wizard.action_save_preset, "Write the answers to the cluster's preset (Ctrl+S)"),
            ("Save preset as…", wizard.action_save_preset_as, "Write the answers to a file you name"),
            ("Check access", wizard.command_check_access, "Go to Access and check every host"),
            ("Run deployment", wizard.command_run, "Go to Deploy and start the run"),
            ("Resume the last run", wizard.command_resume, "Go to Deploy and resume the stopped run"),
            ("Open last run's report", wizard.command_open_report, "The report.md of the cluster's last run"),
        ]
        cancel = getattr(screen, "cancel", None)
        if getattr(screen, "running", False) and callable(cancel):
            # Without a mouse the Cancel run button is many Tabs away while the dashboard keys are in use.
            found.append(("Cancel the run", cancel, "Stop the running phase; Resume continues from it"))
        return found

    async def discover(self) -> Hits:
        for name, command, help_text in self.commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, command, help_text in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, help=help_text)
