"""The Summary screen: what a user sees when a run ends (snapshot) and how it behaves (Pilot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.app import App

from kwizard import preset, summary
from kwizard.paths import workspace
from kwizard.resources import stylesheet
from kwizard.ui.screens.summary import SummaryScreen
from tests.unit.test_summary import RESULTS


def build(
    name: str, root: Path = Path("/srv/kwizard"), results: dict[str, dict[str, Any]] | None = None
) -> summary.Summary:
    """A summary with fixed paths (snapshots must not depend on the machine); nothing is written."""
    spec = preset.load(f"presets/{name}.yaml")
    chosen = results if results is not None else (RESULTS if name == "baremetal-ha" else {})
    return summary.build(spec, workspace(spec.name, root), chosen)


class SummaryHost(App[None]):
    """A bare app showing only the Summary screen, with the wizard's shared and own stylesheets."""

    CSS_PATH: ClassVar = [stylesheet("app"), stylesheet("summary")]

    def __init__(self, shown: summary.Summary) -> None:
        super().__init__()
        self.shown = shown
        self.closed = False

    def on_mount(self) -> None:
        self.push_screen(SummaryScreen(self.shown), lambda _: setattr(self, "closed", True))


def test_summary_screen_baremetal(snap_compare: Any) -> None:
    """Bare-metal cluster after a run: the kubectl context line with a yellow "kubectl will fail" warning
    (API not reachable from here), two A records for grafana.example.com with
    the no-health-check warning, the URL, a node table where worker1 shows a green "200 ok" and worker2 a
    red "refused", the YAGNI NAT advice, the Next steps with facts.yml before scale.yml --limit, and the
    storage phase's GlusterFS summary at the bottom."""
    assert snap_compare(SummaryHost(build("baremetal-ha")), terminal_size=(130, 90))


def test_summary_screen_aws(snap_compare: Any) -> None:
    """AWS 3-AZ cluster before the kubeconfig phase: "not merged yet" in yellow, three A records plus the
    Route53 change batch, the EC2 note that L2 VIPs do not work, LB nodes "not verified yet", and the NAT
    gateway vs NAT instance advice ending with "3 AZs", and the EBS storage summary at the bottom."""
    assert snap_compare(SummaryHost(build("aws-3az")), terminal_size=(130, 120))


async def test_escape_closes_and_text_can_be_saved(tmp_path: Path) -> None:
    shown = build("baremetal-ha", tmp_path, results={})
    app = SummaryHost(shown)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert shown.kubeconfig.startswith(str(tmp_path))
        Path(shown.kubeconfig).parent.mkdir(parents=True)
        await pilot.press("ctrl+t")
        saved = Path(shown.kubeconfig).parent / "summary.txt"
        assert saved.read_text().startswith("Cluster baremetal-ha")
        assert (saved.stat().st_mode & 0o777) == 0o600
        await pilot.press("escape")
        await pilot.pause()
        assert app.closed
