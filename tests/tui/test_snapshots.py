"""Appearance of the wizard shell's own steps (SVG snapshots, committed)."""

from __future__ import annotations

from pathlib import Path

from kwizard import preset as presets
from kwizard.resources import shipped_presets
from kwizard.ui.app import WizardApp


def _baremetal() -> object:
    return presets.load(next(p for p in shipped_presets() if p.name == "baremetal-ha.yaml"))


def test_options_step(snap_compare, kwizard_root: Path):
    """The Roles & options step prefilled from baremetal-ha.yaml: Kubespray v2.31.0 / Kubernetes 1.35.4,
    calico + containerd, LB enabled with NodePorts 30800/30443 and the grafana virtual host, GlusterFS
    storage, Grafana ticked; the step bar shows steps 1-3 as dots (not checked in this session) and step 4
    current."""
    app = WizardApp(_baremetal(), root=kwizard_root, start_step="options")  # type: ignore[arg-type]
    assert snap_compare(app, terminal_size=(120, 48))


def test_hosts_step(snap_compare, kwizard_root: Path):
    """The Hosts step with the nine hosts of baremetal-ha.yaml and their roles in the table."""
    app = WizardApp(_baremetal(), root=kwizard_root, start_step="hosts")  # type: ignore[arg-type]
    assert snap_compare(app, terminal_size=(120, 40))
