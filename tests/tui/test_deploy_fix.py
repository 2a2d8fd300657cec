"""The Deploy step's "Apply fix and retry" and the Summary after a run: a real run (fixture playbooks,
local connection) fails with a known error, the dashboard offers kwizard's remedy, one key applies it to
the preset and resumes, and the finished run opens the Summary screen."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from kwizard import preset
from kwizard.engine.journal import read_events
from kwizard.ui.app import WizardApp
from kwizard.ui.dashboard import Dashboard
from kwizard.ui.screens.deploy import DeployStep
from kwizard.ui.screens.summary import SummaryScreen
from kwizard.ui.widgets.failure_banner import FailureBanner
from tests.deploy_driver import run_with, wizard_with_phases
from tests.fixture_phases import fixture_phases, local_spec


async def _wait_for_summary(pilot: Pilot[int], app: WizardApp, seconds: float = 60.0) -> SummaryScreen:
    for _ in range(int(seconds * 10)):
        await pilot.pause(0.1)
        if isinstance(app.screen, SummaryScreen):
            return app.screen
    raise AssertionError(f"the Summary screen did not open (showing {type(app.screen).__name__})")


async def test_apply_fix_sets_the_extra_var_resumes_and_opens_the_summary(tmp_path: Path) -> None:
    spec = local_spec(tmp_path)
    app = wizard_with_phases(fixture_phases("confirm.yml"))(spec, root=tmp_path / "root", start_step="deploy")
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.pause()
        first = app.screen
        assert isinstance(first, DeployStep)
        assert not first.query_one("#deploy-fix").display  # nothing failed yet
        assert not first.query_one("#deploy-summary").display
        screen = await run_with(pilot, app, "#deploy-start")
        state = screen.query_one(Dashboard).state
        assert state.status == "failed"
        assert {(f.id, f.host) for f in state.findings} == {
            ("reset_confirmation", "cp1"),
            ("reset_confirmation", "cp2"),
            ("reset_confirmation", "w1"),
        }
        button = screen.query_one("#deploy-fix")
        assert button.display and not button.disabled
        assert screen.fix is not None and screen.fix.id == "add_reset_confirmation"
        assert "reset_confirmation=yes" in str(button.tooltip)

        await pilot.press("x")
        summary = await _wait_for_summary(pilot, app)
        assert summary.summary.cluster == "fx"
        # The remedy reached the saved preset, and the retry ran with it on every host.
        saved = preset.load(app.ws.preset_file)
        assert saved.kubespray.extra_vars["reset_confirmation"] == "yes"
        for host in ("cp1", "cp2", "w1"):
            assert (tmp_path / "hosts" / host / "reset-done").read_text() == "yes\n"
        run_dir = next((tmp_path / "root" / "clusters" / "fx" / "runs").glob("2*"))
        starts = [
            (e.phase, e.data.get("reason"))
            for e in read_events(run_dir / "events.jsonl")
            if e.kind == "phase_start"
        ]
        # One run, resumed: the changed Kubespray settings re-make the inventory, then the failed phase.
        assert [phase for phase, _ in starts] == ["inventory", "kubespray", "inventory", "kubespray", "apps"]
        assert starts[3] == ("kubespray", "failed last time")

        await pilot.press("escape")
        await pilot.pause()
        back = app.screen
        assert isinstance(back, DeployStep)
        assert back.query_one(Dashboard).state.status == "ok"
        assert not back.query_one(FailureBanner).display  # the fixed attempt's failures are history now
        report = (run_dir / "report.md").read_text()
        assert "reset_confirmation" in report and "attempt 1" in report  # ... kept in the report
        assert not back.query_one("#deploy-fix").display and not back.query_one("#deploy-resume").display
        assert back.query_one("#deploy-summary").display
        await pilot.click("#deploy-summary")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
