"""The run journal: `runs/<run-id>/state.json` (what each phase did) and `events.jsonl` (what happened).

state.json is replaced atomically after every change, so a kill at any moment leaves either the previous
or the new version — never half of one. events.jsonl is append-only, one JSON object per line after a
format header; a kill can cut its last line, and readers skip such a line. A phase found `running` by a
later process was interrupted (the lock below guarantees no other process is running it).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shlex
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from kwizard.errors import InputError, KwizardError
from kwizard.fsutil import atomic_write, ensure_private_dir
from kwizard.paths import Workspace, run_workdir_option, workdir_option
from kwizard.protocol.events import event_kind
from kwizard.protocol.phase import Event

JOURNAL_VERSION = 1
EVENTS_FORMAT = "kwizard-events"
STATE_FILE = "state.json"
EVENTS_FILE = "events.jsonl"
REPORT_FILE = "report.md"
LOCK_FILE = ".lock"


class JournalError(KwizardError):
    """The journal cannot be written or read."""


@dataclass(frozen=True)
class PhaseRecord:
    status: str = "pending"
    started: float | None = None
    ended: float | None = None
    summary: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] = field(default_factory=dict)  # title, problem, fix of a KwizardError
    fingerprint: dict[str, str] = field(default_factory=dict)  # spec part → hash, when it last ran
    tasks: int = 0  # tasks started in its last attempt (the next run's progress total)
    attempts: int = 0

    @property
    def duration(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return max(0.0, self.ended - self.started)


@dataclass(frozen=True)
class Attempt:
    started: float
    pid: int
    ended: float | None = None
    status: str = "running"
    resumed: bool = False
    host: str = ""  # the machine kwizard ran on (with pid and started: who ran this attempt)
    skipped: tuple[str, ...] = ()  # phases --skip left out of this attempt


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    cluster: str
    selected: tuple[str, ...]
    status: str = "running"  # running, ok, failed, interrupted
    created: float = 0.0
    updated: float = 0.0
    exit_code: int | None = None
    phases: dict[str, PhaseRecord] = field(default_factory=dict)
    attempts: tuple[Attempt, ...] = ()
    # The run-shaping command-line options (RunOptions.recorded) a resume reuses when not given again.
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["version"] = JOURNAL_VERSION
        data["selected"] = list(self.selected)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        return cls(
            run_id=str(data["run_id"]),
            cluster=str(data["cluster"]),
            selected=tuple(data.get("selected", ())),
            status=str(data.get("status", "running")),
            created=float(data.get("created", 0.0)),
            updated=float(data.get("updated", 0.0)),
            exit_code=data.get("exit_code"),
            phases={name: PhaseRecord(**record) for name, record in (data.get("phases") or {}).items()},
            attempts=tuple(Attempt(**attempt) for attempt in data.get("attempts") or ()),
            options=dict(data.get("options") or {}),  # absent in journals of older kwizards
        )

    def phase(self, name: str) -> PhaseRecord:
        return self.phases.get(name, PhaseRecord())


def new_run_id(runs_dir: Path) -> str:
    """A sortable, unique id: the local start time, with a suffix when two runs start in one second."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_id, n = stamp, 1
    while (runs_dir / run_id).exists():
        n += 1
        run_id = f"{stamp}-{n}"
    return run_id


