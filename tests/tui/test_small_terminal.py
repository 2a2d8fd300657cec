"""An 80×24 terminal: the current step, the run's progress, the preflight verdict with its buttons, the
Import dialog's answers and every footer key stay on screen (panels stack instead of shrinking)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer, Label, Static
from textual.widgets._footer import FooterKey

from kwizard.ui.app import WizardApp
from kwizard.ui.modals import ChoiceModal
from kwizard.ui.screens.deploy import DeployStep
from kwizard.ui.screens.hosts import HostsStep
from kwizard.ui.screens.preflight import PreflightStep
from kwizard.ui.steps import STEPS
from kwizard.ui.widgets.run_progress import RunProgress
from tests.tui.test_deploy import _workspace_with_failed_run
from tests.tui.test_preflight_screen import RecordedWizard, lab_spec
from tests.tui.test_review_screen import SNAPSHOT_ROOT

SMALL = (80, 24)


def visible(widget: Widget) -> Region:
    """Where `widget` is drawn, asserting it is drawn whole inside its screen and above the docked
    navigation bar and footer (when the screen has them)."""
    region = widget.region
    screen = widget.screen
    assert region.area, f"{widget!r} is not drawn"
    assert screen.region.contains_region(region), f"{widget!r} at {region} is outside {screen.region}"
    bottom_docks = [screen.query_one(s).region.y for s in ("#nav", Footer) if screen.query(s)]
    if bottom_docks and widget not in screen.query("#nav *, Footer, Footer *"):
        assert region.bottom <= min(bottom_docks), f"{widget!r} at {region} is under the navigation"
    return region


def plain(widget: Static | Label) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else Text.from_markup(str(content)).plain


async def settle(pilot: Pilot[int]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def test_the_step_bar_keeps_the_current_step_whole(kwizard_root: Path) -> None:
    spec = _workspace_with_failed_run(kwizard_root)
    app = WizardApp(spec, root=kwizard_root, start_step="deploy")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        bar = app.screen.query_one("#step-bar", Static)
        shown = plain(bar)
        assert "6. Deploy" in shown
        assert Text(shown).cell_len <= SMALL[0] - 2  # inside the bar's padding
        assert "Roles & options" not in shown  # the other steps go by their numbers
        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        assert all(step.title in plain(bar) for step in STEPS)  # room for every title


async def test_the_deploy_progress_panel_is_shown_not_collapsed(kwizard_root: Path) -> None:
    spec = _workspace_with_failed_run(kwizard_root)
    app = WizardApp(spec, root=kwizard_root, start_step="deploy")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DeployStep)
        progress = app.screen.query_one(RunProgress)
        assert visible(progress).width >= 30
        overall = progress.query_one("#overall-label", Label)
        visible(overall)
        assert "Overall 1/3 phases" in plain(overall) and "elapsed 00:34" in plain(overall)
        visible(progress.query_one("#overall-bar"))
        visible(progress.query_one("#phase-label"))
        for button in ("#deploy-start", "#deploy-resume"):
            visible(app.screen.query_one(button))


async def test_the_progress_percentages_are_drawn_whole(kwizard_root: Path) -> None:
    """At 80x24 the bars shrink so that "100%" is not cut to "10" by the panel's edge."""
    from textual.widgets import ProgressBar
    from textual.widgets._progress_bar import PercentageStatus

    spec = _workspace_with_failed_run(kwizard_root)
    app = WizardApp(spec, root=kwizard_root, start_step="deploy")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        progress = app.screen.query_one(RunProgress)
        shown = [bar for bar in progress.query(ProgressBar) if bar.display]
        assert shown
        for bar in shown:
            percentage = bar.query_one(PercentageStatus)
            assert progress.content_region.contains_region(percentage.region), (percentage.region, bar)
            assert percentage.region.width >= len("100%"), (percentage.region, bar)  # not clipped


async def test_preflight_keeps_its_verdict_and_buttons_on_screen(kwizard_root: Path) -> None:
    app = RecordedWizard(lab_spec(), root=kwizard_root, start_step="preflight")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PreflightStep)
        widgets = ["#pf-summary", "#pf-rerun", "#pf-fix", "#pf-fix-all", "#pf-ack", "#pf-problems"]
        for selector in widgets:
            visible(screen.query_one(selector))
        assert "7 failed" in plain(screen.query_one("#pf-summary", Static))
        # Walking down to the last check scrolls the table, not the step: the verdict stays.
        rows = screen.query_one("#pf-table").row_count  # type: ignore[attr-defined]
        await pilot.press(*["down"] * rows)
        await pilot.pause()
        assert screen.query_one("#pf-table").cursor_row == rows - 1  # type: ignore[attr-defined]
        for selector in widgets:
            visible(screen.query_one(selector))


