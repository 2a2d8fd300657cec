"""CIDR scan for SSH, against real listening sockets on loopback addresses (all of 127/8 is local)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from kwizard.discovery.scan import CONFIRM_ABOVE, LargeScan, scan, scan_targets
from kwizard.errors import InputError
from tests.banner_servers import banner_servers


@pytest.fixture
def listeners() -> Iterator[tuple[int, list[str]]]:
    """An SSH server greeting on 127.0.9.2 and an HTTP one on 127.0.9.5, same free port."""
    greetings = {"127.0.9.2": b"SSH-2.0-OpenSSH_9.6\r\n", "127.0.9.5": b"HTTP/1.0 400 nope\r\n"}
    with banner_servers(greetings) as port:
        yield port, list(greetings)


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
