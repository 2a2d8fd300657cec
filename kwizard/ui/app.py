"""The Textual wizard: holds the ClusterSpec and walks the steps. It only wires; steps do the work."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import ClassVar

from pydantic import ValidationError
from textual.app import App
from textual.binding import Binding

from kwizard import preset as presets
from kwizard.errors import InputError, KwizardError
from kwizard.options import RunOptions
from kwizard.paths import Workspace, workspace
from kwizard.protocol.phase import Event, PhaseContext, Secrets
from kwizard.resources import asset_dir
from kwizard.service.checks import CheckResults
from kwizard.spec import ClusterSpec, explain
from kwizard.ui import strip_cycles
from kwizard.ui.commands import WizardCommands
from kwizard.ui.modals import AskModal, ChoiceModal, ErrorModal
from kwizard.ui.steps import STEPS, StepScreen, step_index


def _stylesheets() -> list[str | PurePath]:
    # app.tcss first (shared look), then one file per screen.
    files = sorted(asset_dir("screens").glob("*.tcss"), key=lambda p: (p.name != "app.tcss", p.name))
    return list(files)


class WizardApp(App[int]):
    """Hosts → Access → Preflight → Roles & options → Review → Deploy, over one ClusterSpec."""

    TITLE = "kwizard"
    CSS_PATH: ClassVar = _stylesheets()
    # Every screen gets -narrow below 100 columns and -short below 30 rows: the stylesheets stack
    # panels and drop spacing there, so an 80×24 terminal still shows what matters (screens/app.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    COMMANDS: ClassVar = App.COMMANDS | {WizardCommands}
    BINDINGS: ClassVar = [
        Binding("ctrl+q", "quit_wizard", "Quit", priority=True),
        Binding("ctrl+c", "quit_wizard", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        spec: ClusterSpec | None = None,
        *,
        resume: str | None = None,
        options: RunOptions | None = None,
        root: Path | None = None,
        start_step: str | None = None,
    ) -> None:
        super().__init__()
        strip_cycles.apply()
        self.options = options or RunOptions()
        self.root = root
        self.resume = resume
        self.secrets = Secrets()  # typed passwords: memory only
        self.spec: ClusterSpec = spec or ClusterSpec(name="mycluster")
        self.saved_spec: ClusterSpec | None = None
        self.step_outcomes: dict[str, str] = {}  # step id → ok / failed, shown by the step bar
        self.check_results = CheckResults()  # Access and Preflight results: Back/Next does not re-probe
        self.step = 0 if start_step is None else next(i for i, s in enumerate(STEPS) if s.id == start_step)
        self._needs_welcome = spec is None and resume is None and start_step is None

    @property
    def ws(self) -> Workspace:
        return workspace(self.spec.name, self.root)

    def phase_context(
        self, spec: ClusterSpec, cancel: threading.Event, emit: Callable[[Event], None] | None = None
    ) -> PhaseContext:
        """A context for a step's work on the hosts, wired as a run's: the typed passwords completed
        from the preset's variables, and the trust-on-first-use dialogs asked from the worker's thread."""
        from kwizard.service.runs import phase_context
        from kwizard.ui.hostkey import host_key_trust

        ws = self.ws.create()
        trust = host_key_trust(self, cancel, str(ws.known_hosts))
        return phase_context(
            spec, ws, self.options, trust=trust, secrets=self.secrets, emit=emit, cancel=cancel
        )

    def resolved_secrets(self, spec: ClusterSpec | None = None) -> Secrets:
        """The typed passwords, completed from the variables the preset names (ssh.password_env…)."""
        from kwizard.service.secrets import resolve_secrets

        return resolve_secrets(spec or self.spec, self.secrets)[0]

    def on_mount(self) -> None:
        if self.resume:
            self.spec = presets.load(workspace(self.resume, self.root).preset_file)
            self.saved_spec = self.spec
            self.step = len(STEPS) - 1
            from kwizard.ui.screens.home import ClusterHome, last_operation

            if (
                last_operation(self.ws, stopped=False) is not None
            ):  # a day-2 run: resumed from the cluster's home screen
                self.push_screen(ClusterHome())
                return
        if self._needs_welcome:
            from kwizard.ui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen(self.root), self._welcome_done)
        else:
            self.push_screen(self.make_step(self.step))

    def _welcome_done(self, choice: str | None) -> None:
        if choice and choice.startswith("continue:"):
            name = choice.removeprefix("continue:")
            try:
                self.spec = presets.load(workspace(name, self.root).preset_file)
                self.saved_spec = self.spec
            except KwizardError as error:
                self.show_error(error)
            else:
                from kwizard.ui.screens.home import ClusterHome

                self.push_screen(ClusterHome())  # its hosts, last runs and actions; the steps from there
                return
        elif choice and choice.startswith("new:"):
            self.spec = ClusterSpec(name=choice.removeprefix("new:"))
        self.push_screen(self.make_step(0))

    def make_step(self, index: int) -> StepScreen:
        step = STEPS[index]
        module = importlib.import_module(f"kwizard.ui.screens.{step.module}")
        screen_class: type[StepScreen] = getattr(module, step.screen)
        return screen_class()

    def current_step(self) -> StepScreen | None:
        screen = self.screen
        return screen if isinstance(screen, StepScreen) else None

    def collect(self) -> bool:
        """Apply the current step's form to the spec; on invalid input show why and stay."""
        current = self.current_step()
        if current is None:
            return True
        try:
            self.spec = current.apply_to(self.spec)
        except KwizardError as error:
            self.show_error(error)
            return False
        except ValidationError as error:  # a step built a sub-model from its form
            self.show_error(InputError("Invalid answer", explain(error), "Correct the field."))
            return False
        return True

    def _may_leave(self) -> bool:
        """The current step lets the wizard move on (a running deploy does not: it says so)."""
        current = self.current_step()
        return current is None or current.can_leave()

    def action_next_step(self) -> None:
        if not self._may_leave() or not self.collect():
            return
        current = self.current_step()
        if current is not None and not current.CHECKS:
            self.step_outcomes[current.step_id] = "ok"  # its form was accepted
        if self.step == len(STEPS) - 1:
            self.action_quit_wizard()
            return
        self.step += 1
        self.switch_screen(self.make_step(self.step))

    def action_previous_step(self) -> None:
        if self.step == 0 or not self._may_leave() or not self.collect():
            return
        self.step -= 1
        self.switch_screen(self.make_step(self.step))

    def action_save_preset(self) -> None:
        if not self.collect():
            return
        try:
            path = presets.save(self.spec, self.ws.create().preset_file)
        except KwizardError as error:
            self.show_error(error)
            return
        except OSError as exc:
            self.show_error(KwizardError("Preset not saved", str(exc), "Check free space and permissions."))
            return
        self.saved_spec = self.spec
        self.notify(f"Preset saved to {path}", title="Saved")

    def action_save_preset_as(self) -> None:
        """Ask for a file name and write the answers there (the cluster's own preset is not changed)."""
        if not self.collect():
            return

        def chosen(answer: str | None) -> None:
            if not answer or not answer.strip():
                return
            try:
                path = presets.save(self.spec, Path(answer.strip()))
            except OSError as exc:
                self.show_error(
                    KwizardError("Preset not saved", str(exc), "Check the folder and permissions.")
                )
                return
            self.notify(f"Preset saved to {path}", title="Saved")

        suggested = Path.cwd() / f"{self.spec.name}.yaml"
        self.push_screen(AskModal("Save preset as", "File to write the preset to:", str(suggested)), chosen)

    # -- commands of the palette: the same actions as the steps' keys and buttons --------------------
    async def go_to_step(self, index: int) -> StepScreen | None:
        """Show step `index` (keeping the answers of the current one); None when the step cannot be left."""
        current = self.current_step()
        if current is not None and step_index(current.step_id) == index:
            return current
        if not self._may_leave() or not self.collect():
            return None
        self.step = index
        screen = self.make_step(index)
        await self.switch_screen(screen)
        return screen

    async def command_check_access(self) -> None:
        screen = await self.go_to_step(step_index("access"))
        if screen is not None:
            await screen.run_action("check")

    async def command_run(self) -> None:
        await self._deploy_command("start")

    async def command_resume(self) -> None:
        await self._deploy_command("resume")

    async def _deploy_command(self, which: str) -> None:
        from kwizard.ui.screens.deploy import DeployStep

        screen = await self.go_to_step(step_index("deploy"))
        if not isinstance(screen, DeployStep):
            return
        if which == "resume" and screen.resumable is None:
            self.notify("The last run finished or there is none: nothing to resume.", severity="warning")
            return
        screen.start(resume=which == "resume")

    def command_open_report(self) -> None:
        from kwizard.engine.journal import REPORT_FILE, last_run
        from kwizard.ui.report_view import ReportScreen

        directory = last_run(self.ws)
        report = directory / REPORT_FILE if directory is not None else None
        if report is None or not report.is_file():
            self.notify(f"No run report yet for {self.spec.name}.", severity="warning")
            return
        self.push_screen(ReportScreen(report))

    def has_unsaved_answers(self) -> bool:
        self.collect()
        return self.saved_spec != self.spec

    def action_quit_wizard(self) -> None:
        if not self.has_unsaved_answers():
            self.exit(0)
            return

        def decided(choice: str | None) -> None:
            if choice == "save":
                self.action_save_preset()
                if self.saved_spec == self.spec:
                    self.exit(0)
            elif choice == "discard":
                self.exit(0)

        self.push_screen(
            ChoiceModal(
                "Unsaved answers",
                "Your answers since the last save would be lost.",
                [("save", "Save and quit"), ("discard", "Quit without saving"), ("stay", "Cancel")],
                cancel="stay",
            ),
            decided,
        )

    def show_error(self, error: KwizardError) -> None:
        self.push_screen(ErrorModal(error))

    def show_unexpected(self, exc: BaseException) -> None:
        """Any exception as the error modal: a disk problem, or an internal error naming its crash file."""
        from kwizard.service.crash import user_error

        self.show_error(user_error(exc, self.root))


def run_app(spec: ClusterSpec | None, resume: str | None, options: RunOptions) -> int:
    """Run the wizard in this terminal; returns the exit code."""
    result = WizardApp(spec, resume=resume, options=options).run()
    return int(result or 0)
