"""Diagnose anything: live events, a log text, a file, stdin or an ansible-runner artifact folder."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from kwizard.diagnostics.artifacts import find_job_events, records_from_job_events
from kwizard.diagnostics.evidence import Evidence
from kwizard.diagnostics.loader import RuleSet, load_ruleset
from kwizard.diagnostics.matcher import match_records
from kwizard.diagnostics.ranking import Finding, rank
from kwizard.diagnostics.records import FailureRecord, record_from_engine_event, record_from_runner_event
from kwizard.diagnostics.scanner import scan_stream
from kwizard.errors import InputError


@dataclass(frozen=True)
class Diagnosis:
    """Findings plus what was read, for the CLI's summary line."""

    findings: list[Finding]
    source: str
    failures: int  # failed/unreachable results seen (known or not)
    bytes_scanned: int = 0
    binary_at: int | None = None  # where binary data stopped the scan, if it did
    cut_at: int | None = None  # where the bound on failure records stopped the scan, if it did


def diagnose_records(
    records: Iterable[FailureRecord],
    evidence: Evidence | None = None,
    seen: Iterable[str] = (),
    ruleset: RuleSet | None = None,
) -> list[Finding]:
    """Findings for failure records, best first."""
    ruleset = ruleset or load_ruleset()
    return rank(match_records(records, ruleset, set(seen)), evidence)


def _event_record(event: Any, order: int) -> FailureRecord | None:
    if isinstance(event, Mapping):
        return record_from_runner_event(event, order)
    kind, host, data = (
        getattr(event, "kind", None),
        getattr(event, "host", None),
        getattr(event, "data", None),
    )
    if isinstance(kind, str) and isinstance(data, Mapping):
        return record_from_engine_event(kind, host, data, order)
    return None


def diagnose_events(events: Iterable[Any], evidence: Evidence | None = None) -> list[Finding]:
    """Findings for live events: `kwizard.protocol.phase.Event`s or raw ansible-runner event dicts."""
    records = [r for i, e in enumerate(events) if (r := _event_record(e, i)) is not None]
    return diagnose_records(records, evidence)


def diagnose_stream(
    stream: BinaryIO, evidence: Evidence | None = None, source: str = "-", ruleset: RuleSet | None = None
) -> Diagnosis:
    """Findings for a text log read from a binary stream."""
    ruleset = ruleset or load_ruleset()
    scanned = scan_stream(stream, ruleset)
    records = scanned.settled()
    findings = diagnose_records(records, evidence, ruleset=ruleset)
    failures = sum(r.kind != "text" for r in records)
    return Diagnosis(findings, source, failures, scanned.bytes_scanned, scanned.binary_at, scanned.cut_at)


def diagnose_text(
    text: str | bytes, evidence: Evidence | None = None, ruleset: RuleSet | None = None
) -> list[Finding]:
    """Findings for a log or a pasted block held in memory."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return diagnose_stream(io.BytesIO(data), evidence, ruleset=ruleset).findings


def diagnose_path(path: str | Path, evidence: Evidence | None = None) -> Diagnosis:
    """Findings for a log file, an ansible-runner artifact folder, or `-` (stdin)."""
    if str(path) == "-":
        return _readable(diagnose_stream(sys.stdin.buffer, evidence, "standard input"))
    target = Path(path).expanduser()
    if target.is_dir():
        return _diagnose_folder(target, evidence)
    try:
        with target.open("rb") as stream:
            return _readable(diagnose_stream(stream, evidence, str(target)))
    except FileNotFoundError as exc:
        raise InputError(
            "Log not found",
            f"{target} does not exist.",
            "Give a kwizard run (its folder, CLUSTER/RUN_ID or --last), a log file, an ansible-runner "
            "artifacts folder, or - to read standard input.",
        ) from exc
    except OSError as exc:
        raise InputError(
            "Cannot read the log", f"{target}: {exc.strerror or exc}", "Check the path and its permissions."
        ) from exc


BINARY_START = 8192  # binary data this close to the start: the input is not a log (as git and grep judge)


def _readable(diagnosis: Diagnosis) -> Diagnosis:
    """The diagnosis of a file or stdin, refusing input that held no text at all."""
    if diagnosis.binary_at is not None and diagnosis.binary_at < BINARY_START and not diagnosis.failures:
        raise InputError(
            "Not a text log",
            f"{diagnosis.source} holds binary data (a NUL byte at byte {diagnosis.binary_at:,}).",
            "Give the text log of the run: ansible's output, the artifacts folder, or its stdout file.",
        )
    if diagnosis.bytes_scanned == 0:
        raise InputError(
            "Empty log",
            f"{diagnosis.source} is empty: there is nothing to diagnose.",
            "Give the log of the failed run (e.g. the saved output of ansible-playbook or kwizard's "
            "run folder).",
        )
    return diagnosis


def _diagnose_folder(folder: Path, evidence: Evidence | None) -> Diagnosis:
    job_events = find_job_events(folder)
    if job_events is not None:
        records, unreadable = records_from_job_events(job_events)
        note = f" ({unreadable} unreadable event files skipped)" if unreadable else ""
        findings = diagnose_records(records, evidence)
        return Diagnosis(findings, f"{job_events}{note}", sum(r.kind != "text" for r in records))
    stdout = next(iter(sorted(folder.glob("*/stdout"))), None) or (folder / "stdout")
    if stdout.is_file():
        with stdout.open("rb") as stream:
            return _readable(diagnose_stream(stream, evidence, str(stdout)))
    raise InputError(
        "Not an ansible-runner artifacts folder",
        f"{folder} has no job_events/ (nor a stdout file) below it.",
        "Give a kwizard run folder (runs/<run-id>), an ansible-runner private data dir, its artifacts/ "
        "folder or artifacts/<ident>/, or a log file.",
    )
