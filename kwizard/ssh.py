"""SSH connections to cluster hosts: Fabric, host keys checked against the cluster's known_hosts.

`connect(ctx, host)` returns an open Fabric Connection. Host keys are verified against
`ctx.ws.known_hosts` (the file Ansible uses later): a key seen for the first time is shown through
`ctx.confirm_host_key` (trust on first use; headless: `--accept-new-host-keys` or
`ssh.accept_new_host_keys` in the preset) and stored; a changed key is refused with `HostKeyChanged`,
naming both fingerprints. The spec's bastion is used as a Fabric gateway with its own user and key.
Authentication: the spec's key and ssh-agent; the password from `ctx.secrets` only with
`use_password=True`. Failures are KwizardErrors (`HostUnreachable`, `AuthenticationFailed`, …).

Callers that fan out over many hosts may call `connect` from several threads at once: host-key
questions are asked one at a time, and a key declined once is not asked again in this process until
`forget_declined_host_keys()`.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import socket
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paramiko
from fabric import Config, Connection

from kwizard.errors import InputError, RemoteError
from kwizard.hostkeys import KnownHosts, fingerprint, host_pattern
from kwizard.protocol.phase import HostKeyPrompt
from kwizard.ssh_errors import (
    AuthenticationFailed,
    Endpoint,
    HostKeyChanged,
    HostKeyNotTrusted,
    translate_error,
)

if TYPE_CHECKING:
    from invoke.runners import Result

    from kwizard.protocol.phase import PhaseContext
    from kwizard.spec import Host

BASTION_NAME = "bastion"  # Kubespray's name for the bastion host, used in prompts and per-host secrets

# paramiko's transport thread logs handshake failures with tracebacks; without a handler Python would
# print them on stderr, over the wizard's screen. We report those failures as KwizardErrors instead.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

_PROMPT_LOCK = threading.Lock()
_DECLINED: set[tuple[str, str, str]] = set()  # (known_hosts path, pattern, fingerprint)


class _GatewayFailed(Exception):
    """Opening the bastion hop failed; carries the cause so it is explained as the bastion's problem."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


class _PromptAckSocket(socket.socket):
    """A TCP socket that acknowledges what it receives at once (Linux TCP_QUICKACK after every read).

    sshd leaves Nagle's algorithm on for non-interactive sessions, so when it sends two small packets in
    a row (say the host-keys notice after login, then the channel confirmation) the second waits for the
    first one's ACK, and a client that delays its ACKs makes it wait 40 ms. Those stalls added over
    80 ms to every probe. Quick ACKs are not sticky in Linux, hence the re-arming after each read.
    """

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        with contextlib.suppress(OSError):
            self.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return data


def _low_latency_transport(sock: Any, **kwargs: Any) -> paramiko.Transport:
    """paramiko's Transport over `sock`, with Nagle off and prompt ACKs when `sock` is a TCP socket."""
    if (
        isinstance(sock, socket.socket)
        and sock.type == socket.SOCK_STREAM
        and sock.family in (socket.AF_INET, socket.AF_INET6)
    ):
        timeout = sock.gettimeout()
        tcp: socket.socket = sock
        if hasattr(socket, "TCP_QUICKACK"):  # Linux only
            tcp = _PromptAckSocket(sock.family, sock.type, sock.proto, sock.detach())
            tcp.settimeout(timeout)
        with contextlib.suppress(OSError):
            tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = tcp
    transport = paramiko.Transport(sock, **kwargs)
    # AES-GCM first: its tag is checked inside the cryptography library, where paramiko checks the HMAC
    # of the CTR modes byte by byte in Python (most of the client's CPU per connection). Every other
    # cipher stays offered, in paramiko's order, for servers without GCM.
    options = transport.get_security_options()
    aead = tuple(c for c in options.ciphers if c.endswith("-gcm@openssh.com"))
    options.ciphers = aead + tuple(c for c in options.ciphers if c not in aead)
    return transport


