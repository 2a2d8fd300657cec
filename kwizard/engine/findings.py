"""Diagnoses of a run's failures: live, as they happen, and afterwards from the run's folder.

Both go through `run_findings`: the same rules, fed the same evidence (the preflight phase's measurements the
run had in `results`), so `kwizard diagnose RUN` says what the run said.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.engine.pipeline import Diagnoser, is_diagnosed
from kwizard.protocol.outputs import PreflightOutput
from kwizard.protocol.phase import Event

if TYPE_CHECKING:
    from kwizard.diagnostics import Diagnosis, Finding


def run_findings(events: Iterable[Event], results: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    """Findings for a run's failure events, with the evidence its finished phases measured."""
    from kwizard.diagnostics import diagnose_events
    from kwizard.diagnostics.evidence import Evidence

    preflight = PreflightOutput.of(results)
    evidence = Evidence.from_preflight(preflight) if preflight else None
    return diagnose_events(events, evidence)


def default_diagnoser() -> Diagnoser:
    """The engine's diagnoser: kwizard.diagnostics on each failure, with the run's evidence so far."""

    def diagnose(event: Event, results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        return [finding_json(f) for f in run_findings([event], results)]

    return diagnose


def diagnose_run(directory: Path) -> Diagnosis:
    """The findings of a finished (or interrupted) run, from its journal: what the run itself found."""
    from kwizard.diagnostics import Diagnosis
    from kwizard.engine.journal import RunJournal, read_events

    journal = RunJournal.load(directory)
    record = journal.record
    # What the engine's `results` held: the data of every phase that ended (a resume reloads the same).
    results = {name: dict(phase.data) for name, phase in record.phases.items() if phase.data}
    events = list(read_events(journal.events_file))
    # The attempt that runs now (or ran last), as the run's summary and dashboard show it: a failure that
    # a resume has since got past is history (the report keeps it), not the cause of where the run stands.
    starts = [index for index, event in enumerate(events) if event.kind == "run_start"]
    live = events[starts[-1] :] if starts else events
    failures = [event for event in live if is_diagnosed(event)]
    source = f"run {record.cluster}/{record.run_id}" + (f", attempt {len(starts)}" if len(starts) > 1 else "")
    return Diagnosis(run_findings(failures, results), source, len(failures))


def finding_json(finding: Any) -> dict[str, Any]:
    """A diagnostics Finding as the data of a `finding` Event (JSON-able, journalled)."""
    fix = getattr(finding, "fix", "")
    steps = [str(step) for step in fix] if isinstance(fix, list | tuple) else [str(fix)]
    return {
        "id": str(getattr(finding, "id", "")),
        "category": str(getattr(finding, "category", "")),
        "title": str(getattr(finding, "title", "")),
        "confidence": float(getattr(finding, "confidence", 0.0)),
        "explanation": str(getattr(finding, "explanation", "")),
        "fix": " ".join(steps),
        "fix_steps": steps,
        "evidence": [str(e) for e in getattr(finding, "evidence", ())][:5],
        "remedy": getattr(finding, "remedy", None),
    }
