"""Known-error diagnostics: recognise real Kubespray/Ansible failures and say how to fix them.

    from kwizard.diagnostics import diagnose_events, diagnose_path, diagnose_text, remedy_for

`diagnose_events` takes live events (the dashboard), `diagnose_text`/`diagnose_path` logs, pasted
blocks and ansible-runner artifact folders. Each returns findings best first; `remedy_for(finding)`
says what kwizard can change automatically before a retry. Rules and remedies are data in
`rules/*.yaml` and `remedies.yaml`.
"""

from __future__ import annotations

from kwizard.diagnostics.diagnose import (
    Diagnosis,
    diagnose_events,
    diagnose_path,
    diagnose_records,
    diagnose_stream,
    diagnose_text,
)
from kwizard.diagnostics.evidence import Evidence, HostFacts
from kwizard.diagnostics.loader import load_ruleset
from kwizard.diagnostics.ranking import Finding
from kwizard.diagnostics.remedies import RemedyPlan, remedy_for

__all__ = [
    "Diagnosis",
    "Evidence",
    "Finding",
    "HostFacts",
    "RemedyPlan",
    "diagnose_events",
    "diagnose_path",
    "diagnose_records",
    "diagnose_stream",
    "diagnose_text",
    "load_ruleset",
    "remedy_for",
]
