"""After a headless run that built or exposed the cluster, the cluster summary says what to do next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kwizard import preset
from kwizard.engine.pipeline import PhaseDefinition
from kwizard.headless import run_headless
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.protocol.phase import Event, PhaseContext, PhaseResult

PRESETS = Path(__file__).resolve().parents[2] / "presets"


def _ok(ctx: PhaseContext) -> PhaseResult:
    return PhaseResult("ok", "done")


def _phases(*names: str) -> list[PhaseDefinition]:
    return [PhaseDefinition(name, name, lambda: _ok) for name in names]


@pytest.mark.parametrize("json_mode", [False, True])
def test_summary_follows_a_successful_cluster_run(json_mode: bool, tmp_path: Path, capsys):
    spec = preset.load(PRESETS / "baremetal-ha.yaml").updated(phases=["kubeconfig", "loadbalancer"])
    ws = workspace(spec.name, tmp_path).create()
    code = run_headless(spec, ws, RunOptions(json=json_mode), phases=_phases("kubeconfig", "loadbalancer"))
    out = capsys.readouterr()
    assert code == 0
    shown = out.err if json_mode else out.out
    assert "Next steps" in shown and "kwizard reset " in shown
    assert "grafana.example.com" in shown  # the DNS records to add
    # The phase table already says what each phase did; the summary does not say it twice.
    assert "What was built" not in shown and "Phase" in shown
    if json_mode:
        assert json.loads(out.out)["status"] == "ok"  # stdout stays pure JSON


def test_no_summary_when_the_run_built_nothing(tmp_path: Path, capsys):
    spec = preset.load(PRESETS / "lab.yaml")
    ws = workspace(spec.name, tmp_path).create()
    assert run_headless(spec, ws, RunOptions(), phases=_phases("inventory")) == 0
    assert "Next steps" not in capsys.readouterr().out


def _same_failure_on_every_host(ctx: PhaseContext) -> PhaseResult:
    failed = {"task": "Manage packages", "res": {"msg": "E: no mirror"}}
    finding = {
        "id": "package_source_unreachable",
        "title": "No package source",
        "fix": "Give the hosts a mirror",
    }
    for host in ("lab5", "lab1", "lab4", "lab2"):
        ctx.emit(Event("host_failed", "kubespray", host, failed, 1.0))
        ctx.emit(Event("finding", "kubespray", host, finding, 1.1))
    ctx.emit(Event("host_failed", "kubespray", "lab1", {"task": "Other task", "res": {"msg": "boom"}}, 1.2))
    return PhaseResult("failed", "Manage packages on lab1, lab2, lab4, lab5")


def test_the_same_failure_on_many_hosts_is_said_once_with_its_hosts(tmp_path: Path, capsys):
    """A mirror out of reach fails one task on every host: one line and one finding naming the hosts,
    not four copies of each (seen on a real Kubespray run on the lab)."""
    spec = preset.load(PRESETS / "lab.yaml").updated(phases=["kubespray"])
    ws = workspace(spec.name, tmp_path).create()
    phases = [PhaseDefinition("kubespray", "kubespray", lambda: _same_failure_on_every_host)]
    assert run_headless(spec, ws, RunOptions(), phases=phases) != 0
    lines = capsys.readouterr().out.splitlines()
    failed = [line for line in lines if line.startswith("✗ ")]
    assert failed == ["✗ lab1, lab2, lab4, lab5 — Manage packages: E: no mirror", "✗ lab1 — Other task: boom"]
    found = [line for line in lines if line.startswith("→ ")]
    assert found == [
        "→ No package source (package_source_unreachable) on lab1, lab2, lab4, lab5: Give the hosts a mirror"
    ]
