"""Faults through the real CLI, on loopback: each gives a clear error naming the host and loses nothing.

- A host whose port accepts TCP but never speaks SSH: the run stops on it with the host, the reason and
  the fix in the summary, within the connection timeout.
- A second kwizard on a cluster another one is running: refused with exit 2, saying who holds the cluster
  and since when, before it writes anything (the running cluster's preset is left as it was).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from kwizard import preset
from kwizard.engine.journal import cluster_lock
from kwizard.paths import workspace
from kwizard.spec import ClusterSpec
from tests.conftest import kwizard_command, kwizard_env


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in [*held, server]:
            connection.close()


def _run(workdir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kwizard_command(*args),
        env=kwizard_env(KWIZARD_WORKDIR=str(workdir), COLUMNS="200"),
        capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _spec(port: int, key: Path, **changes: object) -> ClusterSpec:
    return ClusterSpec.model_validate(
        {
            "name": "faults",
            "hosts": [
                {"name": "mute", "address": "127.0.0.1", "port": port, "roles": ["control_plane", "etcd"]}
            ],
            "ssh": {"user": "root", "key": str(key)},
            "phases": ["discover", "access"],
            **changes,
        }
    )


def test_a_port_that_never_speaks_ssh_is_named_with_the_reason_and_the_fix(tmp_path: Path) -> None:
    with silent_port() as port:
        preset_file = tmp_path / "p.yaml"
        preset.save(_spec(port, tmp_path / "key"), preset_file)
        started = time.monotonic()
        run = _run(tmp_path / "work", "--preset", str(preset_file), "--yes", "--accept-new-host-keys")
        took = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Traceback" not in output and "internal error" not in output
    said = f"mute — access: mute (127.0.0.1:{port}) accepts connections but sent no SSH banner within 10 s"
    assert said in output
    assert f"Fix: Check that port {port} is the host's sshd" in output
    assert "kwizard --resume faults" in output
    assert took < 60, f"a silent host held the run for {took:.0f} s"


def test_a_second_kwizard_on_a_busy_cluster_is_refused_before_it_writes_anything(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    ws = workspace("faults", workdir).create()
    running = _spec(2222, tmp_path / "key")
    preset.save(running, ws.preset_file)
    before = ws.preset_file.read_bytes()
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({**yaml.safe_load(before), "description": "another preset"}))

    with cluster_lock(ws):  # this process is "the kwizard running the cluster"
        refused = [
            _run(workdir, "--preset", str(other), "--yes"),
            _run(workdir, "--resume", "faults", "--yes", "--apply-fixes"),
            _run(workdir, "--resume", "faults", "--yes"),
        ]
    for run in refused:
        output = run.stdout + run.stderr
        assert run.returncode == 2, output
        assert "Cluster busy" in output
        assert f"pid {os.getpid()} on host {socket.gethostname()}, since 20" in output
        assert "Traceback" not in output
    assert ws.preset_file.read_bytes() == before  # the running cluster's preset is untouched
    assert not list(ws.runs_dir.glob("2*"))  # and no run was started


def test_a_full_disk_at_the_very_start_is_one_clear_error(tmp_path: Path) -> None:
    """The workdir on a tmpfs that is full before kwizard writes anything (the preset, the lock…)."""
    preset_file = tmp_path / "p.yaml"
    preset.save(_spec(1, tmp_path / "key"), preset_file)
    full = tmp_path / "full"
    full.mkdir()
    command = " ".join(kwizard_command("--preset", str(preset_file), "--yes"))
    script = (
        f"mount -t tmpfs -o size=1m tmpfs {full} && (dd if=/dev/zero of={full}/filler bs=4k 2>/dev/null; "
        f"KWIZARD_WORKDIR={full} {command}; echo exit=$?)"
    )
    run = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
        env=kwizard_env(COLUMNS="200"), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert "exit=2" in output, output
    assert "Disk full" in output and f"Free some space on the disk holding {full}" in output
    assert "Traceback" not in output and "internal error" not in output


def test_a_changed_host_key_shows_both_fingerprints_in_every_output(tmp_path: Path) -> None:
    """The console summary, --json and the report name the trusted and the presented fingerprint."""
    import json
    import shutil

    import pytest

    from kwizard.hostkeys import KnownHosts
    from tests.loopback_sshd import available, loopback_sshd

    if not available():
        pytest.skip("needs root and sshd")
    with loopback_sshd(tmp_path / "sshd") as sshd:
        workdir = tmp_path / "work"
        ws = workspace("faults", workdir).create()
        other = tmp_path / "other"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True, timeout=30
        )
        old_key = " ".join(other.with_suffix(".pub").read_text().split()[:2])
        ws.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {old_key}\n")
        (trusted,) = KnownHosts(ws.known_hosts).lookup("127.0.0.1", sshd.port)
        shutil.copy(sshd.client_key, tmp_path / "key")
        preset_file = tmp_path / "p.yaml"
        preset.save(_spec(sshd.port, tmp_path / "key"), preset_file)
        run = _run(workdir, "--preset", str(preset_file), "--yes")
        resumed = _run(workdir, "--resume", "faults", "--yes", "--json")
    presented = sshd.host_public_key
    ws.known_hosts.write_text(f"[127.0.0.1]:{sshd.port} {presented}\n")
    (new,) = KnownHosts(ws.known_hosts).lookup("127.0.0.1", sshd.port)
    for output in (run.stdout, resumed.stdout):
        assert trusted.fingerprint in output and new.fingerprint in output, output[-3000:]
    summary = json.loads(resumed.stdout)
    assert trusted.fingerprint in json.dumps(summary)
    (report,) = ws.runs_dir.glob("*/report.md")
    assert trusted.fingerprint in report.read_text() and new.fingerprint in report.read_text()
