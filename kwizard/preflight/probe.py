"""Running the probe: one `sh -c` command per host, its output parsed into HostFacts."""

from __future__ import annotations

import shlex
import time
from functools import cache
from importlib import resources
from typing import Any, Protocol

from kwizard.errors import RemoteError
from kwizard.preflight.checks.network import required_ports
from kwizard.preflight.facts import HostFacts, parse_probe
from kwizard.spec import ClusterSpec, Host
from kwizard.storage.checks import device_probe_command

PROBE_TIMEOUT = 30.0


class CommandResult(Protocol):
    stdout: str
    stderr: str
    exited: int


class Runner(Protocol):
    """What the probe needs of a connection: Fabric's Connection.run (or invoke's Context.run)."""

    def run(self, command: str, **kwargs: Any) -> Any: ...


@cache
def probe_script() -> str:
    """The probe's text without its comment lines (it travels on the command line)."""
    text = resources.files("kwizard.preflight").joinpath("probe.sh").read_text()
    return "\n".join(line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def storage_device(spec: ClusterSpec, host: Host) -> str | None:
    """The disk to inspect on `host`: its storage_device when it will hold a Gluster brick."""
    if host.has("storage") and spec.storage.type == "gluster":
        return host.storage_device
    return None


def probe_arguments(spec: ClusterSpec, host: Host) -> list[str]:
    """The probe's `name=value` arguments for this host."""
    args = []
    if host.python_interpreter:
        args.append(f"py={host.python_interpreter}")
    ports = required_ports(spec, host)
    if ports:  # the probe asks which program holds a port only when one of these is taken
        args.append("ports=" + ",".join(str(p) for p in ports))
    device = storage_device(spec, host)
    if device:
        args.append(f"devcmd={device_probe_command(device)}")
    elif host.has("storage") and spec.storage.type == "gluster":
        args.append(f"brick={spec.storage.gluster.brick_dir}")
    return args


def probe_command(spec: ClusterSpec, host: Host) -> str:
    """The single shell command that probes `host` (every value quoted)."""
    quoted = " ".join(shlex.quote(a) for a in probe_arguments(spec, host))
    return f"sh -c {shlex.quote(probe_script())} kwizard-probe {quoted}".rstrip()


def run_probe(runner: Runner, spec: ClusterSpec, host: Host, timeout: float = PROBE_TIMEOUT) -> HostFacts:
    """Run the probe over `runner` (one round trip) and parse what it printed."""
    sent = time.time()
    try:
        result = runner.run(probe_command(spec, host), hide=True, warn=True, in_stream=False, timeout=timeout)
    except Exception as exc:  # invoke's CommandTimedOut, a dropped channel, ...
        raise RemoteError(
            "Preflight probe failed",
            f"{host.name}: running the probe failed: {type(exc).__name__}: {exc}",
            "Check that the host is not overloaded and that its login shell can run `sh -c`.",
        ) from exc
    received = time.time()
    return parse_probe(
        result.stdout,
        host=host.name,
        sent_at=sent,
        received_at=received,
    )
