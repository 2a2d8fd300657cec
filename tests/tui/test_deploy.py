"""The Deploy step: start a real run (fixture playbook phases, local connection), see the failure on the
dashboard, fix it, resume — driven with real keys and clicks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Label

from kwizard.engine.journal import read_events
from kwizard.engine.pipeline import Engine, PhaseDefinition
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import PhaseContext, PhaseResult
from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp
from kwizard.ui.dashboard import Dashboard
from kwizard.ui.screens.deploy import DeployStep
from kwizard.ui.widgets.host_grid import HostGrid
from kwizard.ui.widgets.log_pane import LogPane
from tests.deploy_driver import run_with, wait_until_idle, wizard_with_phases
from tests.deploy_driver import shown_log_lines as shown
from tests.fixture_phases import fixture_phases, local_spec

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"


async def test_failure_is_shown_and_resume_finishes_without_rerunning(tmp_path: Path) -> None:
    spec = local_spec(tmp_path)
    marker = tmp_path / "markers" / "kwizard-fail-cp2"
    marker.write_text("x")
    app = wizard_with_phases(fixture_phases("quick.yml"))(spec, root=tmp_path / "root", start_step="deploy")
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DeployStep)
        assert not screen.query_one("#deploy-resume").display  # nothing to resume yet
        screen = await run_with(pilot, app, "#deploy-start")
        state = screen.query_one("Dashboard").state  # type: ignore[attr-defined]
        assert state.status == "failed"
        failure = state.failures[0]
        assert (failure.host, failure.task) == (
            "cp2",
            "kubernetes/preinstall : Stop if the node is not ready for Kubernetes",
        )
        grid = screen.query_one(HostGrid)
        assert grid.get_row("cp2")[3].plain == "1"
        assert screen.query_one("#deploy-resume").display
        assert "failed in phase kubespray" in str(screen.query_one("#deploy-result").content)
        # The raw Ansible output of the failed playbook: named on the dashboard, and really there.
        phase, folder = state.artifacts
        assert phase == "kubespray" and "injected failure" in (Path(folder) / "stdout").read_text()
        assert f"{folder}/stdout" in str(screen.query_one("#artifacts-label", Label).content)

        marker.unlink()  # fix the cause
        screen = await run_with(pilot, app, "#deploy-resume")
        state = screen.query_one("Dashboard").state  # type: ignore[attr-defined]
        assert state.status == "ok"
        assert state.phase("inventory").reused and state.phase("apps").status == "ok"
        # The hosts table counts the resumed attempt, as "No failures" does, and says so.
        assert grid.get_row("cp2")[3].plain == "0"
        assert grid.border_title == "Hosts · attempt 2 (this resume only)"
        run_dir = next((tmp_path / "root" / "clusters" / "fx" / "runs").glob("2*"))
        starts = [e.phase for e in read_events(run_dir / "events.jsonl") if e.kind == "phase_start"]
        assert starts == ["inventory", "kubespray", "kubespray", "apps"]  # inventory ran once
        assert (tmp_path / "hosts" / "cp2" / "etc" / "node.conf").read_text() == "cp2\n"


def _workspace_with_failed_run(root: Path) -> ClusterSpec:
    """A cluster whose last run (recorded on the lab) failed: as found when the wizard opens."""
    spec = ClusterSpec(
        name="rec",
        hosts=[
            {"name": "lab1", "address": "10.89.0.11", "roles": ["control_plane", "etcd"]},
            {"name": "lab2", "address": "10.89.0.12", "roles": ["control_plane", "etcd"]},
            {"name": "lab4", "address": "10.89.0.14", "roles": ["worker", "etcd"]},
        ],
        phases=["inventory", "kubespray", "apps"],
    )
    run_id = json.loads((FIXTURES / "lab-failed-run.state.json").read_text())["run_id"]
    run_dir = root / "clusters" / "rec" / "runs" / run_id
    run_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "lab-failed-run.jsonl", run_dir / "events.jsonl")
    shutil.copy(FIXTURES / "lab-failed-run.state.json", run_dir / "state.json")
    return spec


async def test_dashboard_keys_work_without_moving_the_focus(tmp_path: Path) -> None:
    spec = _workspace_with_failed_run(tmp_path / "root")
    app = WizardApp(spec, root=tmp_path / "root", start_step="deploy")
    async with app.run_test(size=(120, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        # As the step opens the focus is outside the dashboard (no Tab to reach it).
        assert app.focused is not None and screen.query_one(Dashboard) not in app.focused.ancestors_with_self
        log = screen.query_one(LogPane)

        await pilot.press("f")
        await pilot.pause()
        assert log.failures_only
        assert shown(log) and all("failed" in line or "unreachable" in line for line in shown(log))

        await pilot.press("h")  # the host under the grid's cursor: the first one, lab1
        await pilot.pause()
        assert log.host_filter == "lab1"
        assert shown(log) and all("[lab1]" in line for line in shown(log))

        await pilot.press("a", "slash")
        await pilot.pause()
        assert app.focused is screen.query_one("#log-search", Input)
        await pilot.press(*"injected")
        await pilot.pause()
        assert shown(log) and all("injected" in line.lower() for line in shown(log))
        assert "matching 'injected'" in str(log.border_title)
        await pilot.press("escape")
        await pilot.pause()
        assert log.search == "" and any("PLAY [" in line for line in shown(log))


def test_snapshot_deploy_offers_resume(snap_compare, tmp_path: Path) -> None:
    """The Deploy step of a cluster whose last run failed: the result line says run 20261126-191742
    stopped at kubespray, a Resume button next to Start, and the dashboard replays that run: lab2 failed
    at 'Stop if the node is not ready for Kubernetes', lab6 unreachable with the diagnosis "The host
    cannot be reached over SSH" and its fix, Sample apps pending. Long log lines wrap under their
    message column (nothing cut at the pane's edge); the footer offers F1 Help and / Search log."""
    spec = _workspace_with_failed_run(tmp_path / "root")
    app = WizardApp(spec, root=tmp_path / "root", start_step="deploy")
    assert snap_compare(app, terminal_size=(120, 48))


def _waits_for_cancel(ctx: PhaseContext) -> PhaseResult:
    ctx.log("inventory", "waiting for the user to cancel")
    return PhaseResult("interrupted" if ctx.cancel.wait(60) else "ok", "stopped")


def _waiting_wizard(tmp_path: Path) -> WizardApp:
    """The wizard on Deploy with one phase that runs until the user cancels it."""
    phases = [PhaseDefinition("inventory", "Inventory", lambda: _waits_for_cancel)]
    return wizard_with_phases(phases)(local_spec(tmp_path), root=tmp_path / "root", start_step="deploy")


async def _start_waiting_run(pilot: Pilot[Any], app: WizardApp) -> DeployStep:
    """Press Start and wait (bounded) until the run is going."""
    await pilot.pause()
    await pilot.click("#deploy-start")
    screen = app.screen
    assert isinstance(screen, DeployStep)
    for _ in range(100):  # bounded: the worker starts the phase within a few ticks
        if screen.running:
            break
        await pilot.pause(0.05)
    return screen


async def test_the_palette_cancels_a_running_run(tmp_path: Path) -> None:
    """Ctrl+P → "Cancel the run": the keyboard way to the Cancel run button while a run goes on."""
    from tests.tui.test_help_commands import palette

    app = _waiting_wizard(tmp_path)
    async with app.run_test(size=(120, 45)) as pilot:
        screen = await _start_waiting_run(pilot, app)
        await palette(pilot, "cancel the run")
        screen = await wait_until_idle(pilot, app, seconds=30)
        assert "interrupted in phase inventory: you cancelled it" in str(
            screen.query_one("#deploy-result").content
        )


async def test_a_cancelled_run_does_not_ask_to_fix_a_cause(tmp_path: Path) -> None:
    app = _waiting_wizard(tmp_path)
    async with app.run_test(size=(120, 45)) as pilot:
        screen = await _start_waiting_run(pilot, app)
        await pilot.click("#deploy-cancel")
        screen = await wait_until_idle(pilot, app, seconds=30)
        result = str(screen.query_one("#deploy-result").content)
        assert "interrupted in phase inventory: you cancelled it" in result
        assert "Fix the cause" not in result and "Nothing to fix" in result


async def test_back_next_and_their_keys_do_not_leave_a_running_deploy(tmp_path: Path) -> None:
    """Leaving the step would cancel the run: Back, Next/Finish, ctrl+b and ctrl+n say it is busy."""
    app = _waiting_wizard(tmp_path)
    async with app.run_test(size=(120, 45)) as pilot:
        screen = await _start_waiting_run(pilot, app)
        assert screen.running and screen.query_one("#deploy-start").disabled
        assert not screen.query_one("#deploy-cancel").disabled
        await pilot.click("#back")
        await pilot.click("#next")
        await pilot.press("ctrl+b", "ctrl+n")
        await pilot.pause()
        assert app.screen is screen and screen.running and app.is_running  # still here, still running
        assert screen.engine is not None and not screen.engine.cancel.is_set()
        await pilot.click("#deploy-cancel")
        screen = await wait_until_idle(pilot, app, seconds=30)
        assert not screen.running and not screen.query_one("#deploy-start").disabled


async def test_a_finished_last_run_is_shown_as_it_ended(tmp_path: Path) -> None:
    """Opening Deploy (e.g. kwizard --resume CLUSTER) after a successful run shows that run's board, not
    an empty "0/0 phases" one, and offers its Summary."""
    spec = local_spec(tmp_path)
    ws = Workspace(root=tmp_path / "root", cluster=spec.name).create()
    outcome = Engine(spec, ws, RunOptions(), phases=fixture_phases("quick.yml")).start()
    assert outcome.status == "ok"
    app = WizardApp(spec, root=tmp_path / "root", start_step="deploy")
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DeployStep) and screen.finished_run == outcome.directory
        state = screen.query_one(Dashboard).state
        assert [state.phase(n).status for n in ("inventory", "kubespray", "apps")] == ["ok", "ok", "ok"]
        assert "finished ok" in str(screen.query_one("#deploy-result").content)
        assert screen.query_one("#deploy-summary").display and not screen.query_one("#deploy-resume").display
