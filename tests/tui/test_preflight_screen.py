"""The Preflight step: a recorded lab report fed through the screen's own messages (no network)."""

from __future__ import annotations

import json
from pathlib import Path

from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from kwizard import preset as presets
from kwizard.preflight import PreflightReport
from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp
from kwizard.ui.modals import ChoiceModal
from kwizard.ui.screens.preflight import PreflightStep
from kwizard.ui.steps import StepScreen

REPO = Path(__file__).resolve().parents[2]
# A real run of the lab's default profile (presets/lab.yaml), recorded from the hosts: lab3 has no
# python3, lab5 has ip_forward 0, lab4 has 1 GiB (a warning for a worker), no lab host has systemd and
# the Gluster hosts' bricks are directories (a warning: fine for a lab).
RECORDED = PreflightReport.from_json(
    json.loads((REPO / "tests/fixtures/preflight/lab-default.json").read_text())
)


class RecordedWizard(WizardApp):
    """The wizard, with the Preflight step fed the recorded report instead of checking hosts."""

    def make_step(self, index: int) -> StepScreen:
        screen = super().make_step(index)
        return PreflightStep(recorded=RECORDED) if isinstance(screen, PreflightStep) else screen


def lab_spec() -> ClusterSpec:
    return presets.load(REPO / "presets" / "lab.yaml")


def cursor_to(screen: PreflightStep, host: str, check: str) -> None:
    table = screen.query_one("#pf-table", DataTable)
    row = table.get_row_index(check)
    column = table.get_column_index(host)
    table.cursor_coordinate = Coordinate(row, column)


def test_preflight_table_with_mixed_results(snap_compare, kwizard_root: Path):
    """The Preflight step for the lab preset: a table of checks (rows) by lab1..lab5 and `cluster`
    (columns). Green ✓ almost everywhere; red ✗ for python on lab3, ip_forward on lab5 and systemd on
    every host; a yellow ! for memory on lab4 and for storage (directory bricks) on lab1, lab2 and lab5.
    The summary counts 78 passed, 4 warnings, 7 failed and says kwizard can fix 2. The cursor is on
    lab3 × python: the details pane below explains that no Python was found, why Ansible needs it, the
    fix, and that f installs python3."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        cursor_to(pilot.app.screen, "lab3", "python")
        await pilot.pause()

    app = RecordedWizard(lab_spec(), root=kwizard_root, start_step="preflight")
    assert snap_compare(app, terminal_size=(120, 50), run_before=run_before)


async def test_details_follow_the_cursor_and_filter_to_problems(kwizard_root: Path):
    app = RecordedWizard(lab_spec(), root=kwizard_root, start_step="preflight")
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PreflightStep)
        table = screen.query_one("#pf-table", DataTable)
        assert table.row_count == len(RECORDED.checks)
        cursor_to(screen, "lab5", "ip_forward")
        await pilot.pause()
        details = str(screen.query_one("#pf-details", Static).render())
        assert "lab5 · IPv4 forwarding enabled" in details and "Press f" in details
        await pilot.press("p")  # only problems: the rows and host columns that have one
        await pilot.pause()
        rows = [str(key.value) for key in table.rows]
        assert rows == ["python", "ip_forward", "memory", "systemd", "storage"]
        assert [str(c.key.value) for c in table.columns.values()] == [
            "check",
            "lab1",
            "lab2",
            "lab3",
            "lab4",
            "lab5",
        ]
        await pilot.press("p")
        await pilot.pause()
        assert table.row_count == len(RECORDED.checks)


async def test_next_needs_failures_acknowledged_and_records_them(kwizard_root: Path):
    app = RecordedWizard(lab_spec(), root=kwizard_root, start_step="preflight")
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)  # 7 failures: not without saying so
        await pilot.click("#stay")
        await pilot.pause()
        assert isinstance(app.screen, PreflightStep)
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        await pilot.click("#ack")
        await pilot.pause()
        assert type(app.screen).__name__ == "OptionsStep"
        bar = str(app.screen.query_one("#step-bar", Static).content)
        assert "✗ Preflight" in bar and "✓ Preflight" not in bar  # continued past failures: not a success
        acknowledged = set(app.spec.preflight.acknowledged)
        # The lab preset acknowledges `systemd` already (the lab has none); the guide's traps are added.
        assert {"python@lab3", "ip_forward@lab5", "systemd"} <= acknowledged
        assert not any(a.startswith("memory@") for a in acknowledged)  # warnings need no acknowledgement
        # Saved with the preset, so a headless replay does not stop on them again.
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = presets.load(kwizard_root / "clusters" / "lab" / "preset.yaml")
    assert set(saved.preflight.acknowledged) == acknowledged


async def test_failures_acknowledged_in_the_preset_do_not_fail_the_step(kwizard_root: Path):
    # The preset already acknowledges every failure of the recorded report (as the lab's systemd): the
    # step passes, as the run's preflight phase would, and the step bar ticks it.
    spec = lab_spec()
    spec = spec.updated(preflight={"acknowledged": ["systemd", "python@lab3", "ip_forward@lab5"]})
    app = RecordedWizard(spec, root=kwizard_root, start_step="preflight")
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert type(app.screen).__name__ == "OptionsStep"  # nothing blocking: no question asked
        assert "✓ Preflight" in str(app.screen.query_one("#step-bar", Static).content)


async def test_hosts_without_trusted_keys_are_not_contacted(kwizard_root: Path):
    """No known host key yet: the step does not connect on its own, and Next is not blocked."""
    app = WizardApp(lab_spec(), root=kwizard_root, start_step="preflight")
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PreflightStep)
        assert not screen.running and screen.report is None
        assert "no trusted host key for lab1, lab2, lab3, lab4, lab5" in str(
            screen.query_one("#pf-summary", Static).render()
        )
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert type(app.screen).__name__ == "OptionsStep"


async def test_back_and_next_show_the_kept_report_without_probing_again(kwizard_root: Path):
    """The report of the last check on the same hosts and settings is shown again when the step is
    re-entered (no host is contacted: none has a trusted key, which would otherwise stop the step);
    a changed host makes it stale."""
    spec = lab_spec()
    app = WizardApp(spec, root=kwizard_root, start_step="preflight")
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PreflightStep) and screen.report is None
        app.check_results.keep("preflight", screen.apply_to(app.spec), RECORDED)
        await pilot.press("ctrl+b")  # Hosts... then back to Preflight
        await pilot.pause()
        await app.go_to_step(2)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PreflightStep)
        assert screen.report is RECORDED and not screen.running
        assert "no trusted host key" not in str(screen.query_one("#pf-summary", Static).render())
        changed = spec.updated(hosts=[h.model_copy(update={"address": "10.0.9.9"}) if h.name == "lab1" else h
                                      for h in spec.hosts])  # fmt: skip
        assert app.check_results.get("preflight", changed) is None
