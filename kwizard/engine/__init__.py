"""Phase engine: runs the selected phases, journals them, resumes them.

Entry points used by the CLI: `run_headless(spec, ws, options)` and `resume_headless(ws, options)`.
"""

from __future__ import annotations

from kwizard.errors import KwizardError
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.spec import ClusterSpec


def run_headless(spec: ClusterSpec, ws: Workspace, options: RunOptions) -> int:
    """Run the selected phases without a UI; returns the exit code."""
    raise KwizardError(
        "Phase engine not built yet",
        f"The preset was validated and saved to {ws.preset_file}, but this version cannot run "
        f"phases ({', '.join(options.selected_phases(spec))}) yet.",
        "Follow the changelog; meanwhile the wizard and the saved preset are usable.",
    )


def resume_headless(ws: Workspace, options: RunOptions) -> int:
    """Continue the last run of a cluster without a UI."""
    raise KwizardError(
        "Resume not built yet",
        f"There is nothing this version can resume for {ws.cluster}.",
        "Follow the changelog.",
    )
