"""Per-host access: try the key; where refused, use the password once to install it; verify.

All hosts run in parallel (bounded). Each host ends as one `HostAccess` row: ok (the key worked),
installed (the key was added with the password and then logged in alone), needs-password, skipped
(cancelled) or failed with a reason and a fix; one host's failure never stops the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from kwizard.access.keypair import KeyPair
from kwizard.access.remote import SudoAccess, install_key, probe_sudo
from kwizard.errors import KwizardError
from kwizard.protocol.events import EventKind
from kwizard.protocol.phase import Event, PhaseContext
from kwizard.spec import Host
from kwizard.ssh import (
    bastion_endpoint,
    connect,
    connect_endpoint,
    forget_declined_host_keys,
    run,
)
from kwizard.ssh_errors import AuthenticationFailed, HostKeyChanged, HostKeyNotTrusted, HostUnreachable

PHASE = "access"
MAX_PARALLEL = 16
AccessStatus = Literal["ok", "installed", "needs-password", "skipped", "failed"]
# Asked once for the hosts (names) that refused the key; returns the password or None (no answer).
PasswordPrompt = Callable[[list[str]], str | None]


@dataclass(frozen=True)
class HostAccess:
    """The outcome for one host, as shown in its status row and stored in the journal."""

    host: str
    address: str
    status: AccessStatus
    detail: str
    fix: str = ""
    reason: str = ""  # machine-readable cause of a failure: unreachable, wrong-password, key-only, no-sudo…
    sudo: SudoAccess | Literal[""] = ""
    key_added: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "installed")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        return data


def emit_status(ctx: PhaseContext, host: str, status: str, detail: str = "", fix: str = "") -> None:
    """Tell the dashboard/screen about a host's current step."""
    data = {"status": status, "detail": detail, "fix": fix}
    ctx.emit(Event(EventKind.HOST_STATUS, PHASE, host, data, time.time()))


def secure_host(ctx: PhaseContext, host: Host, key: KeyPair, *, timeout: float = 10.0) -> HostAccess:
    """Make `key` log in to `host`: try it, else install it with the password, then verify it alone."""
    if ctx.cancel.is_set():
        return _row(ctx, host, "skipped", "Cancelled before this host was reached.")
    user = ctx.spec.ssh_user(host)
    emit_status(ctx, host.name, "connecting", f"logging in as {user} with the key")
    try:
        with connect(ctx, host, timeout=timeout) as conn:
            sudo = probe_sudo(conn, ctx.secrets.become_password or ctx.secrets.password_for(host.name))
        return _finish(ctx, host, "ok", "The key already logs in.", sudo, key_added=False)
    except AuthenticationFailed as refused:
        if refused.reason != "key":
            return _failed(ctx, host, refused)
    except KwizardError as error:
        return _failed(ctx, host, error)

    password = ctx.secrets.password_for(host.name)
    if password is None:
        return _row(
            ctx, host, "needs-password",
            f"The key is not authorised for {user} yet; the password is needed once to install it.",
            "Type the password (the same for all such hosts, or per host).",
            reason="needs-password",
        )  # fmt: skip
    emit_status(ctx, host.name, "installing", f"installing the key for {user} (password login)")
    try:
        with connect(ctx, host, use_password=True, use_key=False, use_agent=False, timeout=timeout) as conn:
            installed = install_key(conn, key.public_line, key.key_data)
            sudo = probe_sudo(conn, ctx.secrets.become_password or password)
    except KwizardError as error:
        return _failed(ctx, host, error)

    emit_status(ctx, host.name, "verifying", "logging in with the key alone")
    try:
        with connect(ctx, host, use_agent=False, timeout=timeout) as conn:
            run(conn, ["true"])
    except AuthenticationFailed:
        strict = installed.home_mode not in ("unknown",) and int(installed.home_mode, 8) & 0o022
        return _row(
            ctx, host, "failed",
            f"The key is in ~{user}/.ssh/authorized_keys but sshd still refuses it"
            + (f" (home directory mode {installed.home_mode} is writable by others)." if strict else "."),
            f"Make the home directory not group/world-writable (chmod go-w ~{user})"
            if strict
            else "Check sshd_config: PubkeyAuthentication yes and AuthorizedKeysFile .ssh/authorized_keys.",
            reason="key-refused-after-install",
        )  # fmt: skip
    except KwizardError as error:
        return _failed(ctx, host, error)
    detail = "Key installed." if installed.added else "Key was already in authorized_keys."
    return _finish(ctx, host, "installed", detail, sudo, key_added=installed.added)


