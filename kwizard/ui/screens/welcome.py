"""First screen when kwizard starts without a preset: continue the last cluster or start a new one."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from kwizard.paths import default_root, known_clusters, last_cluster
from kwizard.spec import is_rfc1123

SHOWN = 5  # saved clusters with a Continue button; the others are opened by typing their name


class WelcomeScreen(ModalScreen[str | None]):
    """Offers `continue:<name>` for saved clusters (the last one first) or `new:<name>`."""

    BINDINGS: ClassVar = [Binding("escape", "dismiss_new", "New cluster")]

    def __init__(self, root: Path | None) -> None:
        super().__init__(id="welcome")
        self.root = root or default_root()
        self.typed_here = False  # a key typed elsewhere on this screen went to the name field
        self.open_asked: str | None = None  # a saved name given once as new: Enter again opens it

    def compose(self) -> ComposeResult:
        last = last_cluster(self.root)
        clusters = known_clusters(self.root)
        if last in clusters:
            clusters.remove(last)
            clusters.insert(0, last)
        with Vertical(id="dialog"):
            yield Label("Welcome to kwizard", id="dialog-title")
            yield Static(
                "From a few Linux servers to a highly available Kubernetes cluster built by Kubespray.\n"
                "Every answer is saved as a preset you can replay (kwizard --preset FILE --yes)."
            )
            for name in clusters[:SHOWN]:
                label = f"Continue '{name}'" + (" (last opened)" if name == last else "")
                yield Button(label, id=f"continue-{name}", classes="continue")
            if len(clusters) > SHOWN:
                more = clusters[SHOWN:]
                listed = ", ".join(more[:8]) + (", …" if len(more) > 8 else "")
                yield Static(f"{len(more)} more saved ({listed}): type a name below to open it.", id="more")
            yield Label("New cluster name:")
            with Horizontal():
                # No select-on-focus: a key typed on a Continue button lands here and must stay.
                yield Input(value="mycluster", id="new-name", select_on_focus=False)
                yield Button("Start new", id="new", variant="primary")
            yield Static("", id="welcome-error", classes="error-text")

    def on_key(self, event: events.Key) -> None:
        # Focus starts on "Continue '<last>'"; someone who starts typing wants a new name, not to press
        # that button with the Enter that ends the name: typing goes to the name field, replacing the
        # suggested name.
        name_field = self.query_one("#new-name", Input)
        if self.focused is name_field or not event.is_printable or not event.character:
            return
        event.stop()
        event.prevent_default()
        # The first key replaces the suggestion; the keys of the same burst (a terminal delivers a typed
        # word at once, before the focus has moved) are added to it, not each in its place.
        if not self.typed_here:
            name_field.value = ""
            self.typed_here = True
        name_field.value += event.character
        name_field.cursor_position = len(name_field.value)
        name_field.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id.startswith("continue-"):
            self.dismiss("continue:" + button_id.removeprefix("continue-"))
        elif button_id == "new":
            self._start_new()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._start_new()

    def _start_new(self) -> None:
        name = self.query_one("#new-name", Input).value.strip()
        if not is_rfc1123(name) or "." in name:
            self.query_one("#welcome-error", Static).update(
                f"{name!r} is not a valid cluster name: lower-case letters, digits and '-'."
            )
            return
        if name in known_clusters(self.root):
            # A new cluster of a saved one's name would overwrite its preset: open it instead, if asked twice.
            if self.open_asked == name:
                self.dismiss("continue:" + name)
                return
            self.open_asked = name
            self.query_one("#welcome-error", Static).update(
                f"'{name}' is saved: Enter again opens it; another name starts a new one."
            )
            return
        self.dismiss("new:" + name)

    def action_dismiss_new(self) -> None:
        self._start_new()
