"""A small supervisor that binds a command and everything it starts to the life of kwizard.

ansible-runner starts ansible-playbook in its own session with SIGHUP ignored, and ssh's ControlPersist
masters daemonise themselves out of any process group, so neither a killed kwizard nor a process-group
kill stops them. kwizard therefore starts such commands through this guard::

    python guard.py --parent <kwizard pid> -- ansible-playbook …

The guard makes itself a child subreaper (so daemonised descendants re-parent to it, not to init), asks
the kernel for a signal when kwizard goes (PR_SET_PDEATHSIG, plus a poll of getppid for any gap), and
runs the command as its child with stdin/stdout/stderr untouched. When the command ends, when kwizard is
gone, or on SIGTERM, it stops every remaining descendant (SIGTERM, then SIGKILL after a short bound) and
exits with the command's status. SIGINT is the polite stop: forwarded to the command (ansible-playbook
ends its workers and prints its recap), and everything is stopped FORWARD_GRACE_SECONDS later at most.

It is run as a script by file path with `-I -S`, so it imports only the standard library and works
whatever the command's environment says about PYTHONPATH. Linux only: elsewhere the command is just
exec'd.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
# How often the guard wakes to check that kwizard is still its parent (PDEATHSIG usually comes first).
POLL_SECONDS = 0.1
# A forwarded SIGINT gives the command this long to stop by itself (ansible-playbook ends its
# workers and prints its summary) before everything left is stopped.
FORWARD_GRACE_SECONDS = 5.0
# Descendants get SIGTERM, then SIGKILL after this long (ssh masters close their sockets on SIGTERM).
TERM_GRACE_SECONDS = 0.5
# Upper bound for the whole stop; the guard never hangs on a process that will not die.
STOP_BOUND_SECONDS = 3.0
_WATCHED = {signal.SIGCHLD, signal.SIGINT, signal.SIGTERM}
EXIT_PARENT_GONE = 125  # the command was not started: kwizard was already gone


def guarded(command: list[str], *, parent: int | None = None) -> list[str]:
    """`command` as run under the guard, bound to process `parent` (default: this process)."""
    if not sys.platform.startswith("linux"):
        return list(command)
    pid = os.getpid() if parent is None else parent
    return [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "--parent", str(pid), "--", *command]


def wrapper_script(path: Path, command: list[str], *, parent: int | None = None) -> Path:
    """An executable shell script at `path` that runs `command` (plus its own arguments) under the guard.

    ansible-runner takes one executable path as the ansible-playbook to run; this is that path.
    """
    import shlex

    argv = shlex.join(guarded(command, parent=parent))
    path.write_text(f'#!/bin/sh\nexec {argv} "$@"\n', encoding="utf-8")
    path.chmod(0o700)
    return path


def stop(
    pid: int, *, sig: int = signal.SIGTERM, grace: float = FORWARD_GRACE_SECONDS + STOP_BOUND_SECONDS
) -> bool:
    """Send `sig` to the guard `pid` (SIGTERM: stop everything now; SIGINT: forwarded to the command
    first); True when the guard ended within `grace`.

    It is not reaped here (its parent's own wait, e.g. pexpect's, does that): a zombie counts as ended.
    """
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _ended(pid):
            return True
        time.sleep(0.02)
    return _ended(pid)


def _ended(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :][:1] in (b"Z", b"X")


# -- the supervisor ---------------------------------------------------------------------------------


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _children_map() -> dict[int, list[int]]:
    """Parent pid → child pids, from /proc/*/stat."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    """Every living descendant of `pid` (Linux /proc)."""
    tree = _children_map()
    found: list[int] = []
    pending = list(tree.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(tree.get(child, []))
    return found


def _reap() -> dict[int, int]:
    """Reap every exited child (re-parented orphans included); pid → wait status."""
    reaped: dict[int, int] = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped[pid] = status


def _stop_descendants(command_pid: int, status: dict[int, int]) -> None:
    """SIGTERM every descendant, SIGKILL what is left after TERM_GRACE_SECONDS; bounded in time."""
    me = os.getpid()
    start = time.monotonic()
    while time.monotonic() - start < STOP_BOUND_SECONDS:
        _collect(command_pid, status)
        left = descendants(me)
        if not left:
            return
        # New ones (a worker forking ssh while we stop) get the same treatment on the next round.
        sig = signal.SIGKILL if time.monotonic() - start > TERM_GRACE_SECONDS else signal.SIGTERM
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        time.sleep(0.02)
    for pid in descendants(me):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    _collect(command_pid, status)


def _collect(command_pid: int, status: dict[int, int]) -> None:
    status.update({pid: code for pid, code in _reap().items() if pid == command_pid})


def _end_like(status: int | None) -> int:
    """The command's exit code; a command killed by a signal makes the guard die of the same signal."""
    if status is None:
        return 1
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):  # SIGKILL/SIGSTOP have no handler to reset
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
        os.kill(os.getpid(), sig)
        return 128 + sig
    return os.waitstatus_to_exitcode(status)


def supervise(command: list[str], parent: int) -> int:
    """Run `command` bound to process `parent`; returns the command's exit code."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    # Signals are taken synchronously below (sigtimedwait); blocked from here on so none is lost.
    original_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        return EXIT_PARENT_GONE  # kwizard died before the death signal was armed: start nothing
    command_pid = os.fork()
    if command_pid == 0:  # the command: default signal state, and it dies with the guard at the latest
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, original_mask)
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            os.execvp(command[0], command)  # noqa: S606 - the command kwizard asked for, as argv
        except OSError as exc:
            os.write(2, f"kwizard guard: cannot run {command[0]}: {exc.strerror}\n".encode())
        os._exit(127)
    status: dict[int, int] = {}
    forwarded_at: float | None = None
    while command_pid not in status:
        info = signal.sigtimedwait(_WATCHED, POLL_SECONDS)
        _collect(command_pid, status)
        if command_pid in status:
            break
        # After kwizard dies the kernel re-parents us before it sends the death signal, so getppid
        # tells both cases apart: a signal from a living kwizard (or a user) is a request to stop.
        if os.getppid() != parent:
            break  # nobody reads the output any more: stop everything now
        if info is not None and info.si_signo == signal.SIGTERM:
            break  # terminate: the command and everything below it, now
        if info is not None and info.si_signo == signal.SIGINT:
            with contextlib.suppress(ProcessLookupError):
                os.kill(command_pid, signal.SIGINT)
            forwarded_at = forwarded_at or time.monotonic()
        if forwarded_at is not None and time.monotonic() - forwarded_at > FORWARD_GRACE_SECONDS:
            break
    _stop_descendants(command_pid, status)
    return _end_like(status.get(command_pid))


def main(argv: list[str]) -> int:
    try:
        split = argv.index("--")
        options, command = argv[:split], argv[split + 1 :]
        parent = int(options[options.index("--parent") + 1])
    except (ValueError, IndexError):
        os.write(2, b"usage: guard.py --parent PID -- COMMAND [ARG...]\n")
        return 2
    if not command:
        os.write(2, b"guard.py: no command\n")
        return 2
    if not sys.platform.startswith("linux"):
        os.execvp(command[0], command)  # noqa: S606 - as above
    return supervise(command, parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
