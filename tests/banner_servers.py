"""Real TCP listeners on loopback addresses that greet like a server would (for scan tests)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def banner_servers(greetings: dict[str, bytes]) -> Iterator[int]:
    """Listen on each loopback address of `greetings` (one free port for all) and send its banner to
    every connection; yields the port. All of 127.0.0.0/8 is local on Linux."""
    servers: list[socket.socket] = []
    port = 0
    for address in greetings:
        server = socket.socket()
        server.bind((address, port))
        port = server.getsockname()[1]
        server.listen()
        server.settimeout(0.1)
        servers.append(server)
    stop = threading.Event()

    def serve(server: socket.socket, banner: bytes) -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(banner)

    threads = [
        threading.Thread(target=serve, args=(server, banner), daemon=True)
        for server, banner in zip(servers, greetings.values(), strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        yield port
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=2)
        for server in servers:
            server.close()
