"""Preflight: every host checked at once, before anything is installed, with the fix for each problem.

One POSIX-sh probe per host (it must work where Python is missing) gathers the facts in a single SSH
round trip; checks are plain functions over those facts (see `checks`), and the engine runs
`run_phase`. The UI and the headless table share `Preflight` and `PreflightReport`.
"""

from __future__ import annotations

from kwizard.preflight.model import CheckResult, HostReport, PreflightReport
from kwizard.preflight.phase import run_phase
from kwizard.preflight.run import Preflight

__all__ = ["CheckResult", "HostReport", "Preflight", "PreflightReport", "run_phase"]
