"""Run a slow command (git clone, pip install), its output streamed line by line, bounded and cancellable."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

OnLine = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    tail: str  # the last lines of output, for error messages
    timed_out: bool = False
    cancelled: bool = False


def run_streaming(
    command: list[str],
    *,
    on_line: OnLine,
    timeout: float,
    cancel: threading.Event | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """Run `command`, passing each output line (stdout and stderr merged) to `on_line`.

    The process (and its children) is killed when `timeout` seconds pass or `cancel` is set, and runs
    under the guard (kwizard.runner.guard), so it does not outlive this process either.
    """
    from kwizard.runner import guard

    process = subprocess.Popen(
        guard.guarded(command),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
        start_new_session=True,  # its own process group: killing it also stops git's/pip's helpers
    )
    finished = threading.Event()
    reason: list[str] = []

    def watchdog() -> None:
        deadline = time.monotonic() + timeout
        while not finished.wait(0.2):
            if time.monotonic() > deadline:
                reason.append("timeout")
            elif cancel is not None and cancel.is_set():
                reason.append("cancel")
            else:
                continue
            # The guard stops everything below it (daemonised helpers too); the group kill is the fallback.
            guard.stop(process.pid, grace=guard.STOP_BOUND_SECONDS + 1.0)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return

    watcher = threading.Thread(target=watchdog, name="kwizard-process-watchdog", daemon=True)
    watcher.start()
    tail: collections.deque[str] = collections.deque(maxlen=30)
    stream = process.stdout
    assert stream is not None
    # Text mode turns '\r' into '\n', so progress meters that redraw one line arrive as lines.
    for raw in stream:
        line = raw.rstrip("\n")
        if line.strip():
            tail.append(line)
            on_line(line)
    returncode = process.wait()
    finished.set()
    watcher.join(timeout=5)
    return Outcome(
        returncode=returncode,
        tail="\n".join(tail),
        timed_out=reason == ["timeout"],
        cancelled=reason == ["cancel"],
    )
