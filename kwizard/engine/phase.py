"""What a phase is: a callable `run(ctx) -> PhaseResult`, found by name in PHASE_IMPLEMENTATIONS.

Each phase lives in its domain module (`kwizard.access`, `kwizard.preflight`, …) as `run_phase(ctx)`; the
engine imports it lazily by the dotted path below, so the CLI stays fast and a phase whose module is not
built yet is reported as such instead of breaking the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.spec import ClusterSpec

# "unavailable": the phase's module is not part of this version (reported, never faked).
PhaseStatus = Literal["pending", "running", "ok", "failed", "skipped", "interrupted", "unavailable"]

PHASE_IMPLEMENTATIONS: dict[str, str] = {
    "provision": "kwizard.aws.phase:run_phase",
    "discover": "kwizard.discovery:run_phase",
    "access": "kwizard.access:run_phase",
    "preflight": "kwizard.preflight:run_phase",
    "inventory": "kwizard.inventory:run_phase",
    "kubespray": "kwizard.kubespray:run_phase",
    "kubeconfig": "kwizard.kubeconfig:run_phase",
    "loadbalancer": "kwizard.loadbalancer:run_phase",
    "storage": "kwizard.storage:run_phase",
    "apps": "kwizard.apps:run_phase",
}


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

    kind: phase_start, phase_end, play_start, task_start, host_ok, host_changed, host_failed,
          host_unreachable, host_skipped, stats, log, finding, host_status;
          also run_start / run_end (engine), host_start (a host begins a task) and task_total (a phase
          announcing how many tasks it expects: data {"tasks": n}).
    Phases may emit host_status with data {"status": "ok"|"failed"|…, "text": "…"} for per-host progress
    outside playbooks, and log with data {"text", "level"} (plus "artifacts": the ansible-runner folder
    of the playbook the phase starts).
    """

    kind: str
    phase: str
    host: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0


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
        self.emit(Event("log", phase, host, {"text": text, "level": level}))


@dataclass(frozen=True)
class PhaseResult:
    status: PhaseStatus
    summary: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable; stored in the journal


PhaseFunction = Callable[[PhaseContext], PhaseResult]


def load_phase(name: str) -> PhaseFunction | None:
    """The implementation of phase `name`, or None when its module is not built yet."""
    import importlib

    module_name, _, attribute = PHASE_IMPLEMENTATIONS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    function = getattr(module, attribute, None)
    return function if callable(function) else None
