"""How SSH failures are explained: every paramiko/socket failure becomes a KwizardError with a fix."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import paramiko
from paramiko.ssh_exception import NoValidConnectionsError

from kwizard.errors import InputError, KwizardError
from kwizard.ssh_errors import (
    AuthenticationFailed,
    Endpoint,
    HostKeyChanged,
    HostUnreachable,
    translate_error,
)

TARGET = Endpoint("lab1", "10.0.0.11", 22, "kwuser", Path("/k/id_ed25519"))
BASTION = Endpoint("bastion", "10.0.0.2", 22, "ops", None)


def explain(exc: BaseException, *, password: bool = False, bastion: Endpoint | None = None) -> KwizardError:
    error = translate_error(exc, TARGET, bastion, known_hosts=Path("/ws/known_hosts"), use_password=password)
    assert error.title and error.problem and error.fix
    return error


def test_refused_and_unroutable_connections() -> None:
    refused = NoValidConnectionsError({("10.0.0.11", 22): OSError(errno.ECONNREFUSED, "refused")})
    error = explain(refused)
    assert isinstance(error, HostUnreachable) and "connection refused (nothing listens" in error.problem
    no_route = explain(OSError(errno.EHOSTUNREACH, "No route to host"), bastion=BASTION)
    assert "no route to host" in no_route.problem and "through bastion 10.0.0.2" in no_route.problem
    assert "timed out" in explain(TimeoutError()).problem
    assert (
        "does not resolve" in explain(socket.gaierror(socket.EAI_NONAME, "Name or service not known")).problem
    )


def test_authentication_failures_say_which_credential() -> None:
    key = explain(paramiko.AuthenticationException("Authentication failed."))
    assert isinstance(key, AuthenticationFailed) and key.reason == "key" and "password once" in key.fix
    wrong = explain(paramiko.AuthenticationException("Authentication failed."), password=True)
    assert isinstance(wrong, AuthenticationFailed) and wrong.reason == "password"
    key_only = explain(
        paramiko.BadAuthenticationType("Bad authentication type", ["publickey"]), password=True
    )
    assert isinstance(key_only, AuthenticationFailed) and key_only.reason == "key-only"
    assert "accepts only publickey" in key_only.problem
    # A server that only takes passwords, when the key was offered: the key is not authorised (yet).
    password_only = explain(paramiko.BadAuthenticationType("Bad authentication type", ["password"]))
    assert isinstance(password_only, AuthenticationFailed) and password_only.reason == "key"


def test_passphrase_key_and_changed_host_key() -> None:
    locked = explain(paramiko.PasswordRequiredException("private key file is encrypted"))
    assert isinstance(locked, InputError) and "ssh-add /k/id_ed25519" in locked.fix
    old = paramiko.Ed25519Key(
        data=bytes.fromhex("0000000b7373682d65643235353139") + b"\x00\x00\x00\x20" + b"\x01" * 32
    )
    new = paramiko.Ed25519Key(
        data=bytes.fromhex("0000000b7373682d65643235353139") + b"\x00\x00\x00\x20" + b"\x02" * 32
    )
    changed = explain(paramiko.BadHostKeyException("10.0.0.11", new, old))
    assert isinstance(changed, HostKeyChanged)
    assert changed.old_fingerprint in changed.problem and changed.new_fingerprint in changed.problem
    assert changed.old_fingerprint != changed.new_fingerprint
    assert "ssh-keygen -R 10.0.0.11 -f /ws/known_hosts" in changed.fix


def test_bastion_channel_failure_and_garbage_banner() -> None:
    channel = explain(paramiko.ChannelException(2, "Connect failed"), bastion=BASTION)
    assert channel.title == "Host unreachable from the bastion" and "Connect failed" in channel.problem
    banner = explain(paramiko.SSHException("Error reading SSH protocol banner"))
    assert banner.title == "Not an SSH server" and "sent no SSH banner" in banner.problem
    silent = paramiko.SSHException("No existing session")
    timed = translate_error(silent, TARGET, None, known_hosts=Path("/k"), use_password=False, timeout=7)
    assert "accepts connections but sent no SSH banner within 7 s" in timed.problem


def test_anything_else_is_still_a_kwizard_error() -> None:
    assert explain(EOFError()).title == "SSH handshake failed"
    odd = translate_error(
        RuntimeError("odd"), TARGET, None, known_hosts=Path("/ws/known_hosts"), use_password=False
    )
    assert isinstance(odd, KwizardError) and "RuntimeError: odd" in odd.problem
