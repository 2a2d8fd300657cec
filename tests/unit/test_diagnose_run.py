"""`kwizard diagnose RUN` on a run of the real engine: the run's own findings and remedies, however named.

The run: a preflight stand-in records what preflight measures (cp2 has no python3), then a Kubespray-shaped
playbook fails through the real runner on cp2 (its interpreter is missing) and on w1 (every item of the
"Manage packages" loop fails with apt's text for a host without internet).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kwizard import preset
from kwizard.engine.fingerprint import PHASE_INPUTS
from kwizard.engine.journal import EVENTS_FILE, last_run, read_events
from kwizard.engine.pipeline import PhaseDefinition
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import PhaseContext, PhaseResult
from kwizard.service.runs import build_engine
from tests.fixture_phases import inventory_phase, local_spec, playbook_phase

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MEASURED = {
    "cp1": {"memory_mb": 4096, "cpus": 2, "python3": True},
    "cp2": {"memory_mb": 4096, "cpus": 2, "python3": False},
    "w1": {"memory_mb": 4096, "cpus": 2, "python3": True},
}


def preflight_standin(ctx: PhaseContext) -> PhaseResult:
    """What the preflight phase leaves in the journal for diagnostics (`phase_data`'s `hosts`)."""
    return PhaseResult("ok", "3 hosts checked", {"hosts": MEASURED, "python_interpreters": {}})


TABLE = (
    PhaseDefinition("preflight", "Preflight", lambda: preflight_standin, PHASE_INPUTS["preflight"]),
    PhaseDefinition("inventory", "Inventory", lambda: inventory_phase, PHASE_INPUTS["inventory"]),
    PhaseDefinition(
        "kubespray",
        "Kubespray-shaped playbook",
        lambda: partial(playbook_phase, "kubespray", "diagnosable.yml"),
        PHASE_INPUTS["kubespray"],
    ),
)


def _failing_spec(root: Path) -> Any:
    spec = local_spec(root)
    # Not local_spec's interpreter for every host: an extra var would hide cp2's missing one.
    extra_vars = {"ansible_connection": "local", "python_for_tests": sys.executable}
    return spec.model_copy(
        update={
            "phases": ["preflight", "inventory", "kubespray"],
            "kubespray": spec.kubespray.model_copy(update={"extra_vars": extra_vars}),
        }
    )


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(workdir, run folder) of a failed run, made by the engine the product uses headless."""
    root = tmp_path_factory.mktemp("diagnose-run")
    spec = _failing_spec(root)
    workdir = root / "work"
    ws = Workspace(root=workdir.resolve(), cluster="fx").create()
    preset.save(spec, ws.preset_file)
    engine, _ = build_engine(spec, ws, RunOptions(), lambda event: None, phases=TABLE)
    outcome = engine.start()
    assert outcome.status == "failed"
    folder = last_run(ws)
    assert folder is not None
    return workdir, folder


def journalled_findings(folder: Path) -> dict[str, dict[str, Any]]:
    """The findings the run itself emitted (the dashboard's and the report's), by rule id."""
    found: dict[str, dict[str, Any]] = {}
    for event in read_events(folder / EVENTS_FILE):
        if event.kind == "finding":
            found.setdefault(event.data["id"], {"hosts": set(), "remedy": event.data["remedy"]})
            found[event.data["id"]]["hosts"].add(event.host)
    return found


def diagnose(workdir: Path, *args: str, columns: str | None = "200") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(
        [sys.executable, "-m", "kwizard", "--workdir", str(workdir), "diagnose", *args],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO), **({"COLUMNS": columns} if columns else {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def as_run_said(output: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["id"]: {"hosts": set(f["hosts"]), "remedy": f["remedy"]} for f in output}


def test_the_run_itself_found_both_causes(failed_run: tuple[Path, Path]) -> None:
    found = journalled_findings(failed_run[1])
    assert found["python_interpreter_missing"] == {"hosts": {"cp2"}, "remedy": "install_python3"}
    assert found["package_source_unreachable"]["hosts"] == {"w1"}


@pytest.mark.parametrize("how", ["folder", "events.jsonl", "CLUSTER/RUN_ID", "--last"])
def test_diagnose_gives_what_the_run_found(failed_run: tuple[Path, Path], how: str) -> None:
    workdir, folder = failed_run
    target = {
        "folder": [str(folder)],
        "events.jsonl": [str(folder / EVENTS_FILE)],
        "CLUSTER/RUN_ID": [f"fx/{folder.name}"],
        "--last": ["--last"],
    }[how]
    done = diagnose(workdir, "--json", *target)
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert as_run_said(output) == journalled_findings(folder)
    # The interpreter finding proposes installing python3 (preflight measured none), not a path.
    assert output[0]["id"] == "python_interpreter_missing" and output[0]["remedy"] == "install_python3"


def test_the_report_names_the_run_and_the_fix(failed_run: tuple[Path, Path]) -> None:
    workdir, folder = failed_run
    done = diagnose(workdir, f"fx/{folder.name}")
    assert done.returncode == 0, done.stderr
    assert f"known errors in run fx/{folder.name}" in done.stdout
    assert "preflight found that cp2 has no python3" in done.stdout
    assert "ssh said" not in done.stdout and "No known error" not in done.stdout
    assert "Manage packages] on w1 failed" in done.stdout


def test_piped_output_keeps_lines_whole(failed_run: tuple[Path, Path]) -> None:
    """`kwizard diagnose --last | less` or a CI log: no 80-column fallback splitting URLs and fixes."""
    done = diagnose(failed_run[0], "--last", columns=None)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("https://docs.ansible.com/" in line and line.endswith(".html") for line in lines)
    assert any("set `ansible_python_interpreter` for it (e.g. /usr/bin/python3)." in line for line in lines)


def test_an_unknown_run_is_named_with_the_way_to_list_runs(failed_run: tuple[Path, Path]) -> None:
    done = diagnose(failed_run[0], "fx/20000101-000000")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "Run not found" in done.stderr and "kwizard runs --cluster fx" in done.stderr


def test_a_failure_a_resume_got_past_is_history_not_the_diagnosis(tmp_path: Path) -> None:
    """Attempt 1 fails as above; the resume succeeds: `diagnose RUN` speaks of the attempt that ran last."""
    from kwizard.engine.findings import diagnose_run

    spec = _failing_spec(tmp_path)
    ws = Workspace(root=(tmp_path / "work").resolve(), cluster="fx").create()
    preset.save(spec, ws.preset_file)
    engine, _ = build_engine(spec, ws, RunOptions(), lambda event: None, phases=TABLE)
    assert engine.start().status == "failed"
    folder = last_run(ws)
    assert folder is not None
    assert diagnose_run(folder).findings  # attempt 1: the causes above

    fixed = (
        *TABLE[:2],
        PhaseDefinition("kubespray", "Kubespray", lambda: lambda ctx: PhaseResult("ok", "done")),
    )
    engine, _ = build_engine(spec, ws, RunOptions(), lambda event: None, phases=fixed)
    assert engine.resume(folder).status == "ok"
    after = diagnose_run(folder)
    assert after.findings == [] and after.failures == 0
    assert after.source.endswith("attempt 2")
