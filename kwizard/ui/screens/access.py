"""Step 2 — Access: how kwizard logs in (user, key, password variable, bastion)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label

from kwizard.errors import InputError
from kwizard.spec import Bastion, ClusterSpec
from kwizard.ui.steps import StepScreen


class AccessStep(StepScreen):
    step_id = "access"
    NOT_BUILT = (
        "Not built yet: testing logins and installing the key on each host happen in a later version. "
        "The settings below are saved in the preset."
    )

    def compose_body(self) -> ComposeResult:
        fields = [
            ("SSH user", "ssh-user", "root"),
            ("SSH port", "ssh-port", "22"),
            ("Private key", "ssh-key", "~/.ssh/id_ed25519"),
            ("Password variable", "password-env", "name of an environment variable (optional)"),
            ("Bastion address", "bastion-address", "empty: no bastion"),
            ("Bastion user", "bastion-user", "same as SSH user"),
        ]
        for label, field_id, placeholder in fields:
            with Horizontal(classes="row"):
                yield Label(label, classes="field-label")
                yield Input(id=field_id, placeholder=placeholder)

    def load_spec(self, spec: ClusterSpec) -> None:
        values = {
            "ssh-user": spec.ssh.user,
            "ssh-port": str(spec.ssh.port),
            "ssh-key": spec.ssh.key,
            "password-env": spec.ssh.password_env or "",
            "bastion-address": spec.bastion.address if spec.bastion else "",
            "bastion-user": (spec.bastion.user or "") if spec.bastion else "",
        }
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = value

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def apply_to(self, spec: ClusterSpec) -> ClusterSpec:
        port_text = self._value("ssh-port") or "22"
        if not port_text.isdigit():
            raise InputError("Invalid SSH port", f"{port_text!r} is not a number", "Use a port like 22.")
        ssh = spec.ssh.model_dump() | {
            "user": self._value("ssh-user") or "root",
            "port": int(port_text),
            "key": self._value("ssh-key") or "~/.ssh/id_ed25519",
            "password_env": self._value("password-env") or None,
        }
        address = self._value("bastion-address")
        bastion = None
        if address:
            previous = spec.bastion.model_dump() if spec.bastion else {}
            bastion = Bastion.model_validate(
                previous | {"address": address, "user": self._value("bastion-user") or None}
            )
        return spec.updated(ssh=ssh, bastion=bastion)
