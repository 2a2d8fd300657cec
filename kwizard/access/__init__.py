"""The access phase: the operator's key authorised on every host, host keys trusted, sudo checked.

`run_phase(ctx)` is what the engine runs (headless or from the Deploy step); the Access screen calls
`secure_hosts` directly so it can ask for the password in its own dialog.
"""

from __future__ import annotations

import getpass
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from kwizard.access.flow import HostAccess, PasswordPrompt, emit_status, secure_host, secure_hosts
from kwizard.access.keypair import (
    KeyPair,
    cluster_key_path,
    ensure_key_pair,
    generate_key_pair,
    load_key_pair,
)
from kwizard.errors import KwizardError
from kwizard.protocol.outputs import AccessOutput
from kwizard.protocol.phase import PhaseContext, PhaseResult, PhaseStatus
from kwizard.spec import ClusterSpec, Host

__all__ = [
    "HostAccess",
    "KeyPair",
    "PasswordPrompt",
    "cluster_key_path",
    "emit_status",
    "ensure_key_pair",
    "generate_key_pair",
    "load_key_pair",
    "run_phase",
    "secure_host",
    "secure_hosts",
    "summarize",
]


def terminal_password_prompt(spec: ClusterSpec) -> PasswordPrompt | None:
    """A getpass prompt when kwizard runs headless in a terminal's main thread; None otherwise."""
    interactive = sys.stdin.isatty() and threading.current_thread() is threading.main_thread()
    if not interactive:
        return None

    def ask(hosts: list[str]) -> str | None:
        names = ", ".join(hosts[:5]) + (" …" if len(hosts) > 5 else "")
        return (
            getpass.getpass(f"SSH password for {spec.ssh.user} on {names} (used once, not stored): ") or None
        )

    return ask


def run_phase(ctx: PhaseContext, hosts: Sequence[Host] | None = None) -> PhaseResult:
    """Authorise the spec's key (generated if missing) on every host (or on `hosts`, e.g. the ones
    add-node brings); one status row per host."""
    spec = ctx.spec
    try:
        key = ensure_key_pair(Path(spec.ssh.key), comment=f"kwizard-{spec.name}")
    except KwizardError as error:
        return PhaseResult("failed", error.render_text(), {"error": error.title})
    if key.generated:
        ctx.log("access", f"generated a new ed25519 key pair {key.private} ({key.fingerprint})")
    # ctx.secrets were resolved when the run was built (typed first, then the preset's variables).
    if spec.ssh.password_env and ctx.secrets.ssh_password is None:
        ctx.log("access", f"environment variable {spec.ssh.password_env} is not set", level="warning")
    rows = secure_hosts(
        ctx, spec.hosts if hosts is None else hosts, key, ask_password=terminal_password_prompt(spec)
    )
    status: PhaseStatus = (
        "interrupted" if ctx.cancel.is_set() else ("ok" if all(r.ok for r in rows) else "failed")
    )
    output = AccessOutput(
        key=str(key.private),
        public_key=key.public_line,
        fingerprint=key.fingerprint,
        generated=key.generated,
        hosts={r.host: r.to_dict() for r in rows},
    )
    return PhaseResult(status, summarize(rows), output.to_data())


def summarize(rows: list[HostAccess]) -> str:
    """One line: how many hosts are ready, how many got the key now, which failed and why."""
    ready = [r for r in rows if r.ok]
    added = sum(r.key_added for r in rows)
    text = f"{len(ready)}/{len(rows)} hosts accept the key"
    if added:
        text += f" ({added} installed now)"
    bad = [r for r in rows if not r.ok]
    if bad:
        text += "; " + ", ".join(f"{r.host}: {r.reason or r.status}" for r in bad[:6])
        text += " …" if len(bad) > 6 else ""
    return text
