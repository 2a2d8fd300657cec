"""The machine-readable summary of a run (`--json`): phases, statuses, per-host results and findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kwizard.engine.outcome import RunOutcome


def summary_json(outcome: RunOutcome) -> dict[str, Any]:
    """A JSON-able dict; stable keys, documented in the README."""
    state, record = outcome.state, outcome.record
    hosts: dict[str, dict[str, Any]] = {}
    for name, view in sorted(state.hosts.items()):
        hosts[name] = {
            "ok": view.ok,
            "changed": view.changed,
            "failed": view.failed,
            "unreachable": view.unreachable,
            "skipped": view.skipped,
            "failures": [
                {"phase": f.phase, "task": f.task, "kind": f.kind, "message": f.message}
                for f in state.live_failures
                if f.host == name
            ],
            "findings": [
                {"id": f.id, "title": f.title, "fix": f.fix} for f in state.live_findings if f.host == name
            ],
        }
    return {
        "cluster": record.cluster,
        "run_id": record.run_id,
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "failed_phase": outcome.failed_phase,
        "error": (
            {"title": outcome.error.title, "problem": outcome.error.problem, "fix": outcome.error.fix}
            if outcome.error
            else None
        ),
        "phases": [
            {
                "name": name,
                "status": record.phase(name).status,
                "duration": record.phase(name).duration,
                "summary": record.phase(name).summary,
                "tasks": record.phase(name).tasks,
            }
            for name in record.selected
        ],
        "hosts": hosts,
        "findings": [
            {"id": f.id, "host": f.host, "phase": f.phase, "title": f.title, "fix": f.fix}
            for f in state.live_findings
        ],
        "report": str(outcome.directory / "report.md"),
        "journal": str(outcome.directory / "state.json"),
    }
