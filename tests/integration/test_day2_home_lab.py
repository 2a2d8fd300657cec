"""Each day-2 action run from a saved cluster's home screen in the wizard, on the lab.

The real app (App.run_test) is driven as an operator drives it: Continue the cluster on the Welcome
screen, press the action, answer its questions and its confirmation, wait for the run screen to finish,
go Back. Kubespray's playbooks are the recording stand-in of tests/kubespray_standin.py; backup and restore
run against a real etcd on lab1 (the `etcd` fixture). Each test asserts what the headless test of the same
command asserts: the Kubespray invocation, the hosts, the preset, the inventory and the cluster's folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import yaml
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Static

from kwizard import lab as kwlab
from kwizard import preset as presets
from kwizard.paths import Workspace
from kwizard.ui.app import WizardApp
from kwizard.ui.modals import AskModal, ChoiceModal, ErrorModal, PickModal
from kwizard.ui.screens.day2_run import Day2RunScreen
from kwizard.ui.screens.home import ClusterHome
from tests.etcd_lab import etcdctl, systemctl_calls
from tests.kubespray_standin import (
    ROLES,
    VERSION_FILE,
    failing,
    has_marker,
    last_journal,
    records,
    saved_cluster,
)

pytestmark = pytest.mark.slow

RUN_SECONDS = 600  # one run, the stand-in's venv build included when this module runs first


@asynccontextmanager
async def _home(root: Path, size: tuple[int, int] = (160, 48)) -> AsyncIterator[tuple[WizardApp, Pilot[int]]]:
    """The wizard (160x48 unless told) on the home screen of the cluster saved last."""
    app = WizardApp(root=root)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # Continue '<the cluster saved last>'
        await pilot.pause()
        assert isinstance(app.screen, ClusterHome)
        yield app, pilot


async def _answer(pilot: Pilot[int], text: str) -> None:
    assert isinstance(pilot.app.screen, AskModal), pilot.app.screen
    await pilot.press(*text, "enter")
    await pilot.pause()


async def _finish(app: WizardApp, pilot: Pilot[int], status: str = "ok") -> ClusterHome:
    """Wait (bounded) for the run screen's run to end with `status`; go Back to the home screen."""
    run = app.screen
    assert isinstance(run, Day2RunScreen), run
    for _ in range(RUN_SECONDS * 5):
        if run.outcome is not None and not run.running:
            break
        await asyncio.sleep(0.2)
    assert run.outcome is not None and run.outcome.status == status, run.outcome
    await pilot.pause()
    if isinstance(app.screen, ErrorModal):  # a failure's error, shown over the run screen
        await pilot.press("escape")
        await pilot.pause()
    await pilot.click("#day2-back")
    await pilot.pause()
    home = app.screen
    assert isinstance(home, ClusterHome)
    return home


def _rows(home: ClusterHome, table: str) -> list[list[object]]:
    found = home.query_one(table, DataTable)
    return [found.get_row_at(i) for i in range(found.row_count)]


def _inventory_hosts(ws: Workspace) -> set[str]:
    return set(yaml.safe_load((ws.inventory_dir / "hosts.yaml").read_text())["all"]["hosts"])


async def test_remove_node_from_the_home_screen(lab: kwlab.Lab, stand_in: Path, root: Path) -> None:
    ws = saved_cluster("home-remove", lab, root, stand_in)
    async with _home(root) as (app, pilot):
        await pilot.click("#action-remove-node")
        await pilot.pause()
        await _answer(pilot, "lab4")
        assert isinstance(app.screen, ChoiceModal) and "Drain, remove and reset lab4?" in app.screen.text
        await pilot.click("#remove")
        await pilot.pause()
        home = await _finish(app, pilot)
        assert [row[0] for row in _rows(home, "#home-hosts")] == ["lab1", "lab2", "lab5"]
        assert _rows(home, "#home-runs")[0][1] == "remove-node"

    [call] = records(stand_in, "remove-node")
    assert call["node"] == "lab4" and call["skip_confirmation"] is True
    assert call["allow_ungraceful_removal"] is None and call["reset_nodes"] is None  # graceful
    assert call["play_hosts"] == ["lab4"]
    assert call["ansible_config"] == str(stand_in / "ansible.cfg")
    assert "lab4:" in call["inventory"]  # Kubespray needs the node in the inventory it removes
    assert not has_marker(lab, "lab4")
    assert all(has_marker(lab, host) for host in ("lab1", "lab2", "lab5"))
    assert [h.name for h in presets.load(ws.preset_file).hosts] == ["lab1", "lab2", "lab5"]
    assert _inventory_hosts(ws) == {"lab1", "lab2", "lab5"}
    journal = last_journal(ws)
    assert journal["status"] == "ok" and list(journal["phases"]) == ["remove-node", "update-preset"]
    assert journal["options"]["operation"]["nodes"] == ["lab4"]


