"""Building and continuing runs: the one place both front ends get an Engine from.

The wizard's Deploy step, headless runs and the day-2 commands all build their engine here, so the
diagnoser, the secrets, the trust-on-first-use policy and the lock are wired the same way everywhere;
what is left to a front end is how it shows events and how it asks about a host key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import Event, HostKeyPrompt, PhaseContext, Secrets
from kwizard.spec import ClusterSpec

if TYPE_CHECKING:
    from kwizard.engine.pipeline import Engine, PhaseDefinition


@dataclass(frozen=True)
class HostKeyTrust:
    """How a host key seen for the first time is decided: asked one at a time (`one`), asked as one
    list for keys met together (`many`), or, with neither, by the unattended policy of the SSH layer
    (`RunOptions.trusts_new_host_keys`: a refusal names --accept-new-host-keys, a trust is logged)."""

    one: Callable[[HostKeyPrompt], bool] | None = None
    many: Callable[[Sequence[HostKeyPrompt]], Sequence[bool]] | None = None


def phase_context(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions,
    *,
    trust: HostKeyTrust = HostKeyTrust(),
    secrets: Secrets | None = None,
    emit: Callable[[Event], None] | None = None,
    cancel: threading.Event | None = None,
) -> PhaseContext:
    """The context for running a phase's work outside an engine run (a preflight fix, a remedy, the
    Access step's check, a day-2 command's reachability check), wired as the engine wires its own:
    `secrets` completed from the variables the preset names, and the same trust on first use."""
    from kwizard.service.secrets import resolve_secrets

    ctx = PhaseContext(
        spec,
        ws,
        options,
        secrets=resolve_secrets(spec, secrets)[0],
        cancel=cancel or threading.Event(),
        confirm_host_key=trust.one,
        confirm_host_keys=trust.many,
    )
    if emit is not None:
        ctx.emit = emit
    return ctx


def build_engine(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions,
    observer: Callable[[Event], None],
    *,
    phases: Sequence[PhaseDefinition] | None = None,
    secrets: Secrets | None = None,
    trust: HostKeyTrust = HostKeyTrust(),
    cancel: threading.Event | None = None,
    holds_lock: bool = False,
) -> tuple[Engine, list[str]]:
    """An Engine for one run, and the warnings about its secrets (a named variable that is unset).

    Without `secrets`, they come from the variables the preset names. Without a way to ask in `trust`,
    a key seen for the first time is trusted only when the options or the preset say so (an unattended
    run has nobody to ask): the trust is logged, a refusal fails the host naming the option."""
    from kwizard.engine.findings import default_diagnoser
    from kwizard.engine.pipeline import Engine
    from kwizard.service.secrets import resolve_secrets

    resolved, warnings = resolve_secrets(spec, secrets)
    extra: dict[str, Any] = {} if phases is None else {"phases": tuple(phases)}
    if cancel is not None:
        extra["cancel"] = cancel
    engine = Engine(
        spec,
        ws,
        options,
        secrets=resolved,
        observer=observer,
        confirm_host_key=trust.one,
        confirm_host_keys=trust.many,
        diagnose=default_diagnoser(),
        holds_lock=holds_lock,
        **extra,
    )
    return engine, warnings


def apply_pending_fixes(
    spec: ClusterSpec, ws: Workspace, options: RunOptions, directory: Path, say: Callable[[str], None]
) -> ClusterSpec | None:
    """Apply what the stopped run at `directory` can have fixed (its failed preflight's fixes, its
    findings' remedies); the spec after them (saved when it changed), or None when nothing applies."""
    from kwizard import preset as presets
    from kwizard.engine.journal import read_events
    from kwizard.service.fixes import apply_fix, pending_fixes
    from kwizard.service.secrets import resolve_secrets

    fixes = pending_fixes(read_events(directory / "events.jsonl"))
    if not fixes:
        return None
    secrets, _ = resolve_secrets(spec)
    for fix in fixes:
        say(f"Applying: {fix.describe()}")
        ctx = phase_context(spec, ws, options, secrets=secrets)
        result = apply_fix(ctx, fix)
        if result.spec != spec:
            spec = result.spec
            presets.save(spec, ws.preset_file)
        for host in result.hosts:
            say(f"  ✓ {host}")
    return spec
