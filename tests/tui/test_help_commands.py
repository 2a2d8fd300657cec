"""Help per step (F1 / ?) and the wizard's commands in the command palette (Ctrl+P), driven with keys."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Static

from kwizard import preset as presets
from kwizard.roles import default_roles
from kwizard.spec import ClusterSpec, Host
from kwizard.ui.app import WizardApp
from kwizard.ui.help import HelpModal
from kwizard.ui.modals import AskModal


def three_hosts() -> ClusterSpec:
    hosts = [Host(name=f"node{i}", address=f"10.0.0.{i}") for i in (1, 2, 3)]
    return ClusterSpec(name="helped", hosts=default_roles(hosts))


def help_text(app: WizardApp) -> str:
    return "\n".join(str(static.render()) for static in app.screen.query(Static))


async def test_f1_and_question_mark_open_the_help_of_the_step(kwizard_root: Path) -> None:
    app = WizardApp(three_hosts(), root=kwizard_root, start_step="hosts")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f1")  # works while the host field has the focus
        await pilot.pause()
        assert isinstance(app.screen, HelpModal)
        shown = help_text(app)
        assert "Help — Hosts" in shown
        assert "goes to Access" in shown  # what to do next
        # The keys come from the step's bindings: its own (Roles, Rename) and the wizard's (Next, Save).
        assert "Rename" in shown and "Roles" in shown and "Next" in shown and "Save" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"
        await palette(pilot, "step 5")
        assert type(app.screen).__name__ == "ReviewStep"
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpModal)
        assert "Help — Review" in help_text(app)


async def test_palette_goes_to_a_step(kwizard_root: Path) -> None:
    app = WizardApp(three_hosts(), root=kwizard_root, start_step="hosts")
    async with app.run_test(size=(120, 40)) as pilot:
        await palette(pilot, "step 5")
        assert type(app.screen).__name__ == "ReviewStep"
        assert app.spec.hosts[0].name == "node1"  # the answers went along


async def test_palette_saves_the_preset_as_a_named_file(kwizard_root: Path, tmp_path: Path) -> None:
    app = WizardApp(three_hosts(), root=kwizard_root, start_step="options")
    target = tmp_path / "copy.yaml"
    async with app.run_test(size=(120, 40)) as pilot:
        await palette(pilot, "save preset as")
        assert isinstance(app.screen, AskModal)
        app.screen.query_one("#answer").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
    assert presets.load(target).name == "helped"
    assert [h.name for h in presets.load(target).hosts] == ["node1", "node2", "node3"]


async def test_palette_open_report_without_a_run_says_so(kwizard_root: Path) -> None:
    app = WizardApp(three_hosts(), root=kwizard_root, start_step="deploy")
    async with app.run_test(size=(120, 40)) as pilot:
        await palette(pilot, "open last run's report")
        assert type(app.screen).__name__ == "DeployStep"
        assert any("No run report yet" in str(n.message) for n in app._notifications)


async def palette(pilot: Pilot[int], query: str) -> None:
    """Open the command palette, type `query`, run the best match."""
    await pilot.pause()
    await pilot.press("ctrl+p")
    for _ in range(50):  # bounded: the palette mounts within a few frames
        await pilot.pause(0.02)
        if isinstance(pilot.app.screen, CommandPalette):
            break
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*query)
    await pilot.pause(0.3)  # the providers search in a worker
    await pilot.press("enter")
    for _ in range(50):
        await pilot.pause(0.02)
        if not isinstance(pilot.app.screen, CommandPalette):
            break
    await pilot.pause()


def test_snapshot_help_of_the_access_step(snap_compare: object, kwizard_root: Path) -> None:
    """F1 on the Access step at 80x24: a dialog "Help — Access" saying what Check access does, the
    step's keys (F1 Help, ^n Next, ^b Back, ^s Save, ^t Check access) and "Next" naming
    Preflight, with a Close button still on screen."""
    app = WizardApp(three_hosts(), root=kwizard_root, start_step="access")
    assert snap_compare(app, terminal_size=(80, 24), press=["f1"])  # type: ignore[operator]
