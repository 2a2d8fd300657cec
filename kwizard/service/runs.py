"""Building and continuing runs: the one place both front ends get an Engine from.

The wizard's Deploy step, headless runs and the day-2 commands all build their engine here, so the
diagnoser, the secrets, the trust-on-first-use policy and the lock are wired the same way everywhere;
what is left to a front end is how it shows events and how it asks about a host key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.engine.events import EventKind
from kwizard.engine.phase import Event, HostKeyPrompt, PhaseContext, Secrets
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.spec import ClusterSpec

if TYPE_CHECKING:
    from kwizard.engine.pipeline import Engine, PhaseDefinition


def accepts_new_host_keys(spec: ClusterSpec, options: RunOptions) -> bool:
    """Unattended trust on first use: --accept-new-host-keys or ssh.accept_new_host_keys in the preset."""
    return options.accept_new_host_keys or spec.ssh.accept_new_host_keys


def build_engine(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions,
    observer: Callable[[Event], None],
    *,
    phases: Sequence[PhaseDefinition] | None = None,
    secrets: Secrets | None = None,
    confirm_host_key: Callable[[HostKeyPrompt], bool] | None = None,
    confirm_host_keys: Callable[[Sequence[HostKeyPrompt]], Sequence[bool]] | None = None,
    cancel: threading.Event | None = None,
    holds_lock: bool = False,
) -> tuple[Engine, list[str]]:
    """An Engine for one run, and the warnings about its secrets (a named variable that is unset).

    Without `secrets`, they come from the variables the preset names. Without `confirm_host_key`, a key
    seen for the first time is trusted only when the options or the preset say so, and the decision is
    written to the run's log (an unattended run has nobody to ask)."""
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
        confirm_host_key=confirm_host_key,
        confirm_host_keys=confirm_host_keys,
        diagnose=default_diagnoser(),
        holds_lock=holds_lock,
        **extra,
    )
    if confirm_host_key is None:
        engine.confirm_host_key = _unattended_trust(engine, accepts_new_host_keys(spec, options))
    return engine, warnings


def _unattended_trust(engine: Engine, accept: bool) -> Callable[[HostKeyPrompt], bool]:
    def confirm(prompt: HostKeyPrompt) -> bool:
        word = "trusting" if accept else "refusing"
        hint = "" if accept else " (pass --accept-new-host-keys to trust keys seen for the first time)"
        text = f"{word} new {prompt.key_type} host key {prompt.fingerprint}{hint}"
        engine.emit(Event(EventKind.LOG, "access", prompt.host, {"text": text, "level": "warning"}))
        return accept

    return confirm


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
    accept = accepts_new_host_keys(spec, options)
    for fix in fixes:
        say(f"Applying: {fix.describe()}")
        ctx = PhaseContext(spec, ws, options, secrets=secrets, confirm_host_key=lambda prompt: accept)
        result = apply_fix(ctx, fix)
        if result.spec != spec:
            spec = result.spec
            presets.save(spec, ws.preset_file)
        for host in result.hosts:
            say(f"  ✓ {host}")
    return spec