async def test_upgrade_from_the_home_screen(lab: kwlab.Lab, stand_in: Path, root: Path) -> None:
    ws = saved_cluster("home-upgrade", lab, root, stand_in)
    spec = presets.load(ws.preset_file)
    pinned = spec.kubespray.model_copy(update={"kube_version": "1.34.3", "version": "v2.31.0"})
    presets.save(spec.updated(kubespray=pinned), ws.preset_file)
    async with _home(root) as (app, pilot):
        await pilot.click("#action-upgrade")
        await pilot.pause()
        await _answer(pilot, "1.35.4")
        assert isinstance(app.screen, ChoiceModal)
        assert "Kubernetes 1.34.3 → 1.35.4 with Kubespray v2.31.0" in app.screen.text
        await pilot.click("#upgrade")
        await pilot.pause()
        home = await _finish(app, pilot)
        assert "Kubernetes 1.35.4" in str(home.query_one("#home-summary", Static).render())

    [call] = records(stand_in, "upgrade-cluster")
    assert call["kube_version"] == "1.35.4" and call["limit"] is None
    assert sorted(call["play_hosts"]) == sorted(ROLES)
    for host in ROLES:
        assert lab.host(host).exec(["cat", VERSION_FILE]).stdout.strip() == "1.35.4", host
    after = presets.load(ws.preset_file).kubespray
    assert (after.kube_version, after.version) == ("1.35.4", "v2.31.0")
    journal = last_journal(ws)
    assert journal["status"] == "ok" and list(journal["phases"]) == ["upgrade", "pin-versions"]
    assert journal["options"]["operation"]["from_kube_version"] == "1.34.3"


