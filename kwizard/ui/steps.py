"""The wizard's steps: their order, the step bar, and the base class every step screen extends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from kwizard.spec import ClusterSpec

if TYPE_CHECKING:
    from kwizard.ui.app import WizardApp


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    module: str  # kwizard.ui.screens.<module>, defining one StepScreen subclass named in `screen`
    screen: str


STEPS: tuple[Step, ...] = (
    Step("hosts", "Hosts", "hosts", "HostsStep"),
    Step("access", "Access", "access", "AccessStep"),
    Step("preflight", "Preflight", "preflight", "PreflightStep"),
    Step("options", "Roles & options", "options", "OptionsStep"),
    Step("review", "Review", "review", "ReviewStep"),
    Step("deploy", "Deploy", "deploy", "DeployStep"),
)


def step_index(step_id: str) -> int:
    return next(i for i, step in enumerate(STEPS) if step.id == step_id)


class StepBar(Static):
    """Hosts → Access → … with the current step highlighted and the visited ones marked."""

    def __init__(self, current: str) -> None:
        super().__init__(id="step-bar")
        self.current = current

    def on_mount(self) -> None:
        here = step_index(self.current)
        parts = []
        for index, step in enumerate(STEPS):
            if index < here:
                parts.append(f"[green]✓ {step.title}[/]")
            elif index == here:
                parts.append(f"[reverse bold] {index + 1}. {step.title} [/]")
            else:
                parts.append(f"[dim]{index + 1}. {step.title}[/]")
        self.update("  →  ".join(parts))


class StepScreen(Screen[None]):
    """A step of the wizard: a form that reads from and writes to the ClusterSpec.

    Subclasses set `step_id`, compose their form in `compose_body`, fill it in `load_spec` and return the
    updated spec from `apply_to` (raising InputError when the form holds something invalid).
    """

    step_id: ClassVar[str] = ""
    NOT_BUILT: ClassVar[str] = ""  # plain words about what this step cannot do yet, shown on the screen

    BINDINGS: ClassVar = [
        Binding("ctrl+n", "app.next_step", "Next", priority=True),
        Binding("ctrl+b", "app.previous_step", "Back", priority=True),
        Binding("ctrl+s", "app.save_preset", "Save preset", priority=True),
        Binding("f1", "help", "Help"),
        # Not a priority binding: in a text field "?" is typed, and F1 still opens the help.
        Binding("question_mark", "help", "Help", show=False),
    ]

    @property
    def wizard(self) -> WizardApp:
        return cast("WizardApp", self.app)

    def compose(self) -> ComposeResult:
        yield StepBar(self.step_id)
        with VerticalScroll(id="step-body"):
            if self.NOT_BUILT:
                yield Static(self.NOT_BUILT, id="not-built", classes="not-built")
            yield from self.compose_body()
        with Horizontal(id="nav"):
            yield Button("← Back", id="back", disabled=step_index(self.step_id) == 0)
            yield Button("Save preset", id="save")
            last = step_index(self.step_id) == len(STEPS) - 1
            yield Button("Finish" if last else "Next →", id="next", variant="primary")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.load_spec(self.wizard.spec)

    def load_spec(self, spec: ClusterSpec) -> None:
        """Fill the form from the spec."""

    def apply_to(self, spec: ClusterSpec) -> ClusterSpec:
        """The spec with this step's answers applied."""
        return spec

    def action_help(self) -> None:
        """Open this step's help: what it does, its keys, what to do next."""
        from kwizard.ui.help import STEP_HELP, HelpModal, bound_keys

        title = STEPS[step_index(self.step_id)].title
        self.app.push_screen(HelpModal(title, STEP_HELP[self.step_id], bound_keys(self)))

    def can_leave(self) -> bool:
        """Whether the wizard may switch to another step now (says why not when it may not)."""
        return True

    def step_buttons(self) -> dict[str, Callable[[], object]]:
        """This step's own buttons, id → handler; they take precedence over Back/Save/Next."""
        return {}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        # The one button dispatcher of every step: subclasses declare `step_buttons` instead of
        # handling Button.Pressed themselves (Textual would run both handlers).
        own = self.step_buttons().get(event.button.id or "")
        if own is not None:
            event.stop()
            own()
            return
        actions = {"back": "previous_step", "next": "next_step", "save": "save_preset"}
        action = actions.get(event.button.id or "")
        if action:
            event.stop()
            getattr(self.wizard, f"action_{action}")()
