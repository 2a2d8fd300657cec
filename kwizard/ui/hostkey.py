"""Trust on first use in the wizard: the fingerprint dialog, and asking it from a worker thread.

`confirm_host_key_from_thread(app, cancel)` returns the callable a PhaseContext wants as
`confirm_host_key`: any step whose thread worker opens SSH connections (access, preflight, deploy) can
use it. Questions are modal and answered one at a time (kwizard.ssh serialises them).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, ClassVar, TypeVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from kwizard.hostkeys import host_pattern
from kwizard.protocol.phase import HostKeyPrompt
from kwizard.service.runs import HostKeyTrust

T = TypeVar("T")
_POLL_SECONDS = 0.25


class HostKeyModal(ModalScreen[bool]):
    """ "Trust this host key?" with the SHA256 fingerprint and how to check it on the host."""

    BINDINGS: ClassVar = [
        Binding("t", "answer(True)", "Trust"),
        Binding("escape,r", "answer(False)", "Reject"),
    ]

    def __init__(self, prompt: HostKeyPrompt, known_hosts: str = "") -> None:
        # A class, not an id: the next question may be pushed while this one is still being removed.
        super().__init__(classes="modal host-key-modal")
        self.prompt = prompt
        self.known_hosts = known_hosts

    def compose(self) -> ComposeResult:
        p = self.prompt
        short_type = p.key_type.removeprefix("ssh-").split("-")[0]
        with Vertical(id="dialog"):
            yield Label("New host key — trust it?", id="dialog-title")
            yield Static(
                Content.assemble(
                    (p.host, "bold"),
                    f" ({host_pattern(p.address, p.port)}) presented a {p.key_type} key "
                    "kwizard has not seen before:",
                )
            )
            yield Static(Content(p.fingerprint), id="fingerprint")
            yield Static(
                "Compare it with the host's own fingerprint, read on its console or from your provider:\n"
                f"  ssh-keygen -lf /etc/ssh/ssh_host_{short_type}_key.pub\n"
                "Once trusted, the key is stored in the cluster's known_hosts"
                + (f" ({self.known_hosts})" if self.known_hosts else "")
                + " and checked on every later connection, by kwizard and by Ansible.",
                id="host-key-help",
            )
            with Horizontal(classes="buttons"):
                yield Button("Trust (t)", id="trust", variant="warning")
                yield Button("Reject (Esc)", id="reject", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "trust")

    def action_answer(self, trusted: bool) -> None:
        self.dismiss(trusted)


class HostKeysModal(ModalScreen[str]):
    """Several new host keys at once: every host with its fingerprint, then trust all shown, one by one,
    or none. Dismisses with "all", "each" or "none"."""

    BINDINGS: ClassVar = [
        Binding("a", "answer('all')", "Trust all shown"),
        Binding("o", "answer('each')", "One by one"),
        Binding("escape,r", "answer('none')", "Reject all"),
    ]

    def __init__(self, prompts: Sequence[HostKeyPrompt], known_hosts: str = "") -> None:
        super().__init__(classes="modal host-key-modal many")
        self.prompts = list(prompts)
        self.known_hosts = known_hosts

    def compose(self) -> ComposeResult:
        width = max(len(f"{p.host} ({host_pattern(p.address, p.port)})") for p in self.prompts)
        rows = [
            Content.assemble(
                (f"{p.host} ({host_pattern(p.address, p.port)})".ljust(width), "bold"),
                f"  {p.key_type}  ",
                (p.fingerprint, "bold"),
            )
            for p in self.prompts
        ]
        with Vertical(id="dialog"):
            yield Label(f"{len(self.prompts)} new host keys — trust them?", id="dialog-title")
            yield Static("These hosts presented keys kwizard has not seen before:")
            with VerticalScroll(id="fingerprints"):
                for row in rows:
                    yield Static(row, classes="fingerprint-row")
            # Short: the list and the buttons must fit an 80×24 terminal (the path is in the tooltip).
            help_text = Static(
                "Compare with each host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on it). "
                "Trusted keys go to the cluster's known_hosts, checked on every later connection.",
                id="host-key-help",
            )
            help_text.tooltip = self.known_hosts or None
            yield help_text
            with Horizontal(classes="buttons"):
                yield Button("Trust all shown (a)", id="all", variant="warning")
                yield Button("One by one (o)", id="each")
                yield Button("Reject all (Esc)", id="none", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "none")

    def action_answer(self, choice: str) -> None:
        self.dismiss(choice)


def ask_from_thread(app: App[Any], screen: ModalScreen[T], cancel: threading.Event) -> T | None:
    """Show `screen` from a worker thread and wait for its answer; None if `cancel` is set first."""
    answer: Future[T | None] = Future()

    def push() -> None:
        app.push_screen(screen, callback=answer.set_result)

    try:
        app.call_from_thread(push)
    except RuntimeError:  # the app is shutting down
        return None
    while True:  # bounded by the cancel event: a step that goes away cancels its worker
        try:
            return answer.result(timeout=_POLL_SECONDS)
        except FutureTimeout:
            if cancel.is_set():
                with contextlib.suppress(RuntimeError):
                    app.call_from_thread(_dismiss_if_open, screen)
                return None


def _dismiss_if_open(screen: ModalScreen[T]) -> None:
    if screen.is_attached and screen.app.screen is screen:
        screen.dismiss(None)


def confirm_host_key_from_thread(
    app: App[Any], cancel: threading.Event, known_hosts: str = ""
) -> Callable[[HostKeyPrompt], bool]:
    """A `PhaseContext.confirm_host_key` that shows HostKeyModal and waits for the user."""

    def confirm(prompt: HostKeyPrompt) -> bool:
        trusted: bool | None = ask_from_thread(app, HostKeyModal(prompt, known_hosts), cancel)
        return bool(trusted)

    return confirm


def host_key_trust(app: App[Any], cancel: threading.Event, known_hosts: str = "") -> HostKeyTrust:
    """The wizard's trust on first use, asked from a worker's thread: one dialog per key, or one list of
    the keys met together."""
    return HostKeyTrust(
        confirm_host_key_from_thread(app, cancel, known_hosts),
        confirm_host_keys_from_thread(app, cancel, known_hosts),
    )


def confirm_host_keys_from_thread(
    app: App[Any], cancel: threading.Event, known_hosts: str = ""
) -> Callable[[Sequence[HostKeyPrompt]], list[bool]]:
    """A `PhaseContext.confirm_host_keys`: new keys of one parallel round listed in one dialog."""
    single = confirm_host_key_from_thread(app, cancel, known_hosts)

    def confirm(prompts: Sequence[HostKeyPrompt]) -> list[bool]:
        if len(prompts) == 1:
            return [single(prompts[0])]
        choice = ask_from_thread(app, HostKeysModal(prompts, known_hosts), cancel)
        if choice == "all":
            return [True] * len(prompts)
        if choice == "each":
            return [single(prompt) for prompt in prompts]
        return [False] * len(prompts)

    return confirm
