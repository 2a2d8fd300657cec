"""ansible-runner artifact folders: `artifacts/<ident>/job_events/<counter>-<uuid>.json`."""

from __future__ import annotations

import json
from pathlib import Path

from kwizard.diagnostics.records import FailureRecord, record_from_runner_event

MAX_DEPTH = 3  # private_data_dir/artifacts/<ident>/job_events
MAX_EVENT_BYTES = 16 * 1024 * 1024  # one event is a few KB; a bigger file is not one (or is damaged)


def find_job_events(path: Path) -> Path | None:
    """The `job_events` folder of the newest run below `path` (or `path` itself), if any."""
    if path.name == "job_events" and path.is_dir():
        return path
    found: list[Path] = []
    frontier = [path]
    for _ in range(MAX_DEPTH + 1):
        next_frontier: list[Path] = []
        for folder in frontier:
            candidate = folder / "job_events"
            if candidate.is_dir():
                found.append(candidate)
                continue
            try:
                next_frontier.extend(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
            except OSError:
                continue
        if found:
            break
        frontier = next_frontier
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _counter(path: Path) -> int:
    head = path.name.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


def records_from_job_events(folder: Path) -> tuple[list[FailureRecord], int]:
    """Failure records of one run's events, in event order; also the number of unreadable files."""
    files = sorted((p for p in folder.glob("*.json") if not p.name.endswith("-partial.json")), key=_counter)
    records: list[FailureRecord] = []
    unreadable = 0
    for file in files:
        try:
            if file.stat().st_size > MAX_EVENT_BYTES:
                raise ValueError("too large for an event")
            event = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            unreadable += 1  # a run killed while writing leaves a truncated last event
            continue
        if isinstance(event, dict):
            record = record_from_runner_event(event, order=_counter(file))
            if record is not None:
                records.append(record)
    return records, unreadable
