"""What goes wrong reaching a host over SSH, said for people: the errors `kwizard.ssh` raises and the
mapping from paramiko's and the socket layer's exceptions to them (which credential was refused, a host
that accepts TCP but sends no SSH greeting, a changed host key with both fingerprints)."""

from __future__ import annotations

import errno
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path

import paramiko

from kwizard.errors import InputError, RemoteError
from kwizard.hostkeys import fingerprint, host_pattern


class HostKeyChanged(RemoteError):
    """The host presented a key different from the one trusted for it."""

    def __init__(self, name: str, address: str, port: int, known_hosts: Path, old: str, new: str):
        pattern = host_pattern(address, port)
        super().__init__(
            "Host key changed",
            f"{name} ({pattern}) presented host key {new}, but {old} is trusted for it. Either the host "
            "was reinstalled, or someone is intercepting the connection. kwizard did not log in.",
            "Check the new key on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub). "
            f"If it matches, forget the old one: ssh-keygen -R {shlex.quote(pattern)} "
            f"-f {shlex.quote(str(known_hosts))} and connect again.",
        )
        self.host, self.old_fingerprint, self.new_fingerprint = name, old, new


class HostKeyNotTrusted(RemoteError):
    """A host key seen for the first time was not accepted."""

    def __init__(self, name: str, address: str, port: int, key_type: str, new: str, *, headless: bool):
        fix = (
            "Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run "
            "again with --accept-new-host-keys (or ssh.accept_new_host_keys: true in the preset)."
            if headless
            else "Connect again and accept the key if the fingerprint matches the host's own."
        )
        super().__init__(
            "Host key not trusted",
            f"{name} ({host_pattern(address, port)}) presented a new {key_type} key {new}; "
            "it was not accepted.",
            fix,
        )
        self.host, self.new_fingerprint = name, new


class HostUnreachable(RemoteError):
    """No SSH session could be opened to the host (network, closed port, not an SSH server)."""


class AuthenticationFailed(RemoteError):
    """The host refused every credential offered. `reason`: key, password, key-only, no-password."""

    def __init__(self, title: str, problem: str, fix: str, *, reason: str):
        super().__init__(title, problem, fix)
        self.reason = reason


@dataclass(frozen=True)
class Endpoint:
    """One SSH hop, fully resolved from the spec."""

    name: str
    address: str
    port: int
    user: str
    key: Path | None


def translate_error(
    exc: BaseException,
    target: Endpoint,
    bastion: Endpoint | None,
    *,
    known_hosts: Path,
    use_password: bool,
    timeout: float | None = None,
) -> RemoteError | InputError:
    """A KwizardError explaining a paramiko/socket failure to reach or log in to `target`."""
    where = f"{target.name} ({target.address}:{target.port})"
    via = f" through bastion {bastion.address}" if bastion else ""
    if isinstance(exc, paramiko.BadHostKeyException):
        old, new = fingerprint(exc.expected_key), fingerprint(exc.key)
        return HostKeyChanged(target.name, target.address, target.port, known_hosts, old, new)
    if isinstance(exc, paramiko.PasswordRequiredException):
        return InputError(
            "SSH key needs its passphrase",
            f"The private key {target.key} is protected by a passphrase and no ssh-agent holds it.",
            f"Load it into your agent first: ssh-add {shlex.quote(str(target.key))}",
        )
    if isinstance(exc, paramiko.AuthenticationException):
        allowed = set(getattr(exc, "allowed_types", []) or [])
        takes_passwords = not allowed or bool(allowed & {"password", "keyboard-interactive"})
        if use_password and not takes_passwords:
            return AuthenticationFailed(
                "Password login disabled",
                f"{where} refused the key for user {target.user!r} and accepts only "
                f"{', '.join(sorted(allowed))} — no passwords.",
                "Install the public key another way (cloud-init, the provider's key pair, the console), "
                "or choose the key that is already authorised there.",
                reason="key-only",
            )
        if use_password:
            return AuthenticationFailed(
                "Wrong password",
                f"{where} refused the password for user {target.user!r}.",
                "Type the password again (it may differ per host), and check the user name.",
                reason="password",
            )
        return AuthenticationFailed(
            "Key not accepted",
            f"{where} refused the key {target.key} for user {target.user!r}.",
            "Give the password once so kwizard can install the key, or pick the key that is authorised.",
            reason="key",
        )
    if isinstance(exc, paramiko.ChannelException):
        return HostUnreachable(
            "Host unreachable from the bastion",
            f"The bastion could not open a connection to {where}: {exc.text}.",
            "Check the address, that sshd runs there, and that the bastion may reach it (security groups, "
            "firewall).",
        )
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return HostUnreachable(
            "Host did not answer",
            f"Connecting to {where}{via} timed out.",
            f"Check the address, that the host is up, and that port {target.port} is open (firewall, "
            "security group).",
        )
    if isinstance(exc, OSError):  # includes paramiko's NoValidConnectionsError
        return HostUnreachable(
            "Host unreachable",
            f"Cannot connect to {where}{via}: {_os_reason(exc)}.",
            f"Check the address and that sshd listens on port {target.port}.",
        )
    if isinstance(exc, paramiko.SSHException) and any(
        words in str(exc) for words in ("protocol banner", "No existing session")
    ):
        # paramiko's words for a port that accepted the connection but never sent an SSH greeting (a
        # load balancer, another service, a hung sshd); it says "No existing session" when that happens
        # while authenticating.
        within = f" within {timeout:g} s" if timeout else ""
        return HostUnreachable(
            "Not an SSH server",
            f"{where}{via} accepts connections but sent no SSH banner{within}: no SSH server answered.",
            f"Check that port {target.port} is the host's sshd (not another service or a load balancer) "
            "and that sshd is not hung; `ssh -v` shows where it stops.",
        )
    if isinstance(exc, (paramiko.SSHException, EOFError)):
        return HostUnreachable(
            "SSH handshake failed",
            f"{where}{via}: {exc or type(exc).__name__}.",
            f"Check that port {target.port} is an SSH server and that the host is not overloaded.",
        )
    return RemoteError("SSH connection failed", f"{where}{via}: {type(exc).__name__}: {exc}")


def _os_reason(exc: OSError) -> str:
    causes = list(getattr(exc, "errors", {}).values()) or [exc]  # NoValidConnectionsError: per address
    codes = {getattr(cause, "errno", None) for cause in causes}
    if errno.ECONNREFUSED in codes:
        return "connection refused (nothing listens on that port)"
    if codes & {errno.EHOSTUNREACH, errno.ENETUNREACH}:
        return "no route to host"
    if isinstance(exc, socket.gaierror):
        return f"the name does not resolve ({exc.strerror})"
    return exc.strerror or str(exc)
