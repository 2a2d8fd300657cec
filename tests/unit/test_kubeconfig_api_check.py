"""check_api: a real TLS handshake on loopback, verified against the cluster CA the kubeconfig carries."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kwizard.kubeconfig import check_api
from tests.pki import CertificateAuthority


def make_pki(tmp_path: Path, san_ip: str) -> tuple[str, Path, Path]:
    """A CA (base64 PEM, as in admin.conf) and an API server cert/key for `san_ip` signed by it."""
    authority = CertificateAuthority()
    server = authority.issue("kube-apiserver", ip=san_ip)
    cert_file, key_file = tmp_path / f"apiserver-{san_ip}.crt", tmp_path / f"apiserver-{san_ip}.key"
    cert_file.write_bytes(server.cert_pem)
    key_file.write_bytes(server.key_pem)
    return authority.cert_b64, cert_file, key_file


@pytest.fixture
def tls_server() -> Iterator[tuple[int, list[tuple[Path, Path]]]]:
    """A TLS listener on 127.0.0.1 presenting whichever cert/key pair the test puts in the list."""
    chain: list[tuple[Path, Path]] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*chain[-1])
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refused our certificate: that is what some tests expect

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], chain
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_matching_certificate_passes(tmp_path: Path, tls_server: tuple[int, list[tuple[Path, Path]]]) -> None:
    port, chain = tls_server
    ca, cert, key = make_pki(tmp_path, "127.0.0.1")
    chain.append((cert, key))
    assert check_api(f"https://127.0.0.1:{port}", ca) is None


def test_address_outside_the_certificate_names_the_fix(
    tmp_path: Path, tls_server: tuple[int, list[tuple[Path, Path]]]
) -> None:
    port, chain = tls_server
    ca, cert, key = make_pki(tmp_path, "10.0.0.11")  # the node's own IP; we dial another address
    chain.append((cert, key))
    problem = check_api(f"https://127.0.0.1:{port}", ca)
    assert problem is not None and "does not cover 127.0.0.1" in problem
    assert "supplementary_addresses_in_ssl_keys" in problem


def test_other_ca_and_closed_port(tmp_path: Path, tls_server: tuple[int, list[tuple[Path, Path]]]) -> None:
    port, chain = tls_server
    _, cert, key = make_pki(tmp_path, "127.0.0.1")
    other_ca, _, _ = make_pki(
        tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path, "127.0.0.1"
    )
    chain.append((cert, key))
    problem = check_api(f"https://127.0.0.1:{port}", other_ca)
    assert problem is not None and "not signed by the cluster CA" in problem
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    unreachable = check_api(f"https://127.0.0.1:{closed}", other_ca, timeout=2)
    assert unreachable is not None and "not reachable from here" in unreachable
