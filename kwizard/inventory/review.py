"""What a run of the spec would do, computed without changing anything: the Review step's content.

Files to be written with their diff against the disk, the findings of the inventory checks, the phases
that will run, where Kubespray and its venv are (or will be), and the equivalent command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kwizard.errors import InputError
from kwizard.inventory.checks import Problem, check_spec
from kwizard.inventory.files import FileChange, plan
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.phases import PHASE_TITLES
from kwizard.spec import ClusterSpec


@dataclass(frozen=True)
class ReviewPlan:
    changes: list[FileChange]
    problems: list[Problem]
    phases: list[tuple[str, str]]  # (name, title), in order
    command: str
    kubespray_state: str  # one sentence: where Kubespray comes from
    venv_state: str

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def review_plan(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions,
    results: Mapping[str, Any] | None = None,
) -> ReviewPlan:
    """Everything the Review step shows: reads the disk (asks git about a cached clone), writes nothing.

    Without `results`, the files are rendered from the last runs' recorded results, as the inventory
    phase renders them from the results of the phases before it.
    """
    from kwizard.engine.journal import recorded_results
    from kwizard.kubespray import checkout as checkouts
    from kwizard.kubespray.command import command_line, planned_run

    if results is None:
        results = recorded_results(ws)

    found = checkouts.find(spec, ws, options)
    problems = check_spec(spec, found.path if found else None)
    try:
        run = planned_run(spec, ws, options)
        command = command_line(spec, ws, options)
    except InputError as error:  # an unusable kubespray.version: the problems above say which
        return ReviewPlan(plan(spec, ws, results), problems, _phases(spec, options), "", error.problem, "")
    version = spec.kubespray.version
    mine = checkouts.user_dir(spec, options)
    phases = _phases(spec, options)
    if "kubespray" not in (name for name, _ in phases):
        # The lab's preset (or --until inventory): nothing is cloned or installed by this run.
        return ReviewPlan(
            changes=plan(spec, ws, results),
            problems=problems,
            phases=phases,
            command=command,
            kubespray_state=f"Kubespray {version} is not run by this run (no kubespray phase): nothing is "
            "cloned or installed; the inventory is written for it.",
            venv_state="",
        )
    if mine is not None:
        kubespray_state = f"your checkout {mine}" + ("" if found else " (not found: fix --kubespray-dir)")
    elif found:
        kubespray_state = f"Kubespray {version}, already cloned in {run.checkout}"
    else:
        kubespray_state = (
            f"Kubespray {version}, to be cloned from {spec.kubespray.repo_url} into {run.checkout}"
        )
    if (run.venv / "bin" / "ansible-playbook").is_file():
        venv_state = f"Python environment ready in {run.venv}"
    else:
        venv_state = f"Python environment to be created in {run.venv} from Kubespray's requirements.txt"
    return ReviewPlan(
        changes=plan(spec, ws, results),
        problems=problems,
        phases=phases,
        command=command,
        kubespray_state=kubespray_state,
        venv_state=venv_state,
    )


def _phases(spec: ClusterSpec, options: RunOptions) -> list[tuple[str, str]]:
    return [(name, PHASE_TITLES[name]) for name in options.selected_phases(spec)]
