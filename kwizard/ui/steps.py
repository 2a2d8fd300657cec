"""The wizard's steps: their order, the step bar, and the base class every step screen extends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from kwizard.spec import ClusterSpec
from kwizard.ui.widgets.footer import Footer
from kwizard.ui.workers import GuardedWorkers

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


NARROW_COLUMNS = 100  # the app's -narrow breakpoint

# How a step before the current one ended: ✓ only when it really succeeded.
OUTCOME_MARKS = {
    "ok": "[green]✓ {title}[/]",
    "failed": "[b red]✗ {title}[/]",
    "unchecked": "[dim]· {title}[/]",  # not checked in this session (e.g. a resumed run)
}


class StepBar(Static):
    """Hosts → Access → … with the current step highlighted and the earlier ones marked by their outcome.

    When the full titles do not fit the terminal's width, the other steps shrink to their numbers so the
    current step's title stays on screen.
    """

    def __init__(self, current: str, outcomes: Mapping[str, str]) -> None:
        super().__init__(id="step-bar")
        self.current = current
        self.outcomes = dict(outcomes)

    def on_mount(self) -> None:
        self.update(self.markup(short=False))

    def on_resize(self, event: events.Resize) -> None:
        full = self.markup(short=False)
        fits = Text.from_markup(full).cell_len <= event.size.width - self.styles.gutter.width
        self.update(full if fits else self.markup(short=True))

    def markup(self, short: bool) -> str:
        """The bar as markup; `short` names only the current step, the others by their number."""
        here = step_index(self.current)
        parts = []
        for index, step in enumerate(STEPS):
            title = str(index + 1) if short else step.title
            if index < here:
                outcome = self.outcomes.get(step.id, "unchecked")
                parts.append(OUTCOME_MARKS.get(outcome, OUTCOME_MARKS["unchecked"]).format(title=title))
            elif index == here:
                parts.append(f"[reverse bold] {index + 1}. {step.title} [/]")
            else:
                parts.append(f"[dim]{title if short else f'{index + 1}. {title}'}[/]")
        return (" → " if short else "  →  ").join(parts)


class StepScreen(GuardedWorkers[None]):
    """A step of the wizard: a form that reads from and writes to the ClusterSpec.

    Subclasses set `step_id`, compose their form in `compose_body`, fill it in `load_spec` and return the
    updated spec from `apply_to` (raising InputError when the form holds something invalid). Their
    workers end in the error modal (GuardedWorkers), never in a traceback.
    """

    step_id: ClassVar[str] = ""
    # A step that checks something (hosts answer, preflight, the inventory) records its own outcome with
    # `record_outcome`; any other step succeeded when its form was accepted.
    CHECKS: ClassVar[bool] = False
    NOT_BUILT: ClassVar[str] = ""  # plain words about what this step cannot do yet, shown on the screen

    BINDINGS: ClassVar = [
        Binding("ctrl+n", "app.next_step", "Next", priority=True),
        Binding("ctrl+b", "app.previous_step", "Back", priority=True),
        Binding("ctrl+s", "app.save_preset", "Save", priority=True),  # short: the footer fits 80 columns
        Binding("f1", "help", "Help"),
        # Not a priority binding: in a text field "?" is typed, and F1 still opens the help.
        Binding("question_mark", "help", "Help", show=False),
    ]

    @property
    def wizard(self) -> WizardApp:
        return cast("WizardApp", self.app)

    def compose(self) -> ComposeResult:
        yield StepBar(self.step_id, self.wizard.step_outcomes)
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

    def on_resize(self, event: events.Resize) -> None:
        # Below 100 columns every key binding must fit on the footer's one row: drop its padding and
        # the command palette's key (ctrl+p still opens it).
        footer = self.query_one(Footer)
        footer.compact = event.size.width < NARROW_COLUMNS
        footer.show_command_palette = event.size.width >= NARROW_COLUMNS

    def record_outcome(self, ok: bool) -> None:
        """Whether this step's check succeeded, for the step bar of the later steps."""
        self.wizard.step_outcomes[self.step_id] = "ok" if ok else "failed"

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

    def go_next(self) -> None:
        """Next → (a step that checks before leaving overrides this)."""
        self.wizard.action_next_step()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.wizard.action_previous_step()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.wizard.action_save_preset()

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.go_next()
