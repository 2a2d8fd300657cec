"""An exception escaping a step's worker is the error modal, never the end of the app with a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button

from kwizard.access import ensure_key_pair
from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp
from kwizard.ui.modals import ErrorModal
from kwizard.ui.screens.day2_run import Day2RunScreen


def _spec(tmp_path: Path) -> ClusterSpec:
    key = ensure_key_pair(tmp_path / "id_ed25519", comment="kwizard-crashy").private
    return ClusterSpec(
        name="crashy",
        hosts=[{"name": "n1", "address": "192.0.2.10", "roles": ["control_plane", "etcd", "worker"]}],
        ssh={"user": "root", "key": str(key)},
    )


async def _wait_for(pilot: Pilot[int], condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):  # bounded
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _crash(monkeypatch: pytest.MonkeyPatch, target: str, message: str) -> None:
    """`target` (a dotted name) raises RuntimeError(message) when called: a bug inside a worker."""

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError(message)

    monkeypatch.setattr(target, crash)


def _modal_text(app: WizardApp) -> str:
    return " ".join(
        str(widget.render()) for widget in app.screen.query("#dialog-title, #dialog-problem, #dialog-fix")
    )


async def test_a_workdir_that_is_a_file_is_an_error_modal_on_the_access_step(tmp_path: Path) -> None:
    workdir = tmp_path / "workdir"
    workdir.write_text("a file where kwizard's folder should be\n")
    app = WizardApp(_spec(tmp_path), root=workdir, start_step="access")
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.press("ctrl+t")  # Check access: the worker creates the cluster's folder first
        await _wait_for(pilot, lambda: isinstance(app.screen, ErrorModal), "the error modal")
        assert app.is_running
        text = _modal_text(app)
        assert "Cannot create the cluster's folder" in text and str(workdir) in text
        await pilot.press("escape")
        await _wait_for(pilot, lambda: not isinstance(app.screen, ErrorModal), "the modal to close")
        assert not app.screen.query_one("#check", Button).disabled  # the user can try again


async def test_an_unexpected_exception_is_an_internal_error_modal_naming_the_crash_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash(monkeypatch, "kwizard.ui.screens.access.secure_hosts", "boom in the access worker")
    root = tmp_path / "kw"
    app = WizardApp(_spec(tmp_path), root=root, start_step="access")
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.press("ctrl+t")
        await _wait_for(pilot, lambda: isinstance(app.screen, ErrorModal), "the error modal")
        assert app.is_running
        text = _modal_text(app)
        assert "kwizard hit an internal error" in text
        assert "RuntimeError: boom in the access worker" in text
        crash_file = root / "crash.log"
        assert str(crash_file) in text
        assert "boom in the access worker" in crash_file.read_text()
        assert "Traceback" in crash_file.read_text()
        await pilot.press("escape")
        await _wait_for(pilot, lambda: not isinstance(app.screen, ErrorModal), "the modal to close")
        assert not app.screen.query_one("#check", Button).disabled


async def _day2_run_error(app: WizardApp, pilot: Pilot[int]) -> tuple[Day2RunScreen, str]:
    """Start a day-2 run (reset) as the cluster's home screen does; wait for its error modal and close
    it: the run screen is left stopped, Back enabled. Returns the screen and the modal's text."""
    run = Day2RunScreen("Reset the cluster", {"command": "reset"})
    await app.push_screen(run)
    await _wait_for(pilot, lambda: isinstance(app.screen, ErrorModal), "the error modal")
    await pilot.pause()  # its text composed
    assert app.is_running
    text = _modal_text(app)
    await pilot.press("escape")
    await _wait_for(pilot, lambda: app.screen is run, "the run screen again")
    assert not run.running
    assert not run.query_one("#day2-back", Button).disabled  # Back leaves the screen
    assert run.query_one("#day2-cancel", Button).disabled
    return run, text


async def test_a_day2_run_that_cannot_make_its_folder_is_an_error_modal_and_its_screen_can_be_left(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "workdir"
    workdir.write_text("a file where kwizard's folder should be\n")
    app = WizardApp(_spec(tmp_path), root=workdir)
    async with app.run_test(size=(120, 45)) as pilot:
        _, text = await _day2_run_error(app, pilot)
        assert "Cannot create the cluster's folder" in text and str(workdir) in text
        assert app.spec.name == "crashy" and [h.name for h in app.spec.hosts] == ["n1"]  # nothing lost


async def test_an_unexpected_exception_in_a_day2_run_is_an_internal_error_modal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash(monkeypatch, "kwizard.service.runs.build_engine", "boom in the day-2 worker")
    root = tmp_path / "kw"
    app = WizardApp(_spec(tmp_path), root=root)
    async with app.run_test(size=(120, 45)) as pilot:
        run, text = await _day2_run_error(app, pilot)
        assert "kwizard hit an internal error" in text and "RuntimeError: boom in the day-2 worker" in text
        assert "boom in the day-2 worker" in (root / "crash.log").read_text()
        await pilot.click("#day2-back")
        await _wait_for(pilot, lambda: app.screen is not run, "the run screen to close")
