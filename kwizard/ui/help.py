"""Help for the step on screen (F1 or ?): what the step does, its keys, and what to do next.

The words are per step; the keys are read from the step's active bindings when the help opens, so the
list cannot drift from what the keys really do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, Static


@dataclass(frozen=True)
class StepHelp:
    does: str
    next: str


STEP_HELP: dict[str, StepHelp] = {
    "hosts": StepHelp(
        "Name the cluster and list its hosts. Type names, addresses or ranges (10.0.0.[11:13]) and press "
        "Add, or scan a network or import ~/.ssh/config, Terraform output or EC2. Each host gets roles "
        "(control plane, etcd, worker, load balancer); bad input is listed under Problems with its fix.",
        "Three or five etcd hosts make the cluster highly available. When the table is right, Next "
        "(Ctrl+N) goes to Access.",
    ),
    "access": StepHelp(
        "How kwizard logs in: the SSH user, key, port, an optional bastion and become (sudo). Check access "
        "tries the key on every host; where it is refused, the password is asked once (kept in memory "
        "only) and the key installed. New host keys are shown for you to trust.",
        "When every host says 'key works' or 'key installed', Next (Ctrl+N) runs Preflight.",
    ),
    "preflight": StepHelp(
        "Every host is checked at once (OS, memory, disk, swap, ports, time, kernel modules…). Failed "
        "checks show their fix; kwizard can apply the fixes it knows to the selected hosts or all.",
        "Fix what failed and Re-run, or acknowledge it with Continue anyway (saved in the preset). "
        "Next (Ctrl+N) is refused while a failure is neither fixed nor acknowledged.",
    ),
    "options": StepHelp(
        "Kubespray settings (version, network plugin, container runtime), the HA ingress load balancer, "
        "storage, the apps to install and the phases to run.",
        "Next (Ctrl+N) shows the Review of what will be written and run.",
    ),
    "review": StepHelp(
        "What will be written (a diff against the files on disk), which phases will run, and the "
        "command line that runs the same deployment without the wizard (Copy puts it on the clipboard).",
        "Save the preset (Ctrl+S), then Next (Ctrl+N) to Deploy.",
    ),
    "deploy": StepHelp(
        "Start deployment saves the preset and runs the phases on the live dashboard: phases, progress, "
        "hosts, the log and the diagnoses of failures. The raw Ansible output of the current phase is in "
        "the artifacts folder shown under Progress.",
        "On a failure, read the banner and Diagnostics, fix the cause (or Apply fix and retry when "
        "offered), then Resume: finished phases are not run again. After a successful run, Summary "
        "shows how to reach the cluster.",
    ),
}


TEXTUAL_ACTIONS = {"app.focus_next", "app.focus_previous", "screen.copy_text"}


def bound_keys(screen: Screen[Any]) -> list[tuple[str, str]]:
    """(key, what it does) for the step's own and the wizard's bindings that can act now.

    Not `active_bindings`: that holds the focused field's editing keys and hides the step's letter keys
    while a text field has the focus, and the help should list what the step offers.
    """
    keys: list[tuple[str, str]] = []
    for node in (screen, screen.app):
        for bindings in node._bindings.key_to_bindings.values():
            for binding in bindings:
                # The step's and the wizard's keys, not Textual's own (focus moves, copy).
                if not binding.description or binding.system or binding.action in TEXTUAL_ACTIONS:
                    continue
                if node is screen.app and not binding.show:  # ^c (as ^q) and ^p (listed below)
                    continue
                if node.check_action(binding.action, ()) is False:
                    continue
                shown = (screen.app.get_key_display(binding), binding.description)
                if shown not in keys:
                    keys.append(shown)
    return keys


class HelpModal(ModalScreen[None]):
    """The help of one step: what it does, its keys, what to do next."""

    BINDINGS: ClassVar = [Binding("escape,f1,question_mark,q", "dismiss", "Close")]

    def __init__(self, title: str, help_text: StepHelp, keys: list[tuple[str, str]]) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.help_text = help_text
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="help"):
            yield Label(f"Help — {self.title_text}", id="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(escape(self.help_text.does), id="help-does")
                yield Static(f"[b]Next:[/b] {escape(self.help_text.next)}", id="help-next")
                rows = "\n".join(f"[b]{escape(key):>6}[/b]  {escape(what)}" for key, what in self.keys)
                palette = f"[b]{'^p':>6}[/b]  commands: go to a step, save as, check access, run, report"
                yield Static(f"[b]Keys[/b]\n{rows}\n{palette}", id="help-keys")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)
