"""Which nodes answer SSH right now: remove-node.yml needs `allow_ungraceful_removal` for the others."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from kwizard.errors import RemoteError

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext
    from kwizard.spec import Host

CONNECT_TIMEOUT = 8.0


def unreachable(ctx: PhaseContext, hosts: Sequence[Host], timeout: float = CONNECT_TIMEOUT) -> dict[str, str]:
    """host name → why kwizard could not log in (an SSH connect with the cluster's key), for each host that
    failed. A changed or untrusted host key is raised, not counted: that is for the user to settle."""
    from kwizard.ssh import connect
    from kwizard.ssh_errors import HostKeyChanged, HostKeyNotTrusted

    def probe(host: Host) -> str | None:
        try:
            with connect(ctx, host, timeout=timeout):
                return None
        except (HostKeyChanged, HostKeyNotTrusted):
            raise
        except RemoteError as error:
            return error.problem or error.title

    with ThreadPoolExecutor(max_workers=min(8, max(1, len(hosts)))) as pool:
        reasons = list(pool.map(probe, hosts))
    return {host.name: reason for host, reason in zip(hosts, reasons, strict=True) if reason is not None}