def secure_hosts(
    ctx: PhaseContext,
    hosts: Sequence[Host],
    key: KeyPair,
    *,
    ask_password: PasswordPrompt | None = None,
    timeout: float = 10.0,
) -> list[HostAccess]:
    """`secure_host` for every host in parallel; asks the password once for all that refuse the key.

    Host keys the user declined in an earlier run are asked about again.
    """
    forget_declined_host_keys()
    bastion_problem = check_bastion(ctx, timeout=timeout)
    if bastion_problem is not None:
        return [
            _row(
                ctx, h, "failed", f"Bastion: {bastion_problem.problem}", bastion_problem.fix, reason="bastion"
            )
            for h in hosts
        ]
    rows = _in_parallel(ctx, hosts, key, timeout)
    waiting = [r.host for r in rows if r.status == "needs-password"]
    if waiting and ask_password is not None and ctx.secrets.ssh_password is None and not ctx.cancel.is_set():
        password = ask_password(waiting)
        if password:
            ctx.secrets.ssh_password = password
            retried = {
                r.host: r for r in _in_parallel(ctx, [h for h in hosts if h.name in waiting], key, timeout)
            }
            rows = [retried.get(r.host, r) for r in rows]
    return rows


def check_bastion(ctx: PhaseContext, *, timeout: float = 10.0) -> KwizardError | None:
    """Open the bastion once before fanning out, so its host key is asked about once; None when fine."""
    bastion = bastion_endpoint(ctx)
    if bastion is None:
        return None
    emit_status(ctx, bastion.name, "connecting", f"bastion {bastion.address}")
    try:
        with connect_endpoint(ctx, bastion, timeout=timeout):
            pass
    except KwizardError as error:
        emit_status(ctx, bastion.name, "failed", error.problem, error.fix)
        return error
    emit_status(ctx, bastion.name, "ok", "bastion reachable")
    return None


def _in_parallel(ctx: PhaseContext, hosts: Sequence[Host], key: KeyPair, timeout: float) -> list[HostAccess]:
    if not hosts:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(hosts)), thread_name_prefix="access") as pool:
        return list(pool.map(lambda h: _guarded(ctx, h, key, timeout), hosts))


def _guarded(ctx: PhaseContext, host: Host, key: KeyPair, timeout: float) -> HostAccess:
    try:
        return secure_host(ctx, host, key, timeout=timeout)
    except Exception as exc:  # one host's bug must not take the other rows down
        return _row(ctx, host, "failed", f"Unexpected error: {type(exc).__name__}: {exc}", reason="internal")


def _finish(
    ctx: PhaseContext, host: Host, status: AccessStatus, detail: str, sudo: SudoAccess, *, key_added: bool
) -> HostAccess:
    user = ctx.spec.ssh_user(host)
    if sudo == "none":
        return _row(
            ctx, host, "failed",
            f"{detail} But {user} cannot use sudo, and Kubespray needs root.",
            f"Add {user} to the sudo group (usermod -aG sudo {user}) or log in as root.",
            reason="no-sudo", sudo=sudo, key_added=key_added,
        )  # fmt: skip
    warnings: tuple[str, ...] = ()
    if sudo in ("password", "unverified") and ctx.spec.ssh.become_password_env is None:
        warnings = (
            f"sudo asks {user} for a password: name it in ssh.become_password_env (or allow NOPASSWD) "
            "so Ansible can become root.",
        )
    return _row(ctx, host, status, detail, sudo=sudo, key_added=key_added, warnings=warnings)


def _failed(ctx: PhaseContext, host: Host, error: KwizardError) -> HostAccess:
    return _row(ctx, host, "failed", error.problem, error.fix, reason=_reason(error))


def _reason(error: KwizardError) -> str:
    if isinstance(error, AuthenticationFailed):
        return {"password": "wrong-password"}.get(error.reason, error.reason)
    if isinstance(error, HostKeyChanged):
        return "host-key-changed"
    if isinstance(error, HostKeyNotTrusted):
        return "host-key-not-trusted"
    if isinstance(error, HostUnreachable):
        return "unreachable"
    return type(error).__name__


def _row(
    ctx: PhaseContext, host: Host, status: AccessStatus, detail: str, fix: str = "", **extra: Any
) -> HostAccess:
    row = HostAccess(host.name, host.address, status, detail, fix, **extra)
    emit_status(ctx, host.name, status, detail, fix)
    return row
