"""CIDR scan for SSH, against real listening sockets on loopback addresses (all of 127/8 is local)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from kwizard.discovery.scan import CONFIRM_ABOVE, LargeScan, scan, scan_targets
from kwizard.errors import InputError


@pytest.fixture
def listeners() -> Iterator[tuple[int, list[str]]]:
    """An SSH-like server on 127.0.9.2 and a silent one on 127.0.9.5, same free port."""
    probe = socket.socket()
    probe.bind(("127.0.9.2", 0))
    port = probe.getsockname()[1]
    servers = [probe]
    silent = socket.socket()
    silent.bind(("127.0.9.5", port))
    servers.append(silent)
    stop = threading.Event()
    for server in servers:
        server.listen()
        server.settimeout(0.1)

    def serve(server: socket.socket, banner: bytes) -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                if banner:
                    conn.sendall(banner)

    threads = [
        threading.Thread(target=serve, args=(probe, b"SSH-2.0-OpenSSH_9.6\r\n"), daemon=True),
        threading.Thread(target=serve, args=(silent, b"HTTP/1.0 400 nope\r\n"), daemon=True),
    ]
    for thread in threads:
        thread.start()
    yield port, ["127.0.9.2", "127.0.9.5"]
    stop.set()
    for thread in threads:
        thread.join(timeout=2)
    for server in servers:
        server.close()


def test_scan_finds_listeners_and_tells_ssh_apart(listeners: tuple[int, list[str]]) -> None:
    port, addresses = listeners
    progress: list[tuple[int, int, int]] = []
    found = scan("127.0.9.0/28", port, timeout=1.0, concurrency=8, progress=lambda *a: progress.append(a))
    assert [c.address for c in found.candidates] == addresses
    assert all(c.port == port for c in found.candidates)
    assert found.notes == (f"127.0.9.5:{port} answers but is not SSH ('HTTP/1.0 400 nope')",)
    assert progress[-1] == (14, 14, 2)  # /28 has 14 usable addresses, each reported once
    assert [p[0] for p in progress] == list(range(1, 15))


def test_scan_can_be_cancelled(listeners: tuple[int, list[str]]) -> None:
    port, _ = listeners
    cancel = threading.Event()
    cancel.set()
    assert scan("127.0.9.0/28", port, cancel=cancel).candidates == ()


def test_large_ranges_need_confirmation_and_absurd_ones_are_refused() -> None:
    with pytest.raises(LargeScan) as large:
        scan_targets("10.0.0.0/8")
    assert large.value.count == 1 << 24
    assert "16,777,216" in large.value.problem
    total, addresses = scan_targets("10.0.0.0/8", allow_large=True)  # lazy: nothing built yet
    assert total == (1 << 24) - 2 and next(addresses) == "10.0.0.1"
    with pytest.raises(InputError, match="too large"):
        scan_targets("10.0.0.0/7", allow_large=True)
    with pytest.raises(InputError, match="too large"):
        scan_targets("fd00::/64", allow_large=True)
    assert scan_targets("10.0.0.0/22")[0] == CONFIRM_ABOVE - 2


def test_invalid_range_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not a network range"):
        scan_targets("10.0.0.0/33")