class HostConnection(Connection):
    """A Fabric Connection whose gateway channel honours the connect timeout and closes with it."""

    def open_gateway(self) -> Any:
        if not isinstance(self.gateway, Connection):
            return super().open_gateway()
        try:
            self.gateway.open()
        except (RemoteError, InputError):
            raise
        except Exception as exc:
            raise _GatewayFailed(exc) from exc
        # Fabric leaves the channel timeout at paramiko's default of an hour; a target the bastion
        # cannot reach must fail as fast as a direct connection would.
        return self.gateway.transport.open_channel(
            kind="direct-tcpip",
            dest_addr=(self.host, int(self.port)),
            src_addr=("", 0),
            timeout=self.connect_timeout,
        )

    def close(self) -> None:
        super().close()
        if isinstance(self.gateway, Connection):
            self.gateway.close()


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Asks (once, serialised across threads) whether to trust a new host key, then records it."""

    def __init__(self, ctx: PhaseContext, endpoint: Endpoint):
        self.ctx = ctx
        self.endpoint = endpoint
        self.known_hosts = KnownHosts(ctx.ws.known_hosts)

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        if self.ctx.confirm_host_keys is not None:
            _QUESTIONS.ask(self, key)
            return
        ep = self.endpoint
        new = fingerprint(key)
        with _PROMPT_LOCK:
            # Another thread may have answered for this host while we waited (e.g. the bastion).
            if self.known_or_changed(key):
                return
            decline_id = (str(self.known_hosts.path), host_pattern(ep.address, ep.port), new)
            headless = self.ctx.confirm_host_key is None
            if decline_id in _DECLINED:
                accepted = False
            elif headless:
                accepted = self.ctx.options.trusts_new_host_keys(self.ctx.spec)
            else:
                prompt = HostKeyPrompt(ep.name, ep.address, ep.port, key.get_name(), new)
                accepted = bool(self.ctx.confirm_host_key(prompt))  # type: ignore[misc]
            if not accepted:
                if not headless:
                    _DECLINED.add(decline_id)
                raise HostKeyNotTrusted(ep.name, ep.address, ep.port, key.get_name(), new, headless=headless)
            self.known_hosts.add(ep.address, ep.port, key)
        self.ctx.log("access", f"trusted new {key.get_name()} host key {new}", host=ep.name)

    def known_or_changed(self, key: paramiko.PKey) -> bool:
        """True when the key is already trusted; HostKeyChanged when another key is (call under the lock)."""
        ep = self.endpoint
        known = self.known_hosts.lookup(ep.address, ep.port)
        if not known:
            return False
        if any(e.key_type == key.get_name() and e.key == key for e in known):
            return True
        raise HostKeyChanged(
            ep.name, ep.address, ep.port, self.known_hosts.path, known[0].fingerprint, fingerprint(key)
        )


# How long the first new key waits for the others of the same parallel round (access and preflight
# connect to every host at once): one list of N fingerprints instead of N dialogs.
GATHER_SECONDS = 0.4


@dataclass
class _Question:
    policy: _TrustOnFirstUse
    key: paramiko.PKey
    prompt: HostKeyPrompt
    answer: Future[bool]


class _HostKeyQuestions:
    """New host keys from parallel connections, gathered and asked about together (ctx.confirm_host_keys).

    The first thread to meet a new key leads: it waits GATHER_SECONDS for the others, asks about all of
    them in one go and hands every thread its answer; keys met while it asks make the next round.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[_Question] = []
        self.leading = False

    def ask(self, policy: _TrustOnFirstUse, key: paramiko.PKey) -> None:
        ep = policy.endpoint
        new = fingerprint(key)
        with _PROMPT_LOCK:
            if policy.known_or_changed(key):
                return
            if (str(policy.known_hosts.path), host_pattern(ep.address, ep.port), new) in _DECLINED:
                raise HostKeyNotTrusted(ep.name, ep.address, ep.port, key.get_name(), new, headless=False)
        question = _Question(
            policy, key, HostKeyPrompt(ep.name, ep.address, ep.port, key.get_name(), new), Future()
        )
        with self.lock:
            self.pending.append(question)
            lead = not self.leading
            self.leading = True
        if lead:
            time.sleep(GATHER_SECONDS)
            self._answer_rounds()
        if not question.answer.result():
            raise HostKeyNotTrusted(ep.name, ep.address, ep.port, key.get_name(), new, headless=False)
        policy.ctx.log("access", f"trusted new {key.get_name()} host key {new}", host=ep.name)

    def _answer_rounds(self) -> None:
        while True:
            with self.lock:
                batch, self.pending = self.pending, []
                if not batch:
                    self.leading = False
                    return
            try:
                self._answer(batch)
            except BaseException as exc:  # every waiting thread learns what went wrong
                for question in batch:
                    if not question.answer.done():
                        question.answer.set_exception(exc)

    def _answer(self, batch: list[_Question]) -> None:
        unique: dict[tuple[str, int, str], list[_Question]] = {}
        for question in batch:  # two connections to one host (a bastion…) ask once
            p = question.prompt
            unique.setdefault((p.address, p.port, p.fingerprint), []).append(question)
        with _PROMPT_LOCK:  # a key trusted in the round before (same host, other connection) is settled
            for key in [k for k, group in unique.items() if group[0].policy.known_or_changed(group[0].key)]:
                for question in unique.pop(key):
                    question.answer.set_result(True)
        groups = list(unique.values())
        if not groups:
            return
        asker = groups[0][0].policy.ctx.confirm_host_keys
        assert asker is not None
        # Not under _PROMPT_LOCK: keys met while the user reads this list queue up for the next round.
        answers = list(asker([group[0].prompt for group in groups]))
        with _PROMPT_LOCK:
            for group, trusted in zip(groups, (answers + [False] * len(groups))[: len(groups)], strict=True):
                first = group[0]
                ep = first.policy.endpoint
                if trusted:
                    first.policy.known_hosts.add(ep.address, ep.port, first.key)
                else:
                    path = str(first.policy.known_hosts.path)
                    _DECLINED.add((path, host_pattern(ep.address, ep.port), first.prompt.fingerprint))
                for question in group:
                    question.answer.set_result(bool(trusted))


