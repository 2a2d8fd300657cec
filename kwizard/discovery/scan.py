"""Find SSH servers in a network range: concurrent TCP connects to port 22 (asyncio), bounded.

A host counts when its port accepts a connection; the banner it sends first ("SSH-2.0-OpenSSH_9.6")
is recorded so a non-SSH service on that port can be told apart. Large ranges need an explicit yes:
a /16 is 65 534 connection attempts, a /8 is sixteen million.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from kwizard.discovery.model import Candidate, Discovery
from kwizard.errors import InputError

CONFIRM_ABOVE = 1024  # addresses; a /22 and smaller scan without asking
REFUSE_ABOVE = 1 << 24  # a /8 at most, and only with a yes; anything larger is a mistake
DEFAULT_CONCURRENCY = 256
DEFAULT_TIMEOUT = 1.0

# progress(done, total, found)
ScanProgress = Callable[[int, int, int], None]


class LargeScan(InputError):
    """The range is big enough to need the user's explicit confirmation (`allow_large=True`)."""

    def __init__(self, cidr: str, count: int):
        super().__init__(
            "Large network range",
            f"{cidr} has {count:,} addresses; scanning it sends {count:,} connection attempts.",
            "Narrow the range (e.g. a /24), or confirm the large scan explicitly.",
        )
        self.count = count


@dataclass(frozen=True)
class ScanHit:
    address: str
    port: int
    banner: str  # first line the server sent, "" when it sent nothing within the timeout

    @property
    def is_ssh(self) -> bool:
        return self.banner.startswith("SSH-")


def scan_targets(cidr: str, *, allow_large: bool = False) -> tuple[int, Iterator[str]]:
    """How many addresses `cidr` holds to probe, and them lazily (network/broadcast excluded)."""
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as exc:
        raise InputError(
            "Invalid network range", f"{cidr!r} is not a network range ({exc}).", "Write it like 10.0.0.0/24."
        ) from None
    count = network.num_addresses
    if count > REFUSE_ABOVE:
        raise InputError(
            "Network range too large",
            f"{network} has {count:,} addresses; kwizard scans at most {REFUSE_ABOVE:,} (a /8).",
            "Scan the subnets your servers are in (e.g. 10.0.1.0/24), or type the addresses.",
        )
    if count > CONFIRM_ABOVE and not allow_large:
        raise LargeScan(str(network), count)
    if count > 2 and network.version == 4:
        return count - 2, (str(a) for a in network.hosts())
    return count, (str(a) for a in network)


def scan(
    cidr: str,
    port: int = 22,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = DEFAULT_TIMEOUT,
    progress: ScanProgress | None = None,
    cancel: threading.Event | None = None,
    allow_large: bool = False,
) -> Discovery:
    """Scan `cidr` for an open `port` (blocking; call it from a worker thread). Hits in address order."""
    total, targets = scan_targets(cidr, allow_large=allow_large)
    hits = asyncio.run(
        probe_all(
            targets,
            port,
            total=total,
            concurrency=concurrency,
            timeout=timeout,
            progress=progress,
            cancel=cancel,
        )
    )
    port_field = None if port == 22 else port
    candidates = tuple(Candidate(hit.address, port=port_field, source=f"scan {cidr}") for hit in hits)
    notes = tuple(
        f"{hit.address}:{hit.port} answers but is not SSH ({hit.banner[:40]!r})"
        for hit in hits
        if hit.banner and not hit.is_ssh
    )
    return Discovery(candidates, notes=notes)


async def probe_all(
    addresses: Iterable[str],
    port: int,
    *,
    total: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = DEFAULT_TIMEOUT,
    progress: ScanProgress | None = None,
    cancel: threading.Event | None = None,
) -> list[ScanHit]:
    """Probe every address with at most `concurrency` connections in flight (a fixed pool of workers
    pulling from the iterator, so a huge range never becomes millions of pending tasks)."""
    pending = iter(addresses)
    hits: list[ScanHit] = []
    done = 0
    total = total if total is not None else -1

    async def worker() -> None:
        nonlocal done
        for address in pending:  # shared iterator: each address goes to exactly one worker
            if cancel is not None and cancel.is_set():
                return
            hit = await probe(address, port, timeout)
            if hit is not None:
                hits.append(hit)
            done += 1
            if progress is not None:
                progress(done, total, len(hits))

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return sorted(hits, key=lambda hit: ipaddress.ip_address(hit.address))


async def probe(address: str, port: int, timeout: float) -> ScanHit | None:
    """A hit when `address:port` accepts a TCP connection within `timeout`, with the banner it sends."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), timeout)
    except (TimeoutError, OSError):
        return None
    banner = ""
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
        banner = line.decode("ascii", "replace").strip()
    except (TimeoutError, OSError, ValueError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return ScanHit(address, port, banner)
