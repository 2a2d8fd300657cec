"""The wizard shell driven with real keys (Textual Pilot)."""

from __future__ import annotations

from pathlib import Path

from kwizard import preset as presets
from kwizard.resources import shipped_presets
from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp
from kwizard.ui.modals import ChoiceModal, ErrorModal
from tests.tui.wizard_driver import add_hosts, type_into

STEP_ORDER = ["HostsStep", "AccessStep", "PreflightStep", "OptionsStep", "ReviewStep", "DeployStep"]


async def test_walk_forward_and_back_then_save_preset(kwizard_root: Path):
    app = WizardApp(None, root=kwizard_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "WelcomeScreen"
        await type_into(pilot, "#new-name", "walk")
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"
        await add_hosts(pilot)
        seen = [type(app.screen).__name__]
        for _ in range(5):
            await pilot.press("ctrl+n")
            await pilot.pause()
            seen.append(type(app.screen).__name__)
        assert seen == STEP_ORDER
        for expected in reversed(STEP_ORDER[:-1]):
            await pilot.press("ctrl+b")
            await pilot.pause()
            assert type(app.screen).__name__ == expected
        # Answers survive the walk back: the host table still holds the hosts, now with default roles.
        assert [h.name for h in app.screen.hosts] == ["node1", "node2", "node3"]  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = presets.load(kwizard_root / "clusters" / "walk" / "preset.yaml")
    assert saved.name == "walk"
    assert saved.hosts[0].roles == ["control_plane", "etcd", "worker", "loadbalancer"]
    assert len(saved.hosts_with("etcd")) == 3


async def test_invalid_host_is_explained_and_not_added(kwizard_root: Path):
    app = WizardApp(ClusterSpec(name="bad"), root=kwizard_root, start_step="hosts")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await add_hosts(pilot, [("node1", "10.0.0.300", "")])
        problems = str(app.screen.query_one("#problems").render())
        assert "'10.0.0.300' is not a valid IP address" in problems
        assert app.screen.hosts == []  # type: ignore[attr-defined]


async def test_next_is_refused_when_the_answers_are_invalid(kwizard_root: Path):
    app = WizardApp(ClusterSpec(name="bad"), root=kwizard_root, start_step="hosts")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await add_hosts(pilot, [("node1", "10.0.0.1", "worker")])
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        assert "no host has the control_plane role" in app.screen.error.problem
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"


async def test_quit_with_unsaved_answers_asks_first(kwizard_root: Path):
    app = WizardApp(ClusterSpec(name="quitter"), root=kwizard_root, start_step="hosts")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await add_hosts(pilot, [("node1", "10.0.0.1", "")])
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        await pilot.click("#stay")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.click("#save")
        await pilot.pause()
    assert app.return_value == 0
    assert presets.load(kwizard_root / "clusters" / "quitter" / "preset.yaml").hosts[0].name == "node1"


async def test_quit_without_changes_does_not_ask(kwizard_root: Path):
    spec = presets.load(next(p for p in shipped_presets() if p.name == "baremetal-ha.yaml"))
    app = WizardApp(spec, root=kwizard_root, start_step="review")
    app.saved_spec = spec
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_value == 0


async def test_continue_the_last_cluster(kwizard_root: Path):
    from kwizard.paths import workspace

    spec = presets.load(next(p for p in shipped_presets() if p.name == "lab.yaml"))
    presets.save(spec, workspace("lab", kwizard_root).create().preset_file)
    app = WizardApp(None, root=kwizard_root)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.click("#continue-lab")
        await pilot.pause()
        assert type(app.screen).__name__ == "ClusterHome"  # its hosts, runs and actions first
        await pilot.click("#action-edit")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"
        assert app.spec == spec


async def test_buttons_navigate_like_the_keys(kwizard_root: Path):
    spec = presets.load(next(p for p in shipped_presets() if p.name == "baremetal-ha.yaml"))
    app = WizardApp(spec, root=kwizard_root, start_step="hosts")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.click("#next")
        await pilot.pause()
        assert type(app.screen).__name__ == "AccessStep"
        await pilot.click("#back")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"
        await pilot.click("#save")
        await pilot.pause()
    assert presets.load(kwizard_root / "clusters" / "baremetal-ha" / "preset.yaml") == spec


async def test_next_on_the_review_step_moves_exactly_one_step(kwizard_root: Path):
    """Each step's own buttons and Back/Next share one dispatcher: Next from Review lands on Deploy (and
    does not go on to Deploy's Finish, which would quit)."""
    spec = presets.load(next(p for p in shipped_presets() if p.name == "baremetal-ha.yaml"))
    app = WizardApp(spec, root=kwizard_root, start_step="review")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.click("#next")
        await pilot.pause()
        assert type(app.screen).__name__ == "DeployStep"
        assert app.is_running


async def test_typing_a_new_name_beside_an_existing_cluster_starts_a_new_one(kwizard_root: Path):
    """Focus starts on "Continue 'lab'": typing goes to the name field, and Enter starts the new cluster."""
    presets.save(ClusterSpec(name="lab"), kwizard_root / "clusters" / "lab" / "preset.yaml")
    app = WizardApp(None, root=kwizard_root)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "WelcomeScreen"
        assert app.screen.focused is not None and app.screen.focused.id == "continue-lab"
        await pilot.press(*"fresh", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"
        assert app.spec.name == "fresh"


async def test_a_name_typed_fast_beside_an_existing_cluster_keeps_every_letter(kwizard_root: Path):
    """A real terminal delivers "walk2" in one burst, before focus has moved to the name field: every
    letter lands there (it once kept only the last one, "2")."""
    from textual import events

    presets.save(ClusterSpec(name="lab"), kwizard_root / "clusters" / "lab" / "preset.yaml")
    app = WizardApp(None, root=kwizard_root)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert app.screen.focused is not None and app.screen.focused.id == "continue-lab"
        for character in "walk2":  # queued together, as a terminal's read delivers them
            app.post_message(events.Key(character, character))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"
        assert app.spec.name == "walk2"


async def test_a_saved_clusters_name_given_as_new_opens_it_only_when_asked_twice(kwizard_root: Path):
    """Start new with a saved cluster's name would have overwritten its preset: it is refused with the
    way to open it (Enter again), which is also how the clusters past the first five are reached."""
    names = [f"c{i}" for i in range(7)]
    for name in names:
        presets.save(ClusterSpec(name=name), kwizard_root / "clusters" / name / "preset.yaml")
    app = WizardApp(None, root=kwizard_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert len(app.screen.query(".continue")) == 5
        more = str(app.screen.query_one("#more").render())
        assert "2 more saved" in more and "type a name below to open it" in more
        hidden = next(n for n in names if not app.screen.query(f"#continue-{n}"))
        await type_into(pilot, "#new-name", hidden)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "WelcomeScreen"  # not a new cluster over the saved one
        assert "is saved: Enter again opens it" in str(app.screen.query_one("#welcome-error").render())
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ClusterHome" and app.spec.name == hidden
