"""Automatic fixes the user can accept per row: commands run on the host, or a change to the spec.

Host fixes run as root (directly, with `sudo -n`, or with the become password on sudo's stdin — never
on a command line or in an environment variable) and are idempotent, so accepting one twice is safe.
A fix is only reported as done after the re-check that follows it passes (see Preflight.fix).
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kwizard.hostfixes import ENABLE_IP_FORWARD, INSTALL_PYTHON3, PACKAGE_MANAGERS
from kwizard.preflight.checks.base import HostInput
from kwizard.preflight.checks.system import STANDARD_PYTHON, choose_interpreter
from kwizard.preflight.facts import HostFacts
from kwizard.preflight.probe import Runner
from kwizard.spec import ClusterSpec

FIX_TIMEOUT = 600.0  # a package install on a slow mirror


@dataclass(frozen=True)
class FixInfo:
    id: str
    title: str
    on_host: bool  # runs a command on the host (else: changes the spec)


FIXES: dict[str, FixInfo] = {
    f.id: f
    for f in (
        FixInfo("enable_ip_forward", "enable IP forwarding now and at boot (/etc/sysctl.d)", True),
        FixInfo("install_python3", "install python3 with the host's package manager", True),
        FixInfo(
            "set_python_interpreter", "set ansible_python_interpreter for the host in the inventory", False
        ),
    )
}


def host_fix_command(fix_id: str, facts: HostFacts) -> str | None:
    """The shell command (run as root) for a host fix, or None when it does not apply to this host."""
    if fix_id == "enable_ip_forward":
        return ENABLE_IP_FORWARD
    if fix_id == "install_python3":
        return INSTALL_PYTHON3 if facts.package_manager in PACKAGE_MANAGERS else None
    return None


def as_root(command: str, facts: HostFacts, become_password: str | None) -> tuple[str, Any]:
    """`command` wrapped to run as root, and what to feed on stdin (the password, or nothing)."""
    wrapped = f"sh -c {shlex.quote(command)}"
    if facts.sudo == "root":
        return wrapped, False
    if facts.sudo == "nopasswd" or not become_password:
        return f"sudo -n {wrapped}", False
    # -S reads the password from stdin, -p '' keeps the prompt out of the output.
    return f"sudo -S -p '' {wrapped}", io.StringIO(become_password + "\n")


@dataclass(frozen=True)
class FixOutcome:
    host: str
    fix_id: str
    ok: bool
    detail: str


class LineSink:
    """A write-only stream that hands each complete line to `on_line` (a fix's output, as it comes)."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self.partial = ""

    def write(self, text: str) -> int:
        self.partial += text.replace("\r", "\n")
        *lines, self.partial = self.partial.split("\n")
        for line in lines:
            if line.strip():
                self.on_line(line.rstrip())
        return len(text)

    def flush(self) -> None:
        pass


def run_host_fix(
    runner: Runner,
    host: str,
    fix_id: str,
    facts: HostFacts,
    become_password: str | None,
    on_output: Callable[[str], None] | None = None,
) -> FixOutcome:
    """Run one host fix; ok means the command succeeded (the re-check decides whether it worked).

    `on_output` gets the command's output line by line while it runs (an apt install takes a minute).
    """
    command = host_fix_command(fix_id, facts)
    if command is None:
        return FixOutcome(host, fix_id, False, f"{fix_id} does not apply to this host")
    wrapped, stdin = as_root(command, facts, become_password)
    streams: dict[str, Any] = {"hide": True}
    if on_output is not None:  # echoed into the sink instead of hidden; the result still holds it all
        streams = {"hide": False, "out_stream": LineSink(on_output), "err_stream": LineSink(on_output)}
    try:
        result = runner.run(wrapped, warn=True, in_stream=stdin, timeout=FIX_TIMEOUT, **streams)
    except Exception as exc:
        return FixOutcome(host, fix_id, False, f"{type(exc).__name__}: {exc}")
    output = (result.stderr or result.stdout or "").strip().splitlines()
    if result.exited != 0:
        return FixOutcome(host, fix_id, False, f"exit {result.exited}: " + " | ".join(output[-3:]))
    return FixOutcome(host, fix_id, True, "done")


def verify_become_password(runner: Runner, password: str) -> bool:
    """Whether sudo accepts `password` (sent on stdin, never on the command line)."""
    result = runner.run(
        "sudo -S -p '' true", hide=True, warn=True, in_stream=io.StringIO(password + "\n"), timeout=30
    )
    return bool(result.exited == 0)


def apply_spec_fix(spec: ClusterSpec, host_input: HostInput, fix_id: str) -> ClusterSpec:
    """The spec with a spec fix applied (set_python_interpreter → the interpreter found on the host)."""
    if fix_id != "set_python_interpreter":
        return spec
    chosen = choose_interpreter(host_input)
    path = chosen.path if chosen else STANDARD_PYTHON
    hosts = [
        h.model_copy(update={"python_interpreter": path}) if h.name == host_input.host.name else h
        for h in spec.hosts
    ]
    return spec.model_copy(update={"hosts": hosts})
