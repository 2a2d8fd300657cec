"""The wizard in a real terminal: tmux runs kwizard, keys are sent, the screen is read back."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from kwizard import preset as presets
from tests.conftest import REPO, kwizard_command, kwizard_env

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.session = f"kwtest-{uuid.uuid4().hex[:8]}"
        # A private server (socket) per test: no shared options, sizes or sessions with other tmux users.
        self.tmux = ["tmux", "-L", self.session, "-f", "/dev/null"]
        command = " ".join(subprocess.list2cmdline([a]) for a in argv)
        env_args = [f"{k}={v}" for k, v in env.items() if k in ("PYTHONPATH", "KWIZARD_WORKDIR", "PATH")]
        subprocess.run(
            [
                *self.tmux,
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                "120",
                "-y",
                "40",
                "env",
                "-u",
                "COLUMNS",
                "-u",
                "LINES",
                *env_args,
                "TERM=xterm-256color",
                "sh",
                "-c",
                f"cd {REPO} && {command}; sleep 5",
            ],
            check=True,
            timeout=30,
        )
        # A detached session may start at the server's default size; make it the size asked for.
        subprocess.run(
            [*self.tmux, "resize-window", "-t", self.session, "-x", "120", "-y", "40"],
            capture_output=True,
            timeout=10,
        )

    def screen(self) -> str:
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.session], capture_output=True, text=True, timeout=10
        ).stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear; the screen shows:\n{self.screen()}")

    def wait_gone(self, text: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while text in self.screen():
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} is still on screen:\n{self.screen()}")
            time.sleep(0.2)

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, *keys], check=True, timeout=10)

    def type(self, text: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.session, "-l", text], check=True, timeout=10)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=10)


def test_walk_the_wizard_in_a_real_terminal(kwizard_root: Path):
    terminal = Terminal(kwizard_command(), kwizard_env(KWIZARD_WORKDIR=str(kwizard_root)))
    try:
        terminal.wait_for("New cluster name")
        terminal.wait_for("mycluster")
        # Every key is confirmed on screen before the next: a terminal app may drop keys typed
        # before it has finished starting.
        terminal.keys("C-u")
        terminal.wait_gone("mycluster")
        terminal.type("tmuxed")
        terminal.wait_for("tmuxed")
        terminal.keys("Enter")
        terminal.wait_gone("New cluster name")
        terminal.wait_for("Cluster name")
        time.sleep(0.3)  # the Hosts step focuses the host-name field as it mounts
        # The Hosts step starts with the focus on the new host's name.
        for name, address in (("n1", "10.1.0.1"), ("n2", "10.1.0.2"), ("n3", "10.1.0.3")):
            terminal.type(f"{name} {address}")  # quick entry: the whole host in the name field
            terminal.wait_for(f"{name} {address}")
            terminal.keys("Enter")
            terminal.wait_for(address + " ")  # the table row
            terminal.wait_gone(f"{name} {address}")  # the field is cleared for the next host
        terminal.keys("C-n")
        terminal.wait_for("Private key")
        terminal.keys("C-n")
        terminal.wait_for("Not built yet: this version does not check the hosts")
        terminal.keys("C-n")
        terminal.wait_for("Kubespray version")
        terminal.keys("C-b")
        terminal.wait_for("Not built yet: this version does not check the hosts")
        terminal.keys("C-s")
        terminal.wait_for("Preset saved")
        terminal.keys("C-q")
        time.sleep(0.5)
    finally:
        terminal.close()
    spec = presets.load(kwizard_root / "clusters" / "tmuxed" / "preset.yaml")
    assert [h.address for h in spec.hosts] == ["10.1.0.1", "10.1.0.2", "10.1.0.3"]
    assert len(spec.hosts_with("control_plane")) == 3
