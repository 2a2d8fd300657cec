"""Modal dialogs shared by every screen: errors, confirmations, a one-line question, a pick from a list."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from kwizard.errors import KwizardError

CHOICES_ON_ONE_ROW = 3


class ErrorModal(ModalScreen[None]):
    """A KwizardError as a dialog: title, problem, fix. Never a traceback."""

    BINDINGS: ClassVar = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, error: KwizardError) -> None:
        super().__init__(classes="modal")
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="error"):
            yield Label(self.error.title, id="dialog-title")
            yield Static(self.error.problem, id="dialog-problem")
            if self.error.fix:
                yield Static(f"Fix: {self.error.fix}", id="dialog-fix")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)


class ChoiceModal(ModalScreen[str]):
    """A question with a few labelled answers; dismisses with the chosen answer's id."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, text: str, choices: list[tuple[str, str]], cancel: str) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.text = text
        self.choices = choices
        self.cancel_id = cancel

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(self.text, id="dialog-problem")
            # More answers than fit on one row of the dialog go one under another (screens/app.tcss).
            stacked = " stacked" if len(self.choices) > CHOICES_ON_ONE_ROW else ""
            with Horizontal(classes="buttons" + stacked):
                for index, (choice_id, label) in enumerate(self.choices):
                    yield Button(label, id=choice_id, variant="primary" if index == 0 else "default")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or self.cancel_id)

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_id)


class AskModal(ModalScreen[str | None]):
    """Ask for one line of text (e.g. a file name or a password, masked)."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str, value: str = "", password: bool = False) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.prompt = prompt
        self.value = value
        self.password = password

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(self.prompt)
            yield Input(value=self.value, password=self.password, id="answer")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self.query_one(Input).value if event.button.id == "ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickModal(ModalScreen[str | None]):
    """Pick one of a list (arrows and Enter, or a click); dismisses with its id, or None when cancelled."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str, options: list[tuple[str, str]]) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.prompt = prompt
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            yield Static(self.prompt)
            yield OptionList(*(Option(label, id=option_id) for option_id, label in self.options), id="pick")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
