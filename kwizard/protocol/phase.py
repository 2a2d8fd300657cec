"""What a phase is: a callable `run(ctx) -> PhaseResult`, and what it is given (`PhaseContext`).

Each phase lives in its domain module (`kwizard.access`, `kwizard.preflight`, …) as `run_phase(ctx)`; the
engine imports it only when it runs, by the path `kwizard.phases.REGISTRY` names, so the CLI stays fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.events import EventKind, event_kind
from kwizard.spec import ClusterSpec

PhaseStatus = Literal["pending", "running", "ok", "failed", "skipped", "interrupted"]


@dataclass
class Secrets:
    """Passwords typed by the user or read from the environment variables a preset names.

    Memory only: never serialised, never passed through environment variables to child processes,
    and hidden from repr() so they cannot leak into logs or tracebacks.
    """

    ssh_password: str | None = field(default=None, repr=False)
    become_password: str | None = field(default=None, repr=False)
    per_host_password: dict[str, str] = field(default_factory=dict, repr=False)

    def password_for(self, host: str) -> str | None:
        return self.per_host_password.get(host, self.ssh_password)

    def all_values(self) -> list[str]:
        """Every secret value, so tests and log writers can check nothing leaked."""
        values = [self.ssh_password, self.become_password, *self.per_host_password.values()]
        return [v for v in values if v]


@dataclass(frozen=True)
class Event:
    """One thing that happened, as journalled and shown by the dashboard.

    `kind` is one of the closed set `EventKind` (a plain string is converted; an unknown one is a
    ValueError), and `data` is that kind's payload as described in `kwizard.protocol.events`.
    """

    kind: EventKind
    phase: str
    host: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0

    def __post_init__(self) -> None:
        if type(self.kind) is not EventKind:
            object.__setattr__(self, "kind", event_kind(self.kind))


@dataclass(frozen=True)
class HostKeyPrompt:
    """A host key seen for the first time, to be confirmed by the user (trust on first use)."""

    host: str
    address: str
    port: int
    key_type: str
    fingerprint: str  # "SHA256:..."


@dataclass
class PhaseContext:
    spec: ClusterSpec
    ws: Workspace
    options: RunOptions
    secrets: Secrets = field(default_factory=Secrets)
    emit: Callable[[Event], None] = lambda event: None
    cancel: threading.Event = field(default_factory=threading.Event)
    # Called when a host key is new; returns True to trust it. Headless: options.accept_new_host_keys.
    confirm_host_key: Callable[[HostKeyPrompt], bool] | None = None
    # When set, new host keys met by parallel connections are gathered and asked about together (one list
    # with every fingerprint, "trust all shown"); returns one answer per prompt, in order.
    confirm_host_keys: Callable[[Sequence[HostKeyPrompt]], Sequence[bool]] | None = None
    # Outputs of earlier phases of this run (or of the journal), keyed by phase name.
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str = ""  # the engine's run (empty outside one)

    def log(self, phase: str, text: str, host: str | None = None, level: str = "info") -> None:
        self.emit(Event(EventKind.LOG, phase, host, {"text": text, "level": level}))


@dataclass(frozen=True)
class PhaseResult:
    status: PhaseStatus
    summary: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable; stored in the journal


PhaseFunction = Callable[[PhaseContext], PhaseResult]


def load_phase(name: str) -> PhaseFunction:
    """The implementation of phase `name`, imported from the module the phase registry names."""
    import importlib

    from kwizard.phases import phase_info

    module_name, _, attribute = phase_info(name).implementation.partition(":")
    function: PhaseFunction = getattr(importlib.import_module(module_name), attribute)
    return function
