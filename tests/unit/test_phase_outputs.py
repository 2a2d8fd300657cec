"""Phase outputs are typed: written with to_data(), read back with of(), through the journal's JSON."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from kwizard.engine.fingerprint import PHASE_INPUTS
from kwizard.engine.journal import RunJournal, list_runs
from kwizard.engine.pipeline import Engine, PhaseDefinition
from kwizard.inventory.render import preflight_python
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.phases import REGISTRY
from kwizard.protocol.outputs import (
    AccessOutput,
    AppsOutput,
    KubeconfigOutput,
    KubesprayOutput,
    LoadBalancerOutput,
    PreflightOutput,
    Served,
    SnapshotOutput,
    StagedSnapshotOutput,
    output_type,
)
from kwizard.protocol.phase import PhaseContext, PhaseResult
from kwizard.spec import ClusterSpec
from kwizard.summary import from_record
from tests.fixture_phases import local_spec


def test_outputs_survive_the_journal_and_read_back_typed() -> None:
    access = AccessOutput(
        "/k/id_ed25519", "ssh-ed25519 AAAA kw", "SHA256:x", True, {"n1": {"status": "ready"}}
    )
    preflight = PreflightOutput(python_interpreters={"n1": "/usr/bin/python3", "n2": "python3"})
    results = json.loads(json.dumps({"access": access.to_data(), "preflight": preflight.to_data()}))
    assert AccessOutput.of(results) == access
    read = PreflightOutput.of(results)
    assert read is not None and read.interpreter("n1") == "/usr/bin/python3"
    assert read.interpreter("n2") is None and read.interpreter("n3") is None  # only absolute paths
    assert preflight_python(results, "n1") == "/usr/bin/python3"


def test_a_phase_that_did_not_run_or_older_data_reads_as_none() -> None:
    assert AccessOutput.of({}) is None and PreflightOutput.of({"preflight": "x"}) is None
    assert AccessOutput.of({"access": {"public_key": "k"}}) is None  # no key: not this shape
    assert preflight_python({}, "n1") is None
    # Fields this version does not know (a newer kwizard's) are ignored.
    assert (
        PreflightOutput.of({"preflight": {"python_interpreters": {}, "later_field": 1}}) == PreflightOutput()
    )


# Phase data exactly as kwizard wrote it to state.json before the outputs were typed (plain dicts).
OLD_DATA: dict[str, dict[str, Any]] = {
    "kubespray": {
        "kubespray": "/w/cache/kubespray/v2.31.0",
        "version": "v2.31.0",
        "venv": "/w/cache/venvs/v2.31.0",
        "playbook": "cluster.yml",
        "rc": 0,
        "artifact_dir": None,
        "stats": {"cp1": {"ok": 900, "failures": 0}},
    },
    "kubeconfig": {
        "context": "fx",
        "server": "https://10.0.0.1:6443",
        "server_source": "first control plane",
        "kubeconfig": "/w/clusters/fx/kubeconfig",
        "merged_into": "/root/.kube/config",
        "backup": None,
        "current_context": "fx",
        "admin_conf_source": "cp1",
        "api_check": "connection refused",
    },
    "loadbalancer": {
        "lb_nodes": [{"name": "w1", "address": "10.0.0.3"}],
        "node_ports": {"http": 30080, "https": 30443},
        "manifests": ["/w/clusters/fx/manifests/lb/10-controller.yaml"],
        "verification": {
            "hosts": ["app.example.com"],
            "nodes": [{"node": "w1", "address": "10.0.0.3"}],
            "results": [
                {
                    "node": "w1",
                    "address": "10.0.0.3",
                    "port": 30080,
                    "host": "app.example.com",
                    "outcome": "not_found",
                    "status": 404,
                    "diagnosis": "no route",
                }
            ],
        },
        "dns_zone_lines": [],
        "route53_change_batch": None,
        "controller_image": "traefik:v3",
    },
}


def old_phase(name: str, ctx: PhaseContext) -> PhaseResult:
    return PhaseResult("ok", f"{name} as an earlier kwizard", OLD_DATA[name])


def test_a_run_journaled_before_typed_outputs_resumes_and_reads_them(tmp_path: Path) -> None:
    """A journal whose phases' data are the old plain dicts: the resumed phase and the summary read them
    through the typed outputs (the journal's format did not change)."""
    seen: list[tuple[KubesprayOutput | None, KubeconfigOutput | None, LoadBalancerOutput | None]] = []

    def apps(ctx: PhaseContext) -> PhaseResult:
        outputs = (KubesprayOutput.of(ctx.results), KubeconfigOutput.of(ctx.results))
        seen.append((*outputs, LoadBalancerOutput.of(ctx.results)))
        return PhaseResult("failed" if len(seen) == 1 else "ok", "read the earlier phases' outputs")

    table = (
        *(PhaseDefinition(n, n, partial(partial, old_phase, n), PHASE_INPUTS[n]) for n in OLD_DATA),
        PhaseDefinition("apps", "Sample apps", lambda: apps, PHASE_INPUTS["apps"]),
    )
    spec = ClusterSpec.model_validate(
        {
            **local_spec(tmp_path).model_dump(),
            "hosts": [
                {"name": "cp1", "address": "10.0.0.1", "roles": ["control_plane", "etcd", "worker"]},
                {"name": "w1", "address": "10.0.0.3", "roles": ["worker", "loadbalancer"]},
            ],
            "phases": [*OLD_DATA, "apps"],
        }
    )
    ws = Workspace(root=tmp_path / "ws", cluster=spec.name).create()
    assert Engine(spec, ws, RunOptions(), phases=table).start().status == "failed"
    directory = list_runs(ws)[-1]
    on_disk = json.loads((directory / "state.json").read_text())["phases"]
    assert {name: on_disk[name]["data"] for name in OLD_DATA} == OLD_DATA  # the old format, verbatim

    assert Engine(spec, ws, RunOptions(), phases=table).resume().status == "ok"
    kubespray, kube, lb = seen[-1]
    assert kubespray is not None and kubespray.version == "v2.31.0" and kubespray.failures == []
    assert kube is not None and kube.server == "https://10.0.0.1:6443"
    assert kube.api_problem == "connection refused"
    assert lb is not None and lb.served() == [Served("w1", "app.example.com", "not_found", 404)]

    summary = from_record(spec, ws, RunJournal.load(directory).record)
    assert (summary.context, summary.server, summary.merged_into) == ("fx", kube.server, "/root/.kube/config")
    assert summary.api_problem == "connection refused"
    assert [(row.node, row.served) for row in summary.lb_nodes] == [
        ("w1", (("app.example.com", "404 not found", False),))
    ]


def test_the_registry_names_each_phase_s_output_type() -> None:
    typed = {info.name: output_type(info.name) for info in REGISTRY if info.output}
    assert set(typed) == {"access", "preflight", "kubespray", "kubeconfig", "loadbalancer", "apps"}
    for name, kind in typed.items():
        assert kind is not None and name == kind.PHASE, name
    assert output_type("inventory") is None


def test_day2_outputs_and_a_kubespray_run_under_another_phase_read_back() -> None:
    snapshot = SnapshotOutput("cp1", "/var/tmp/d", "/var/tmp/d/s.db", "s.db", "ab" * 32, "2026-01-01", 1.0)
    staged = StagedSnapshotOutput("/var/tmp/s/s.db", "/var/tmp/s")
    reset = KubesprayOutput(version="v2.31.0", playbook="reset.yml")
    results = json.loads(
        json.dumps(
            {
                "etcd-snapshot": snapshot.to_data(),
                "stage-snapshot": staged.to_data(),
                "reset": reset.to_data(),
            }
        )
    )
    assert SnapshotOutput.of(results) == snapshot and StagedSnapshotOutput.of(results) == staged
    assert KubesprayOutput.of(results, "reset") == reset and KubesprayOutput.of(results) is None
    apps = AppsOutput.of({"apps": {"manifests": ["m.yaml"]}})  # a failed apps phase wrote only this
    assert apps is not None and apps.served() == [] and apps.grafana_password_command is None