@pytest.mark.parametrize("size", [SMALL, (160, 48)])
async def test_every_answer_of_the_import_dialog_can_be_seen_and_pressed(
    kwizard_root: Path, size: tuple[int, int]
) -> None:
    app = WizardApp(lab_spec(), root=kwizard_root, start_step="hosts")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.click("#import")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ChoiceModal)
        box = dialog.query_one("#dialog").region
        for choice_id, _ in dialog.choices:
            assert box.contains_region(visible(dialog.query_one(f"#{choice_id}")))
        await pilot.click("#cancel")
        await pilot.pause()
        assert isinstance(app.screen, HostsStep)


@pytest.mark.parametrize("step", ["hosts", "preflight", "deploy"])
async def test_every_footer_key_fits_on_the_footer(kwizard_root: Path, step: str) -> None:
    spec = _workspace_with_failed_run(kwizard_root) if step == "deploy" else lab_spec()
    app = RecordedWizard(spec, root=kwizard_root, start_step=step)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        keys = [key for key in app.screen.query(FooterKey) if key.display]
        assert len(keys) >= 4  # Next, Back, Save, Quit at least
        for key in keys:
            region = visible(key)
            assert region.right <= SMALL[0], f"{key.description} is cut off at {region}"


# What each step shows at 80×24, for the snapshots below.
STEP_SNAPSHOTS = {
    "hosts": "Hosts: the name and target share a row, the five lab hosts, the five edit buttons "
    "(Rename … Import…) on one row of one-line buttons, Back/Save preset/Next on the row above the footer.",
    "access": "Access: the login settings two per row, 'New key for this cluster' beside the key field, "
    "then the Check access / Password for host buttons and the start of the host table (the step scrolls).",
    "preflight": "Preflight: the verdict (78 passed, 4 warnings, 7 failed, 2 must be fixed) on top, the "
    "five actions on two rows (Only problems included), the checks table scrolling inside nine rows, "
    "the start of the details pane.",
    "options": "Roles & options: Kubespray/Kubernetes versions, plugin and runtime, proxies, the load "
    "balancer (ticked) with its domain; the rest below the fold.",
    "review": "Review: the summary, the green 'passes every check' line, the three files to be written and "
    "the top of hosts.yaml's diff.",
    "deploy": "Deploy: the step bar reads '· 1 → · 2 → · 3 → · 4 → · 5 →  6. Deploy ', the plan beside "
    "Start deployment/Resume/Cancel run, the 'stopped: kubespray' line, then Phases and Progress side by "
    "side (Overall 1/3 phases · elapsed 00:34, a third of the bar, Kubespray-shaped playbook failed after "
    "00:34), the Slowest tasks panel full width below them.",
}


@pytest.mark.parametrize("step", list(STEP_SNAPSHOTS))
def test_snapshot_at_80x24(
    snap_compare: object, kwizard_root: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Every step at 80×24: see STEP_SNAPSHOTS for what each must show. On every one the current step's
    title is whole in the step bar, the navigation is one row of one-line buttons and the footer's keys
    all fit (no command palette key)."""
    monkeypatch.setenv("HOME", "/home/operator")  # no real key file: the same text on every machine
    app: App[int]
    if step == "deploy":
        app = WizardApp(_workspace_with_failed_run(kwizard_root), root=kwizard_root, start_step="deploy")
    elif step == "review":
        app = WizardApp(lab_spec(), root=SNAPSHOT_ROOT, start_step="review")
    else:
        app = RecordedWizard(lab_spec(), root=kwizard_root, start_step=step)
    assert snap_compare(app, terminal_size=SMALL, run_before=settle)  # type: ignore[operator]


def test_snapshot_import_dialog_at_80x24(snap_compare: object, kwizard_root: Path) -> None:
    """The Import hosts dialog at 80×24 over the Hosts step: its five answers (~/.ssh/config, Terraform
    folder, Terraform state file, AWS EC2 by tag, Cancel) one under another, full width, Cancel last."""

    async def open_import(pilot: Pilot[int]) -> None:
        await settle(pilot)
        await pilot.click("#import")
        await pilot.pause()

    app = WizardApp(lab_spec(), root=kwizard_root, start_step="hosts")
    assert snap_compare(app, terminal_size=SMALL, run_before=open_import)  # type: ignore[operator]
