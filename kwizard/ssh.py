"""SSH connections to cluster hosts (contract; implemented with issue #4).

`connect()` returns a Fabric Connection that verifies host keys against the workspace's known_hosts
(trust on first use through `ctx.confirm_host_key`, a changed key refused with a HostKeyChanged error
naming both fingerprints), goes through the spec's bastion when there is one, uses the spec's key
(and ssh-agent), and the password from `ctx.secrets` only when asked to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fabric import Connection

    from kwizard.engine.phase import PhaseContext
    from kwizard.spec import Host


def connect(
    ctx: PhaseContext, host: Host, *, use_password: bool = False, timeout: float = 10.0
) -> Connection:
    """An open, host-key-verified connection to `host`."""
    raise NotImplementedError("SSH access arrives with issue #4")
