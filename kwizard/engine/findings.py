"""Live diagnoses: failures are passed to `kwizard.diagnostics` (when this build has it) as they happen."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from kwizard.engine.phase import Event
from kwizard.engine.pipeline import Diagnoser


def default_diagnoser() -> Diagnoser | None:
    """A diagnoser backed by kwizard.diagnostics, or None when that package is not available."""
    try:
        from kwizard.diagnostics import diagnose_events
    except ImportError:
        return None
    evidence_module: ModuleType | None
    try:
        evidence_module = importlib.import_module("kwizard.diagnostics.evidence")
    except ImportError:  # a diagnostics build without host evidence
        evidence_module = None

    def diagnose(event: Event, results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        evidence = None
        if evidence_module is not None and results.get("preflight"):
            evidence = evidence_module.Evidence.from_mapping(results["preflight"])
        return [finding_json(f) for f in diagnose_events([event], evidence)]

    return diagnose


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