async def test_a_failed_upgrade_is_resumed_from_the_home_screen(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    """The run fails: the old versions stay pinned and Resume last run appears; it finishes the same run."""
    ws = saved_cluster("home-resume", lab, root, stand_in)
    spec = presets.load(ws.preset_file)
    pinned = spec.kubespray.model_copy(update={"kube_version": "1.34.3", "version": "v2.31.0"})
    presets.save(spec.updated(kubespray=pinned), ws.preset_file)
    async with _home(root) as (app, pilot):
        assert not app.screen.query_one("#action-resume", Button).display
        with failing(stand_in, "upgrade-cluster"):
            await pilot.click("#action-upgrade")
            await pilot.pause()
            await _answer(pilot, "1.35.4")
            await pilot.click("#upgrade")
            await pilot.pause()
            home = await _finish(app, pilot, status="failed")
        failed = last_journal(ws)
        assert failed["phases"]["pin-versions"]["status"] == "pending"
        assert presets.load(ws.preset_file).kubespray.kube_version == "1.34.3"
        assert "failed" in str(_rows(home, "#home-runs")[0][2])
        assert home.query_one("#action-resume", Button).display

        await pilot.click("#action-resume")
        await pilot.pause()
        home = await _finish(app, pilot)
        assert not home.query_one("#action-resume", Button).display

    assert [call["kube_version"] for call in records(stand_in, "upgrade-cluster")] == ["1.35.4", "1.35.4"]
    after = presets.load(ws.preset_file).kubespray
    assert (after.kube_version, after.version) == ("1.35.4", "v2.31.0")
    journal = last_journal(ws)
    assert journal["run_id"] == failed["run_id"] and journal["status"] == "ok"  # the same run, resumed


async def test_reset_from_the_home_screen(lab: kwlab.Lab, stand_in: Path, root: Path) -> None:
    ws = saved_cluster("home-reset", lab, root, stand_in)
    async with _home(root) as (app, pilot):
        await pilot.click("#action-reset")
        await pilot.pause()
        assert "Type the cluster's name (home-reset)" in app.screen.prompt  # type: ignore[attr-defined]
        await _answer(pilot, "home-reset")
        home = await _finish(app, pilot)
        summary = str(home.query_one("#home-summary", Static).render())
        assert summary.endswith("4 hosts · reset"), summary
        assert home.overview is not None and home.overview.reset
        await pilot.click("#action-remove-node")  # a reset cluster has no nodes to change
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "The cluster was reset"

    [call] = records(stand_in, "reset")
    assert call["reset_confirmation"] is True
    assert sorted(call["play_hosts"]) == sorted(ROLES)
    assert not any(has_marker(lab, host) for host in ROLES)
    marker = json.loads((ws.cluster_dir / "reset.json").read_text())
    assert marker["cluster"] == "home-reset" and marker["run_id"] == last_journal(ws)["run_id"]
    assert ws.preset_file.is_file() and (ws.inventory_dir / "hosts.yaml").is_file()  # kept


async def test_backup_then_restore_from_the_home_screen(
    lab: kwlab.Lab, stand_in: Path, root: Path, etcd: kwlab.LabHost
) -> None:
    ws = saved_cluster("home-etcd", lab, root, stand_in)
    async with _home(root, size=(80, 24)) as (app, pilot):  # the run screen's narrow, short layout
        await pilot.click("#action-backup")
        await pilot.pause()
        home = await _finish(app, pilot)
        assert _rows(home, "#home-runs")[0][1] == "backup"
        [snapshot] = sorted((ws.cluster_dir / "backups").glob("*.db"))
        digest = hashlib.sha256(snapshot.read_bytes()).hexdigest()
        assert Path(f"{snapshot}.sha256").read_text() == f"{digest}  {snapshot.name}\n"
        for path in (snapshot, Path(f"{snapshot}.sha256"), Path(f"{snapshot}.json")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        meta = json.loads(Path(f"{snapshot}.json").read_text())
        assert meta["host"] == "lab1" and meta["sha256"] == digest and meta["status"]["totalKey"] >= 1
        summary = str(home.query_one("#home-summary", Static).render())
        assert summary.endswith(f"1 etcd snapshot, the last {meta['taken_at']}"), summary
        assert list(last_journal(ws)["phases"]) == ["etcd-snapshot", "fetch-snapshot"]

        etcdctl(etcd, "put", "/registry/kwizard/state", "after-backup")
        etcdctl(etcd, "put", "/registry/kwizard/written-later", "lost")
        await pilot.click("#action-restore")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickModal) and [o for o, _ in picker.options] == [snapshot.name]
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()  # the snapshot's sha256, checked in a thread
        await pilot.pause()
        ask = app.screen
        assert isinstance(ask, AskModal)
        assert "Everything written to the cluster after that time is lost" in ask.prompt
        assert meta["taken_at"] in ask.prompt and "etcd stops on lab1" in ask.prompt
        await _answer(pilot, "home-etcd")
        home = await _finish(app, pilot)
        assert [row[1] for row in _rows(home, "#home-runs")[:2]] == ["restore", "backup"]

    found = etcdctl(etcd, "get", "--prefix", "/registry/kwizard/").split()
    assert found == ["/registry/kwizard/state", "before-backup"]
    assert len(etcd.exec(["sh", "-c", "ls -d /var/lib/etcd.before-restore-*"]).stdout.split()) == 1
    assert systemctl_calls(etcd) == ["start etcd", "stop etcd", "start etcd", "restart kubelet"]
    journal = last_journal(ws)
    assert journal["status"] == "ok" and list(journal["phases"]) == ["stage-snapshot", "restore-etcd"]
    assert journal["options"]["operation"]["sha256"] == digest
    assert journal["options"]["operation"]["snapshot"] == str(snapshot.resolve())


async def test_home_actions_are_refused_before_any_run(lab: kwlab.Lab, stand_in: Path, root: Path) -> None:
    """The refusals the commands make, as dialogs: the last control plane, a typo'd name, no snapshot."""
    ws = saved_cluster("home-refused", lab, root, stand_in)
    before = ws.preset_file.read_text()
    async with _home(root) as (app, pilot):
        await pilot.click("#action-remove-node")
        await pilot.pause()
        await _answer(pilot, "lab1")
        assert isinstance(app.screen, ErrorModal), app.screen
        assert app.screen.error.title == "Cannot remove the last control plane"
        await pilot.press("escape")
        await pilot.click("#action-reset")
        await pilot.pause()
        await _answer(pilot, "home-refusd")
        assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "Not confirmed"
        await pilot.press("escape")
        await pilot.click("#action-restore")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal) and app.screen.error.title == "No snapshot to restore"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.query_one("#action-restore", Button).display
    assert ws.preset_file.read_text() == before
    assert not ws.runs_dir.exists() or not any(ws.runs_dir.iterdir())
    assert all(records(stand_in, name) == [] for name in ("remove-node", "reset", "upgrade-cluster"))
    assert all(has_marker(lab, host) for host in ROLES)
