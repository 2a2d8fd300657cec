"""The Review step: files with their diff against disk, the checks' findings, the command line, the phases."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.syntax import Syntax
from textual.widgets import DataTable, Static

from kwizard import preset
from kwizard.inventory.files import plan, write
from kwizard.kubespray import command_line
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp

PRESETS = Path(__file__).resolve().parents[2] / "presets"
# Fixed, never-written paths so the snapshot shows the same text on every machine.
SNAPSHOT_ROOT = Path("/var/empty/kwizard-review")


def _with_kube(spec: ClusterSpec, version: str) -> ClusterSpec:
    return spec.model_copy(update={"kubespray": spec.kubespray.model_copy(update={"kube_version": version})})


def _text(app: WizardApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def _ready(app: WizardApp) -> None:
    await app.workers.wait_for_complete()


async def test_diff_against_disk_and_command(tmp_path: Path) -> None:
    spec = preset.load(PRESETS / "baremetal-ha.yaml")
    ws = workspace(spec.name, tmp_path).create()
    write(plan(_with_kube(spec, "1.34.7"), ws), ws.inventory_dir)  # what an earlier run left on disk
    app = WizardApp(spec, root=tmp_path, start_step="review", options=RunOptions(until="kubespray"))
    async with app.run_test(size=(130, 60)) as pilot:
        await _ready(app)
        await pilot.pause()
        table = app.screen.query_one("#review-files", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [row[1:] for row in rows] == [
            ["hosts.yaml", ""],
            ["group_vars/all/kwizard.yml", ""],
            ["group_vars/k8s_cluster/kwizard.yml", "+1 -1"],
        ]
        assert "already on disk exactly like this" in _text(app, "#review-diff")
        await pilot.click("#review-files")
        table.move_cursor(row=2)
        await pilot.pause()
        shown = app.screen.query_one("#review-diff", Static).content
        assert isinstance(shown, Syntax)
        diff = shown.code
        assert "-kube_version: 1.34.7\n+kube_version: 1.35.4\n" in diff
        assert _text(app, "#review-command") == command_line(spec, ws, app.options)
        kubespray = _text(app, "#review-kubespray")
        assert f"to be cloned from {spec.kubespray.repo_url}" in kubespray
        assert (
            "Phases that will run: Discover hosts → SSH access → Preflight checks → Inventory → Kubespray"
            in kubespray
        )
        assert "passes every check" in _text(app, "#review-findings")
        await pilot.click("#copy-command")
        assert app.clipboard == command_line(spec, ws, app.options)
        # Reviewing writes nothing: the file on disk still holds the earlier run's version.
        assert "1.34.7" in (ws.inventory_dir / "group_vars/k8s_cluster/kwizard.yml").read_text()


async def test_findings_name_the_field_to_fix(tmp_path: Path) -> None:
    spec = _with_kube(preset.load(PRESETS / "baremetal-ha.yaml"), "1.36.0")
    app = WizardApp(spec, root=tmp_path, start_step="review")
    async with app.run_test(size=(130, 60)) as pilot:
        await _ready(app)
        await pilot.pause()
        findings = _text(app, "#review-findings")
        assert "✗ kubespray.kube_version" in findings
        assert "Kubernetes 1.36.0 is not supported by Kubespray v2.31.0" in findings
        assert "the inventory phase will refuse to run" in findings
        assert not (tmp_path / "clusters").exists() or not any((tmp_path / "clusters").rglob("hosts.yaml"))


async def test_preview_after_a_run_is_what_the_inventory_phase_wrote(tmp_path: Path) -> None:
    """After a run, the inventory on disk names the interpreters preflight chose: the preview keeps them."""
    from kwizard.engine.journal import RunJournal

    spec = preset.load(PRESETS / "baremetal-ha.yaml")
    ws = workspace(spec.name, tmp_path).create()
    chosen = {
        "python_interpreters": {"cp1": "/usr/bin/python3.12", "worker1": "/usr/libexec/platform-python"}
    }
    journal = RunJournal.create(ws, ["preflight", "inventory"])
    journal.update_phase("preflight", status="ok", data=chosen)
    journal.update_phase("inventory", status="ok")
    journal.update(status="ok")
    journal.close()
    # What the inventory phase wrote in that run: rendered with preflight's results (ctx.results).
    write(plan(spec, ws, {"preflight": chosen}), ws.inventory_dir)
    assert "/usr/bin/python3.12" in (ws.inventory_dir / "hosts.yaml").read_text()
    app = WizardApp(spec, root=tmp_path, start_step="review")
    async with app.run_test(size=(130, 60)) as pilot:
        await _ready(app)
        await pilot.pause()
        table = app.screen.query_one("#review-files", DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[0][1:] == ["hosts.yaml", ""] and "unchanged" in rows[0][0]
        assert "already on disk exactly like this" in _text(app, "#review-diff")


def test_review_snapshot(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Review of the bare-metal HA preset on a fresh machine: a green "passes every check" line; three new
    files (hosts.yaml and two group_vars files) with hosts.yaml's content shown as an all-added diff;
    Kubespray v2.31.0 to be cloned and its Python environment to be created; the phases in order; the
    `cd … && ANSIBLE_CONFIG=… ansible-playbook -i …/hosts.yaml cluster.yml -b --private-key …` command."""
    monkeypatch.setenv("HOME", "/home/operator")
    spec = preset.load(PRESETS / "baremetal-ha.yaml")
    app = WizardApp(spec, root=SNAPSHOT_ROOT, start_step="review")

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 60), run_before=settle)


async def test_a_preset_without_the_kubespray_phase_is_not_told_kubespray_will_be_cloned(
    tmp_path: Path,
) -> None:
    """The lab's preset runs discover → … → storage: Review must not promise a clone and a venv."""
    spec = preset.load(PRESETS / "lab.yaml")
    app = WizardApp(spec, root=tmp_path, start_step="review")
    async with app.run_test(size=(130, 60)) as pilot:
        await _ready(app)
        await pilot.pause()
        kubespray = _text(app, "#review-kubespray")
        assert "is not run by this run (no kubespray phase)" in kubespray
        assert "to be cloned" not in kubespray and "to be created" not in kubespray
        assert "Phases that will run: Discover hosts" in kubespray and "Storage" in kubespray
    assert not (tmp_path / "cache").exists()  # and nothing was cloned