_QUESTIONS = _HostKeyQuestions()


def forget_declined_host_keys() -> None:
    """Let the next connection ask again about host keys the user declined earlier."""
    with _PROMPT_LOCK:
        _DECLINED.clear()


def host_endpoint(ctx: PhaseContext, host: Host) -> Endpoint:
    """The hop to `host` as the spec describes it (user, port and key defaults applied)."""
    spec = ctx.spec
    return Endpoint(host.name, host.address, spec.ssh_port(host), spec.ssh_user(host), _path(spec.ssh.key))


def bastion_endpoint(ctx: PhaseContext) -> Endpoint | None:
    """The bastion hop, or None; it falls back to the cluster's user and key where it sets none."""
    bastion = ctx.spec.bastion
    if bastion is None:
        return None
    key = bastion.key or ctx.spec.ssh.key
    return Endpoint(
        BASTION_NAME, bastion.address, bastion.port, bastion.user or ctx.spec.ssh.user, _path(key)
    )


def connect(
    ctx: PhaseContext,
    host: Host,
    *,
    use_password: bool = False,
    timeout: float = 10.0,
    use_key: bool = True,
    use_agent: bool = True,
) -> Connection:
    """An open, host-key-verified connection to `host` (through the bastion when the spec has one).

    `use_key`/`use_agent` let a caller prove that exactly the spec's key works (use_agent=False).
    Raises HostKeyChanged, HostKeyNotTrusted, HostUnreachable, AuthenticationFailed or InputError
    (unusable key file); never a paramiko or socket exception. The caller closes the connection
    (`with connect(...) as conn:`), which closes the bastion hop too.
    """
    target = host_endpoint(ctx, host)
    password = ctx.secrets.password_for(host.name) if use_password else None
    if use_password and password is None:
        raise AuthenticationFailed(
            "No password given",
            f"{target.name} needs a password for user {target.user!r} and none was given.",
            "Type it on the Access step, or name the environment variable holding it in "
            "ssh.password_env of the preset.",
            reason="no-password",
        )
    return connect_endpoint(
        ctx,
        target,
        password=password,
        timeout=timeout,
        use_key=use_key,
        use_agent=use_agent,
        via_bastion=True,
    )


