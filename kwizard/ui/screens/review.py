"""Step 5 — Review: the preset that will be saved and what will run."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static, TextArea

from kwizard import preset as presets
from kwizard.spec import ClusterSpec
from kwizard.ui.steps import StepScreen


class ReviewStep(StepScreen):
    step_id = "review"
    NOT_BUILT = (
        "Not built yet: the Kubespray inventory preview, its diff against disk and the equivalent "
        "ansible-playbook command line. Below is the preset exactly as it will be saved."
    )

    def compose_body(self) -> ComposeResult:
        yield Static("", id="review-summary")
        yield TextArea("", id="preset-yaml", read_only=True)

    def load_spec(self, spec: ClusterSpec) -> None:
        phases = ", ".join(self.wizard.options.selected_phases(spec))
        roles = {role: len(spec.hosts_with(role)) for role in ("control_plane", "etcd", "worker")}
        self.query_one("#review-summary", Static).update(
            f"Cluster [b]{spec.name}[/] ({spec.target}): {len(spec.hosts)} hosts — "
            f"{roles['control_plane']} control plane, {roles['etcd']} etcd, {roles['worker']} workers.\n"
            f"Phases: {phases}\nPreset file: {self.wizard.ws.preset_file}"
        )
        self.query_one("#preset-yaml", TextArea).text = presets.dump(spec)
