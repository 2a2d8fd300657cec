"""The storage choice in "Roles & options", driven with real keys through the wizard."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.widgets import Input, Select, Static

from kwizard.preset import load
from kwizard.resources import stylesheet
from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp
from kwizard.ui.modals import ErrorModal
from kwizard.ui.screens.options import OptionsStep
from kwizard.ui.widgets.storage_choice import StorageChoice

PRESETS = Path(__file__).resolve().parents[2] / "presets"
# AWS hosts that exist already (the shipped aws-3az preset creates its own).
AWS_HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "presets" / "aws-3az-hosts.yaml"
SIZE = (110, 60)


def options_app(spec: ClusterSpec, tmp_path: Path) -> WizardApp:
    return WizardApp(spec, start_step="options", root=tmp_path)


async def replace_text(pilot, selector: str, text: str) -> None:  # type: ignore[no-untyped-def]
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    await pilot.press("end", *["backspace"] * len(widget.value), *text)


async def test_bare_metal_offers_gluster_with_its_settings_and_no_ebs(tmp_path: Path) -> None:
    app = options_app(load(PRESETS / "baremetal-ha.yaml"), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        choice = app.screen.query_one(StorageChoice)
        select = choice.query_one("#storage-type", Select)
        assert select.value == "gluster"
        assert [value for _, value in select._options if value is not Select.BLANK] == [
            "gluster",
            "local-path",
            "none",
        ]
        assert choice.query_one("#gluster-settings").display
        assert not choice.query_one("#ebs-settings").display
        assert "FUSE" in str(choice.query_one("#storage-description", Static).render())
        why = str(choice.query_one("#storage-why", Static).render())
        assert "Kubernetes 1.26" in why and "v2.28" in why and "cloud_provider: aws" in why
        assert choice.query_one("#gluster-gid", Input).value == "1000"


async def test_choosing_local_path_with_keys_hides_gluster_settings_and_reaches_the_spec(
    tmp_path: Path,
) -> None:
    app = options_app(load(PRESETS / "baremetal-ha.yaml"), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.query_one("#storage-type", Select).focus()
        await pilot.press("enter", "down", "enter")
        await pilot.pause()
        choice = app.screen.query_one(StorageChoice)
        assert choice.query_one("#storage-type", Select).value == "local-path"
        assert not choice.query_one("#gluster-settings").display
        assert "local-path provisioner" in str(choice.query_one("#storage-description", Static).render())
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.spec.storage.type == "local-path"
        assert not isinstance(app.screen, OptionsStep)


async def test_aws_offers_ebs_and_its_volume_type(tmp_path: Path) -> None:
    app = options_app(load(AWS_HOSTS), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        choice = app.screen.query_one(StorageChoice)
        assert choice.query_one("#storage-type", Select).value == "aws-ebs"
        assert choice.query_one("#ebs-settings").display
        assert not choice.query_one("#gluster-settings").display
        choice.query_one("#ebs-volume-type", Select).focus()
        await pilot.press("enter", "down", "down", "down", "enter")  # gp3 → gp2 → io1 → io2
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.spec.storage.type == "aws-ebs" and app.spec.storage.ebs_volume_type == "io2"


async def test_a_spec_without_a_choice_gets_the_targets_default(tmp_path: Path) -> None:
    spec = load(PRESETS / "baremetal-ha.yaml").updated(storage={"type": "aws-ebs"})  # not offered here
    app = options_app(spec, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#storage-type", Select).value == "gluster"


async def test_typed_gluster_settings_reach_the_spec(tmp_path: Path) -> None:
    app = options_app(load(PRESETS / "baremetal-ha.yaml"), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await replace_text(pilot, "#gluster-gid", "2000")
        await replace_text(pilot, "#gluster-volume", "esdata")
        await replace_text(pilot, "#gluster-size", "100G")
        await replace_text(pilot, "#gluster-pv-count", "4")
        await pilot.press("ctrl+n")
        await pilot.pause()
        gluster = app.spec.storage.gluster
        assert (gluster.gid, gluster.volume, gluster.size, gluster.pv_count) == (2000, "esdata", "100g", 4)


async def test_an_invalid_size_is_refused_with_the_key_and_the_step_stays(tmp_path: Path) -> None:
    app = options_app(load(PRESETS / "baremetal-ha.yaml"), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await replace_text(pilot, "#gluster-size", "lots")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ErrorModal)
        assert "storage.gluster.size" in app.screen.error.problem
        assert app.spec.storage.gluster.size == "9g"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OptionsStep)


class StorageOnly(App[None]):
    """The widget alone with the wizard's shared look: its snapshots do not move with the rest of the step."""

    CSS_PATH: ClassVar = [stylesheet("app")]

    def __init__(self, spec: ClusterSpec) -> None:
        super().__init__()
        self.spec = spec

    def compose(self) -> ComposeResult:
        yield StorageChoice()

    def on_mount(self) -> None:
        self.query_one(StorageChoice).load(self.spec)


def test_snapshot_gluster_choice(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Bare metal: backend "GlusterFS (replicated, on your storage hosts)" with its one-paragraph
    explanation, the Gluster settings (volume gv0, replicas 3, gid 1000, brick size 9g, brick folder
    /data/glusterfs/brick1, mount point /mnt/gluster, 10 PersistentVolumes), no EBS field, and the amber box
    "Why not as in the guide" naming Kubernetes 1.26, Kubespray v2.28 and cloud_provider: aws (1.31/v2.27)."""
    assert snap_compare(StorageOnly(load(PRESETS / "baremetal-ha.yaml")), terminal_size=(110, 34))


def test_snapshot_ebs_choice(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """AWS: backend "AWS EBS (CSI driver, gp3)" with its explanation (one volume per claim in the pod's
    zone, IAM role), a single "EBS volume type" field showing gp3, no Gluster settings, then the same
    "Why not as in the guide" box."""
    assert snap_compare(StorageOnly(load(AWS_HOSTS)), terminal_size=(110, 34))