def connect_endpoint(
    ctx: PhaseContext,
    target: Endpoint,
    *,
    password: str | None = None,
    timeout: float = 10.0,
    use_key: bool = True,
    use_agent: bool = True,
    via_bastion: bool = True,
) -> HostConnection:
    """Like `connect`, for an explicit hop (e.g. `bastion_endpoint(ctx)` with via_bastion=False)."""
    known_hosts = ctx.ws.known_hosts
    bastion = bastion_endpoint(ctx) if via_bastion else None
    gateway: HostConnection | None = None
    if bastion is not None:
        bastion_password = ctx.secrets.per_host_password.get(BASTION_NAME) if password is not None else None
        gateway = _connection(ctx, bastion, bastion_password, timeout, use_key=True, use_agent=True)
    conn = _connection(ctx, target, password, timeout, use_key=use_key, use_agent=use_agent, gateway=gateway)
    try:
        conn.open()
    except (RemoteError, InputError):
        conn.close()
        raise
    except _GatewayFailed as failed:
        conn.close()
        assert bastion is not None
        raise translate_error(
            failed.cause, bastion, None, known_hosts=known_hosts, use_password=False, timeout=timeout
        ) from None
    except Exception as exc:
        conn.close()
        raise translate_error(
            exc, target, bastion, known_hosts=known_hosts, use_password=password is not None, timeout=timeout
        ) from None
    return conn


def _connection(
    ctx: PhaseContext,
    ep: Endpoint,
    password: str | None,
    timeout: float,
    *,
    use_key: bool,
    use_agent: bool,
    gateway: HostConnection | None = None,
) -> HostConnection:
    connect_kwargs: dict[str, Any] = {
        "allow_agent": use_agent,
        "look_for_keys": False,  # only the keys the spec names; stray ~/.ssh/id_* would burn MaxAuthTries
        "banner_timeout": timeout,
        "auth_timeout": timeout,
        "transport_factory": _low_latency_transport,
    }
    if use_key and ep.key is not None:
        connect_kwargs["key_filename"] = [str(_usable_key(ep))]
    if password is not None:
        connect_kwargs["password"] = password
    # An empty explicit SSHConfig: ~/.ssh/config must not silently reroute hosts the spec names.
    config = Config(ssh_config=paramiko.SSHConfig(), overrides={"run": {"in_stream": False, "hide": True}})
    conn = HostConnection(
        ep.address,
        user=ep.user,
        port=ep.port,
        config=config,
        gateway=gateway if gateway is not None else False,
        connect_timeout=max(1, round(timeout)),
        connect_kwargs=connect_kwargs,
    )
    conn.client.set_missing_host_key_policy(_TrustOnFirstUse(ctx, ep))
    trusted = conn.client.get_host_keys()
    for entry in KnownHosts(ctx.ws.known_hosts).lookup(ep.address, ep.port):
        trusted.add(host_pattern(ep.address, ep.port), entry.key_type, entry.key)
    return conn


def _usable_key(ep: Endpoint) -> Path:
    assert ep.key is not None
    if not ep.key.is_file():
        raise InputError(
            "SSH key not found",
            f"The private key {ep.key} for {ep.name} does not exist.",
            "Choose an existing key (ssh.key in the preset) or let kwizard generate one on the Access step.",
        )
    return ep.key


def run(
    conn: Connection,
    argv: Sequence[str],
    *,
    sudo: bool = False,
    sudo_password: str | None = None,
    timeout: float | None = 60.0,
) -> Result:
    """Run `argv` on the host with every word shell-quoted; returns the Result (check `.ok`).

    A non-zero exit is not an exception. With `sudo`, `sudo_password` answers sudo's prompt (a wrong one
    gives exit 1 and "sudo: wrong password" in stderr); without one, `sudo -n` fails instead of waiting.
    Stdin is never forwarded (no terminal needed). Raises RemoteError when `timeout` seconds pass.
    """
    from invoke.exceptions import AuthFailure, CommandTimedOut
    from invoke.runners import Result

    command = shlex.join(argv)
    options: dict[str, Any] = {"hide": True, "warn": True, "in_stream": False, "timeout": timeout}
    try:
        if sudo and sudo_password is not None:
            return conn.sudo(command, password=sudo_password, **options)
        if sudo:
            command = "sudo -n -- " + command
        return conn.run(command, **options)
    except AuthFailure:
        return Result(stderr="sudo: wrong password\n", exited=1, command=command, hide=("stdout", "stderr"))
    except CommandTimedOut:
        raise RemoteError(
            "Command timed out",
            f"{argv[0]} on {conn.host} did not finish within {timeout:g} seconds.",
            "Check the host's load and network, then try again.",
        ) from None


def _path(value: str) -> Path:
    return Path(value).expanduser()
