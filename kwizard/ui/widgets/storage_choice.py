"""The storage part of "Roles & options": which backend, what it means, why not as in the guide, settings."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from kwizard.errors import InputError
from kwizard.spec import ClusterSpec
from kwizard.storage.choice import STORAGE_OPTIONS, WHY_NOT_IN_TREE, default_storage_type, option, options_for

EBS_VOLUME_TYPES = ["gp3", "gp2", "io1", "io2", "st1", "sc1"]
# Input id → (GlusterSettings field, label) for the whole-number fields.
_NUMBERS = {"gluster-replicas": ("replicas", "Replicas"), "gluster-gid": ("gid", "Group id")}
_NUMBERS["gluster-pv-count"] = ("pv_count", "PersistentVolumes")
_TEXTS = {
    "gluster-volume": "volume",
    "gluster-size": "size",
    "gluster-brick-dir": "brick_dir",
    "gluster-mount-point": "mount_point",
}


class StorageChoice(Vertical):
    """Storage backend (offered per target), its explanation, and the settings of the chosen one."""

    DEFAULT_CSS: ClassVar[str] = """
    StorageChoice { height: auto; }
    StorageChoice .row Input, StorageChoice .row Select { width: 1fr; }
    StorageChoice #storage-description { margin: 0 0 1 18; color: $text-muted; }
    StorageChoice #storage-why { border: round $warning; padding: 0 1; margin-top: 1; height: auto; }
    StorageChoice #gluster-settings { height: auto; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label("Backend", classes="field-label")
            yield Select[str](
                [(o.title, o.key) for o in STORAGE_OPTIONS], id="storage-type", allow_blank=False
            )
        yield Static(id="storage-description")
        with Vertical(id="gluster-settings"):
            yield from _row(("Volume", Input(id="gluster-volume")), ("Replicas", _number("gluster-replicas")))
            yield from _row(
                ("Group id (gid)", _number("gluster-gid")),
                ("Brick size (LVM)", Input(id="gluster-size", placeholder="9g")),
            )
            yield from _row(
                ("Brick folder", Input(id="gluster-brick-dir")),
                ("Mount point", Input(id="gluster-mount-point")),
            )
            yield from _row(("PersistentVolumes", _number("gluster-pv-count")))
        with Horizontal(id="ebs-settings", classes="row"):
            yield Label("EBS volume type", classes="field-label")
            yield Select([(t, t) for t in EBS_VOLUME_TYPES], id="ebs-volume-type", allow_blank=False)
        yield Static(
            "Why not as in the guide:\n" + "\n".join(f"• {reason}" for reason in WHY_NOT_IN_TREE),
            id="storage-why",
        )

    def load(self, spec: ClusterSpec) -> None:
        """Fill the widget from spec (a backend the target does not offer becomes the target's default)."""
        offered = options_for(spec.target)
        keys = [o.key for o in offered]
        chosen = spec.storage.type if spec.storage.type in keys else default_storage_type(spec)
        select = self.query_one("#storage-type", Select)
        select.set_options([(o.title, o.key) for o in offered])
        select.value = chosen
        gluster = spec.storage.gluster
        for input_id, (field, _) in _NUMBERS.items():
            self.query_one(f"#{input_id}", Input).value = str(getattr(gluster, field))
        for input_id, field in _TEXTS.items():
            self.query_one(f"#{input_id}", Input).value = str(getattr(gluster, field))
        self.query_one("#ebs-volume-type", Select).value = spec.storage.ebs_volume_type
        self._show(chosen)

    def apply(self, spec: ClusterSpec) -> dict[str, Any]:
        """spec's storage settings with this widget's answers (validated when the step updates the spec)."""
        gluster = spec.storage.gluster.model_dump()
        for input_id, (field, label) in _NUMBERS.items():
            text = self.query_one(f"#{input_id}", Input).value.strip()
            if not text.isdigit():
                raise InputError(f"Invalid {label}", f"{text!r} is not a whole number", "Type a number.")
            gluster[field] = int(text)
        for input_id, field in _TEXTS.items():
            gluster[field] = self.query_one(f"#{input_id}", Input).value.strip()
        return spec.storage.model_dump() | {
            "type": self.query_one("#storage-type", Select).value,
            "gluster": gluster,
            "ebs_volume_type": self.query_one("#ebs-volume-type", Select).value,
        }

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "storage-type" and isinstance(event.value, str):
            self._show(event.value)

    def _show(self, key: str) -> None:
        self.query_one("#storage-description", Static).update(option(key).description)
        self.query_one("#gluster-settings").display = key == "gluster"
        self.query_one("#ebs-settings").display = key == "aws-ebs"


def _number(input_id: str) -> Input:
    return Input(id=input_id, type="integer")


def _row(*fields: tuple[str, Input]) -> ComposeResult:
    with Horizontal(classes="row"):
        for label, widget in fields:
            yield Label(label, classes="field-label")
            yield widget