class RunJournal:
    """One run's folder. Not thread-safe: the engine calls it under its own lock."""

    def __init__(self, directory: Path, record: RunRecord) -> None:
        self.directory = directory
        self.record = record
        self._events: IO[str] | None = None

    # -- paths ---------------------------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def events_file(self) -> Path:
        return self.directory / EVENTS_FILE

    @property
    def report_file(self) -> Path:
        return self.directory / REPORT_FILE

    # -- create / load -------------------------------------------------------------------------------
    @classmethod
    def create(cls, ws: Workspace, selected: list[str]) -> RunJournal:
        """A new run folder with its first state.json."""
        ensure_private_dir(ws.runs_dir)
        run_id = new_run_id(ws.runs_dir)
        directory = ensure_private_dir(ws.runs_dir / run_id)
        now = time.time()
        record = RunRecord(
            run_id=run_id,
            cluster=ws.cluster,
            selected=tuple(selected),
            created=now,
            updated=now,
            phases={name: PhaseRecord() for name in selected},
        )
        journal = cls(directory, record)
        journal.save()
        return journal

    @classmethod
    def load(cls, directory: Path) -> RunJournal:
        """Read a run folder; phases and runs left `running` by a dead process become `interrupted`."""
        state_file = directory / STATE_FILE
        try:
            data = json.loads(state_file.read_text(encoding="utf-8"))
            record = RunRecord.from_json(data)
        except FileNotFoundError:
            raise InputError(
                "Run not found", f"{directory} has no {STATE_FILE}.", "List the runs with `kwizard runs`."
            ) from None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise JournalError(
                "Run journal unreadable",
                f"{state_file}: {exc}",
                "The file was changed by hand or the disk is damaged; start a fresh run with --preset.",
            ) from None
        return cls(directory, _settle(record))

    # -- writing -------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write state.json atomically; a full disk leaves the previous version and raises JournalError."""
        self.record = replace(self.record, updated=time.time())
        text = json.dumps(self.record.to_json(), indent=1, sort_keys=False, default=str)
        try:
            atomic_write(self.state_file, text + "\n")
        except OSError as exc:
            raise self._write_error(self.state_file, exc) from None

    def update(self, **changes: Any) -> None:
        self.record = replace(self.record, **changes)
        self.save()

    def update_phase(self, name: str, **changes: Any) -> None:
        phases = dict(self.record.phases)
        phases[name] = replace(self.record.phase(name), **changes)
        self.update(phases=phases)

    def append_event(self, event: Event) -> None:
        """Add one event to events.jsonl (written through to the OS at once, so a kill loses nothing)."""
        line = json.dumps(
            {
                "kind": event.kind,
                "phase": event.phase,
                "host": event.host,
                "data": event.data,
                "time": event.time,
            },
            default=str,
            ensure_ascii=False,
        )
        try:
            handle = self._events or self._open_events()
            handle.write(line + "\n")
            handle.flush()
        except OSError as exc:
            raise self._write_error(self.events_file, exc) from None

    def _write_error(self, path: Path, exc: OSError) -> JournalError:
        resume = f"`kwizard --resume {shlex.quote(self.record.cluster)}{run_workdir_option(self.directory)}`"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return JournalError(
                "Disk full: the run journal cannot be written",
                f"Writing {path} failed: no space left on the device. The run was stopped so that the "
                "journal stays consistent; its last saved state is intact.",
                f"Free some space on the disk holding {path.parent}, then continue with {resume}.",
            )
        return JournalError(
            "The run journal cannot be written",
            f"Writing {path} failed: {exc.strerror or exc}.",
            f"Check the permissions and free space of {path.parent}, then continue with {resume}.",
        )

    def _open_events(self) -> IO[str]:
        new = not self.events_file.exists() or self.events_file.stat().st_size == 0
        fd = os.open(self.events_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        handle = os.fdopen(fd, "a", encoding="utf-8")
        if not new:
            _terminate_partial_line(self.events_file, handle)
        else:
            handle.write(json.dumps({"format": EVENTS_FORMAT, "version": JOURNAL_VERSION}) + "\n")
        self._events = handle
        return handle

    def close(self) -> None:
        if self._events is not None:
            with contextlib.suppress(OSError):
                self._events.close()
            self._events = None


def read_events(path: Path) -> Iterator[Event]:
    """The events of an events.jsonl file; a cut or garbled line (a killed writer) is skipped."""
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            if not line.endswith("\n"):
                return  # the writer was killed mid-line
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if not isinstance(data, dict) or "kind" not in data:
                continue  # the format header
            try:
                kind = event_kind(str(data["kind"]))
            except ValueError:
                continue  # a kind this version does not know (a newer kwizard wrote it)
            yield Event(
                kind,
                str(data.get("phase", "")),
                data.get("host"),
                data.get("data") or {},
                float(data.get("time") or 0.0),
            )


def list_runs(ws: Workspace) -> list[Path]:
    """Run folders of a cluster that have a journal, oldest first."""
    if not ws.runs_dir.is_dir():
        return []
    return sorted(p for p in ws.runs_dir.iterdir() if (p / STATE_FILE).is_file())


def last_run(ws: Workspace) -> Path | None:
    runs = list_runs(ws)
    return runs[-1] if runs else None


def run_to_resume(ws: Workspace) -> Path:
    """The cluster's last run, which a resume continues; InputError when it has none."""
    directory = last_run(ws)
    if directory is None:
        raise InputError(
            "Nothing to resume",
            f"Cluster {ws.cluster!r} has no run yet.",
            f"Start one: kwizard --preset {ws.preset_file} --yes{workdir_option(ws.root)}",
        )
    return directory


def recorded_results(ws: Workspace, phases: tuple[str, ...] = ("preflight",)) -> dict[str, dict[str, Any]]:
    """Each of `phases`' data from the newest run in which it ended ok: what a next run starts from.

    The Review step previews the inventory with these, as the inventory phase renders it with the
    results of the phases before it (preflight's chosen python interpreters); without them the preview
    would show lines the run writes as removed.
    """
    found: dict[str, dict[str, Any]] = {}
    for directory in reversed(list_runs(ws)):
        try:
            record = RunJournal.load(directory).record
        except KwizardError:
            continue  # an unreadable old run says nothing about what the next run writes
        for name in phases:
            phase = record.phase(name)
            if name not in found and phase.status == "ok":
                found[name] = dict(phase.data)
        if len(found) == len(phases):
            break
    return found


@contextlib.contextmanager
def cluster_lock(ws: Workspace) -> Iterator[None]:
    """Only one kwizard at a time may run a cluster's phases (released by the OS even on kill -9)."""
    ensure_private_dir(ws.runs_dir)
    path = ws.runs_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = describe_holder(os.pread(fd, 4096, 0).decode(errors="replace"))
            raise InputError(
                "Cluster busy",
                f"Another kwizard ({holder}) is running phases of cluster {ws.cluster!r}.",
                "Wait for it to finish, or stop it (Ctrl-C in its terminal); then try again.",
            ) from None
        os.ftruncate(fd, 0)
        holder_record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.pwrite(fd, (json.dumps(holder_record) + "\n").encode(), 0)
        yield
    finally:
        os.close(fd)  # also releases the lock


def describe_holder(text: str) -> str:
    """Who holds a cluster lock, from the lock file's text ("pid 12, on host a, since 10:02:03")."""
    try:
        holder = json.loads(text)
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder["started"])))
        return f"pid {int(holder['pid'])} on host {holder['host']}, since {started}"
    except (ValueError, TypeError, KeyError):
        return f"pid {text.strip()}" if text.strip().isdigit() else "another process"


def _settle(record: RunRecord) -> RunRecord:
    """A record as seen after its process ended: nothing can still be running."""
    phases = {
        name: replace(phase, status="interrupted") if phase.status == "running" else phase
        for name, phase in record.phases.items()
    }
    attempts = tuple(
        replace(a, status="interrupted") if a.status == "running" else a for a in record.attempts
    )
    status = "interrupted" if record.status == "running" else record.status
    return replace(record, phases=phases, attempts=attempts, status=status)


def _terminate_partial_line(path: Path, handle: IO[str]) -> None:
    # A killed writer may have left half a line; start ours on a fresh line so both stay readable.
    with path.open("rb") as reader:
        reader.seek(-1, os.SEEK_END)
        if reader.read(1) != b"\n":
            handle.write("\n")
