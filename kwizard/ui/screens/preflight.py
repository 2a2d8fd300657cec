"""Step 3 — Preflight: every host checked before anything is installed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from kwizard.ui.steps import StepScreen


class PreflightStep(StepScreen):
    step_id = "preflight"
    NOT_BUILT = (
        "Not built yet: this version does not check the hosts. Nothing has been checked; "
        "continuing does not mean the hosts passed."
    )

    def compose_body(self) -> ComposeResult:
        yield Static(
            "What will be checked on every host: SSH and sudo, python3, IP forwarding, memory and CPUs "
            "per role, OS and kernel, swap, host name and machine-id, clock skew, free disk, ports, "
            "nameserver, and storage disks."
        )
