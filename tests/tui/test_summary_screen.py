"""The Summary screen: what a user sees when a run ends (snapshot) and how it behaves (Pilot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.widgets import Static

from kwizard import preset, summary
from kwizard.paths import workspace
from kwizard.resources import stylesheet
from kwizard.summary import render_text
from kwizard.ui.screens.summary import SummaryScreen
from tests.unit.test_summary import RESULTS

# AWS hosts that exist already (the shipped aws-3az preset creates its own).
AWS_HOSTS = "tests/fixtures/presets/aws-3az-hosts.yaml"


def build(
    name: str, root: Path = Path("/srv/kwizard"), results: dict[str, dict[str, Any]] | None = None
) -> summary.Summary:
    """A summary with fixed paths (snapshots must not depend on the machine); nothing is written."""
    spec = preset.load(AWS_HOSTS if name == "aws-3az" else f"presets/{name}.yaml")
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
    red "refused", the YAGNI NAT advice, the Next steps as kwizard add-node/remove-node/upgrade/backup/
    reset commands, and the storage phase's GlusterFS summary at the bottom."""
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


LAB_STORAGE = (
    "Gluster volume gv0 built and mounted; the StorageClass and PVs were not applied because this preset "
    "builds no Kubernetes cluster (no kubespray phase)."
)


def lab_run(root: Path) -> Path:
    """A finished run of presets/lab.yaml (no cluster built), journalled as the engine writes it."""
    from kwizard.engine.journal import RunJournal

    spec = preset.load("presets/lab.yaml")
    journal = RunJournal.create(workspace(spec.name, root).create(), list(spec.phases))
    summaries = {
        "discover": "5 hosts",
        "access": "5 of 5 hosts accept the key",
        "preflight": "5 hosts checked",
        "inventory": "5 hosts → hosts.yaml; 3 file(s) written",
        "storage": LAB_STORAGE,
    }
    for name, text in summaries.items():
        journal.update_phase(name, status="ok", summary=text)
    journal.update(status="ok", exit_code=0)
    journal.close()
    return journal.directory


async def test_a_run_that_built_no_cluster_says_so(tmp_path: Path) -> None:
    """Deploying the lab preset (no kubespray phase): no kubectl line, DNS records or StorageClass claims."""
    from kwizard.ui.app import WizardApp

    lab_run(tmp_path)
    app = WizardApp(preset.load("presets/lab.yaml"), root=tmp_path, start_step="deploy")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        title = str(app.screen.query_one("#summary-title", Static).content)
        shown = render_text(app.screen.summary)
        assert "what you have" not in title and "what was not" in title
        assert "kubectl --context" not in shown and "DNS records" not in shown
        assert "10 PersistentVolumes" not in shown and "StorageClass `gluster` (default)" not in shown
        assert f"✓ Storage: {LAB_STORAGE}" in shown
        assert "✗ Not built — Kubernetes: this preset builds no cluster" in shown
        assert "kwizard add-node" not in shown  # day-2 commands need a cluster


def test_summary_screen_lab(snap_compare: Any, tmp_path: Path) -> None:
    """The lab preset after a run: a "What was built" panel first with five green ticks (the storage line says
    the StorageClass and PVs were not applied) and a yellow "Not built — Kubernetes" line; then only the
    NAT advice. No kubectl line, no DNS records, no Next steps, no StorageClass description."""
    from kwizard.engine.journal import RunJournal

    run = RunJournal.load(lab_run(tmp_path)).record
    spec = preset.load("presets/lab.yaml")
    shown = summary.from_record(spec, workspace(spec.name, Path("/srv/kwizard")), run)
    assert snap_compare(SummaryHost(shown), terminal_size=(120, 40))
