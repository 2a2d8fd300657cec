"""The step bar marks an earlier step ✓ only when it really succeeded, ✗ when its check failed."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from kwizard import preset
from kwizard.access.flow import HostAccess
from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp
from kwizard.ui.screens.access import AccessChecked

PRESETS = Path(__file__).resolve().parents[2] / "presets"


def _bar(app: WizardApp) -> str:
    return str(app.screen.query_one("#step-bar", Static).content)


async def test_access_with_every_host_failed_is_not_ticked(tmp_path: Path) -> None:
    spec = preset.load(PRESETS / "lab.yaml")
    app = WizardApp(spec, root=tmp_path, start_step="hosts")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.step_id == "access"  # type: ignore[attr-defined]
        # What the access worker posts when no host accepts the key (the same message path).
        rows = [HostAccess(h.name, h.address, "failed", "no route to host") for h in spec.hosts]
        app.screen.post_message(AccessChecked(rows, None))
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.step_id == "preflight"  # type: ignore[attr-defined]
        bar = _bar(app)
        assert "✓ Hosts" in bar  # its form was accepted
        assert "✗ Access" in bar and "✓ Access" not in bar


def _with_kube(spec: ClusterSpec, version: str) -> ClusterSpec:
    return spec.model_copy(update={"kubespray": spec.kubespray.model_copy(update={"kube_version": version})})


async def test_review_with_a_blocking_error_is_not_ticked(tmp_path: Path) -> None:
    spec = _with_kube(preset.load(PRESETS / "baremetal-ha.yaml"), "1.36.0")
    app = WizardApp(spec, root=tmp_path, start_step="review")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "refuse to run" in str(app.screen.query_one("#review-findings", Static).content)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.screen.step_id == "deploy"  # type: ignore[attr-defined]
        bar = _bar(app)
        assert "✗ Review" in bar and "✓ Review" not in bar
        assert "✓ Hosts" not in bar  # not visited in this session: not claimed either


async def test_review_that_passes_is_ticked(tmp_path: Path) -> None:
    app = WizardApp(preset.load(PRESETS / "baremetal-ha.yaml"), root=tmp_path, start_step="review")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "✓ Review" in _bar(app)
