"""A saved cluster's home screen: opened from the Welcome screen, its hosts, runs and actions."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Static

from kwizard import preset as presets
from kwizard.engine.journal import PhaseRecord, RunRecord
from kwizard.paths import Workspace, workspace
from kwizard.spec import ClusterSpec, Host, SSHSettings
from kwizard.ui.app import WizardApp
from kwizard.ui.modals import AskModal, ChoiceModal, ErrorModal, PickModal
from kwizard.ui.screens.home import HOME_ACTIONS, ClusterHome

STARTED = 1764584100.0  # 2025-12-01 10:15 UTC


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def _saved(root: Path, name: str = "prod", kube_version: str | None = None) -> Workspace:
    hosts = [
        Host(name="cp1", address="10.0.0.11", roles=["control_plane", "etcd"]),
        Host(name="cp2", address="10.0.0.12", roles=["control_plane", "etcd"]),
        Host(name="cp3", address="10.0.0.13", roles=["control_plane", "etcd"]),
        Host(name="w1", address="10.0.0.21", roles=["worker", "loadbalancer"]),
        Host(name="w2", address="10.0.0.22", roles=["worker", "loadbalancer"]),
    ]
    ws = workspace(name, root).create()
    spec = ClusterSpec(name=name, hosts=hosts, ssh=SSHSettings(user="ops"))
    if kube_version:
        spec = spec.updated(kubespray={**spec.kubespray.model_dump(), "kube_version": kube_version})
    presets.save(spec, ws.preset_file)
    return ws


def _run(ws: Workspace, run_id: str, started: float, status: str, operation: dict[str, Any] | None) -> None:
    phases = ["remove-node", "update-preset"] if operation else ["discover", "kubespray"]
    record = RunRecord(
        run_id=run_id,
        cluster=ws.cluster,
        selected=tuple(phases),
        status=status,
        created=started,
        updated=started + 60,
        phases={phases[0]: PhaseRecord(status="ok" if status == "ok" else "failed")},
        options={"operation": operation} if operation else {},
    )
    directory = ws.runs_dir / run_id
    directory.mkdir(parents=True)
    (directory / "state.json").write_text(json.dumps(record.to_json()))


def _history(ws: Workspace) -> None:
    _run(ws, "20251201-101500", STARTED, "ok", None)
    operation = {"command": "remove-node", "nodes": ["w3"], "ungraceful": False, "unreachable": []}
    _run(ws, "20251202-101000", STARTED + 86100, "failed", operation)


async def _open(pilot: Pilot[object]) -> None:
    await pilot.pause()
    await pilot.press("enter")  # the focus starts on "Continue '<last cluster>'"
    await pilot.pause()


async def test_continuing_a_cluster_opens_its_home_with_hosts_runs_and_actions(tmp_path: Path) -> None:
    _history(_saved(tmp_path))
    app = WizardApp(root=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot)
        home = app.screen
        assert isinstance(home, ClusterHome)
        hosts = home.query_one("#home-hosts", DataTable)
        assert [hosts.get_row_at(i)[0] for i in range(hosts.row_count)] == ["cp1", "cp2", "cp3", "w1", "w2"]
        assert hosts.get_row_at(3)[2] == "worker, loadbalancer"
        runs = home.query_one("#home-runs", DataTable)
        assert [runs.get_row_at(i)[:2] for i in range(runs.row_count)] == [
            ["20251202-101000", "remove-node"],
            ["20251201-101500", "build"],
        ]
        shown = [a.id for a in HOME_ACTIONS if home.query_one(f"#action-{a.id}", Button).display]
        # the remove-node stopped: Resume is offered
        assert shown == [
            "resume", "add-node", "remove-node", "upgrade", "backup", "restore", "reset", "edit"
        ]  # fmt: skip

        await pilot.click("#action-edit")
        await pilot.pause()
        assert type(app.screen).__name__ == "HostsStep"
        assert [h.name for h in app.spec.hosts] == ["cp1", "cp2", "cp3", "w1", "w2"]


async def test_add_nodes_checks_the_hosts_as_the_command_does(tmp_path: Path) -> None:
    _saved(tmp_path)
    app = WizardApp(root=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot)
        home = app.screen
        assert not home.query_one("#action-resume", Button).display  # no run stopped
        await pilot.click("#action-add-node")
        await pilot.pause()
        assert isinstance(app.screen, AskModal)
        await pilot.press(*"10.0.0.31", "enter")
        await pilot.pause()
        await pilot.press(*["backspace"] * 6, *"etcd", "enter")  # a 4th etcd member
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        assert "even number of etcd members" in app.screen.error.title

        await pilot.press("escape")
        await pilot.click("#action-add-node")
        await pilot.pause()
        await pilot.press(*"w3=10.0.0.23", "enter")
        await pilot.pause()
        await pilot.press("enter")  # the default role: worker
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        assert "scale.yml --limit w3" in app.screen.text
        await pilot.click("#cancel")
        await pilot.pause()
        assert isinstance(app.screen, ClusterHome)


async def test_reset_needs_the_clusters_name(tmp_path: Path) -> None:
    _saved(tmp_path)
    app = WizardApp(root=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot)
        await pilot.click("#action-reset")
        await pilot.pause()
        await pilot.press(*"other", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "Not confirmed"
        assert not any((workspace("prod", tmp_path).runs_dir).iterdir())


def test_snapshot_home_screen(snap_compare: object, tmp_path: Path) -> None:
    """The home screen of a 5-host cluster whose last run (a remove-node) failed, at 160×48.

    A reviewer should see the summary line (cluster prod, Kubespray and Kubernetes versions, 5 hosts),
    the hosts table (cp1–cp3 control_plane, etcd; w1, w2 worker, loadbalancer), the runs table (the
    failed remove-node in red above the ok build) and, on the right, the actions: Resume last run,
    Add nodes…, Remove nodes…, Upgrade…, Back up etcd, Restore etcd…, Reset cluster…, Open the wizard.
    """
    _history(_saved(tmp_path))
    assert snap_compare(WizardApp(root=tmp_path), terminal_size=(160, 48), run_before=_open)  # type: ignore[operator]


def test_snapshot_home_screen_small_terminal(snap_compare: object, tmp_path: Path) -> None:
    """The same home screen at 80×24: all five hosts in the hosts table, both runs, and the eight actions
    under the tables as one-line buttons, three to a row, every one on screen above the footer."""
    _history(_saved(tmp_path))
    assert snap_compare(WizardApp(root=tmp_path), terminal_size=(80, 24), run_before=_open)  # type: ignore[operator]


async def test_resuming_a_day2_run_in_the_wizard_opens_the_home_screen(tmp_path: Path) -> None:
    """kwizard --resume CLUSTER (wizard) after a stopped remove-node: its home, with Resume last run."""
    _history(_saved(tmp_path))
    app = WizardApp(root=tmp_path, resume="prod")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ClusterHome)
        assert app.screen.query_one("#action-resume", Button).display


async def test_upgrade_checks_the_step_as_the_command_does(tmp_path: Path) -> None:
    _saved(tmp_path, kube_version="1.34.3")
    app = WizardApp(root=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot)
        await pilot.click("#action-upgrade")
        await pilot.pause()
        assert isinstance(app.screen, AskModal) and "now 1.34.3" in app.screen.prompt
        await pilot.press(*"1.36.0", "enter")  # two minors at once
        await pilot.pause()
        assert (
            isinstance(app.screen, ErrorModal) and "One Kubernetes minor at a time" in app.screen.error.title
        )
        await pilot.press("escape")
        await pilot.click("#action-upgrade")
        await pilot.pause()
        await pilot.press(*"1.35.4", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        assert "Kubernetes 1.34.3 → 1.35.4 with Kubespray v2.31.0" in app.screen.text
        await pilot.click("#cancel")
        await pilot.pause()
        assert isinstance(app.screen, ClusterHome)
        assert presets.load(workspace("prod", tmp_path).preset_file).kubespray.kube_version == "1.34.3"
        assert not any(workspace("prod", tmp_path).runs_dir.iterdir())


def _snapshot(ws: Workspace, name: str, taken_at: str, revision: int, damaged: bool = False) -> None:
    """A snapshot as `kwizard backup` leaves it: the file, its .sha256 and its .json record."""
    folder = ws.cluster_dir / "backups"
    folder.mkdir(exist_ok=True)
    data = f"snapshot {name}".encode()
    (folder / name).write_bytes(data)
    digest = hashlib.sha256(b"other bytes" if damaged else data).hexdigest()
    (folder / f"{name}.sha256").write_text(f"{digest}  {name}\n")
    meta = {
        "host": "cp1",
        "sha256": digest,
        "taken_at": taken_at,
        "time": revision,
        "status": {"revision": revision},
    }
    (folder / f"{name}.json").write_text(json.dumps(meta))


async def _checked(pilot: Pilot[object]) -> None:
    """Wait for the chosen snapshot's sha256 check (a worker thread) and what it shows next."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_restore_picks_a_snapshot_names_what_is_lost_and_needs_the_name(tmp_path: Path) -> None:
    ws = _saved(tmp_path)
    app = WizardApp(root=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot)
        await pilot.click("#action-restore")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "No snapshot to restore"
        assert "kwizard backup prod" in app.screen.error.fix
        await pilot.press("escape")
        await pilot.pause()

        _snapshot(ws, "etcd-a.db", "2025-12-01 10:00:00 UTC", 5)
        _snapshot(ws, "etcd-b.db", "2025-12-02 10:00:00 UTC", 9)
        _snapshot(ws, "etcd-c.db", "2025-12-03 10:00:00 UTC", 12, damaged=True)
        home = app.screen
        assert isinstance(home, ClusterHome)
        home.reload()
        summary = str(home.query_one("#home-summary", Static).render())
        assert summary.endswith("5 hosts · 3 etcd snapshots, the last 2025-12-03 10:00:00 UTC"), summary
        await pilot.click("#action-restore")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickModal)
        assert [option_id for option_id, _ in picker.options] == ["etcd-c.db", "etcd-b.db", "etcd-a.db"]
        assert "2025-12-02 10:00:00 UTC · on cp1 · revision 9" in picker.options[1][1]
        await pilot.press("enter")  # the newest: damaged
        await _checked(pilot)
        assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "The snapshot is damaged"
        await pilot.press("escape")
        await pilot.pause()

        await pilot.click("#action-restore")
        await pilot.pause()
        await pilot.press("down", "enter")  # etcd-b.db
        await _checked(pilot)
        ask = app.screen
        assert isinstance(ask, AskModal) and ask.title_text == "Restore etcd"
        assert "Restoring etcd-b.db puts 'prod' back" in ask.prompt
        assert "2025-12-02 10:00:00 UTC, etcd revision 9" in ask.prompt
        assert "Everything written to the cluster after that time is lost" in ask.prompt
        assert "Type the cluster's name (prod)" in ask.prompt
        await pilot.press(*"prd", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "Not confirmed"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ClusterHome)
    assert not ws.runs_dir.exists() or not any(ws.runs_dir.iterdir())


async def test_upgrade_takes_a_kubespray_version_after_the_kubernetes_one(tmp_path: Path) -> None:
    ws = _saved(tmp_path, kube_version="1.33.11")
    spec = presets.load(ws.preset_file)
    presets.save(
        spec.updated(kubespray={**spec.kubespray.model_dump(), "version": "v2.30.0"}), ws.preset_file
    )
    app = WizardApp(root=tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot)
        await pilot.click("#action-upgrade")
        await pilot.pause()
        assert isinstance(app.screen, AskModal) and "if not v2.30.0" in app.screen.prompt
        await pilot.press(*"1.34.7 v2.31.0 v2.32.0", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "Two versions at most"
        await pilot.press("escape")
        await pilot.click("#action-upgrade")
        await pilot.pause()
        await pilot.press(*"1.34.7 v2.31.0", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal), app.screen
        assert "1.33.11 → 1.34.7" in app.screen.text and "v2.31.0" in app.screen.text
        await pilot.click("#cancel")
        await pilot.pause()
    assert presets.load(ws.preset_file).kubespray.version == "v2.30.0"
