"""remove-node's refusals, the day-2 phase lists and extra vars, and reset's confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

from kwizard import cli
from kwizard import preset as presets
from kwizard.day2 import phase_table
from kwizard.day2.phases import remove_node_extravars
from kwizard.day2.removal import plan_removal
from kwizard.errors import InputError
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.spec import ClusterSpec, Host


def _spec(roles: dict[str, list[str]]) -> ClusterSpec:
    hosts = [Host(name=name, address=f"10.0.0.{i + 1}", roles=r) for i, (name, r) in enumerate(roles.items())]  # type: ignore[arg-type]
    return ClusterSpec(name="c1", hosts=hosts)


HA = {
    "cp1": ["control_plane", "etcd"],
    "cp2": ["control_plane", "etcd"],
    "cp3": ["control_plane", "etcd"],
    "w1": ["worker"],
    "w2": ["worker"],
}


def test_a_worker_removal_leaves_the_rest() -> None:
    removal = plan_removal(_spec(HA), ["w2", "w2"])
    assert removal.names == ["w2"]
    assert [h.name for h in removal.remaining.hosts] == ["cp1", "cp2", "cp3", "w1"]


def test_an_unknown_name_is_refused_naming_the_hosts() -> None:
    with pytest.raises(InputError) as caught:
        plan_removal(_spec(HA), ["w9"])
    assert caught.value.title == "Unknown node"
    assert "'w9'" in caught.value.problem and "cp1, cp2, cp3, w1, w2" in caught.value.fix


def test_the_last_control_plane_is_refused() -> None:
    spec = _spec({"cp1": ["control_plane", "etcd"], "cp2": ["control_plane"], "w1": ["worker"]})
    with pytest.raises(InputError) as caught:
        plan_removal(spec, ["cp1", "cp2"])
    assert caught.value.title == "Cannot remove the last control plane"


def test_breaking_etcd_quorum_is_refused_saying_which_to_remove_too() -> None:
    with pytest.raises(InputError) as caught:
        plan_removal(_spec(HA), ["cp3"])
    assert caught.value.title == "The removal would leave an even number of etcd members"
    assert "2 etcd members (cp1, cp2)" in caught.value.problem
    assert caught.value.fix.startswith("Also remove cp2")
    assert plan_removal(_spec(HA), ["cp3", "cp2"]).names == ["cp3", "cp2"]  # what the fix says works


def test_the_first_control_plane_is_refused_as_kubespray_cannot_remove_it() -> None:
    with pytest.raises(InputError) as caught:
        plan_removal(_spec(HA), ["cp1", "cp2"])
    assert caught.value.title == "Cannot remove the first kube_control_plane host"
    assert "Move cp1 after" in caught.value.fix


def test_remove_node_extra_vars_graceful_and_ungraceful() -> None:
    graceful = {"command": "remove-node", "nodes": ["w1", "w2"], "ungraceful": False}
    assert remove_node_extravars(graceful) == {"node": "w1,w2", "skip_confirmation": True}
    ungraceful = {**graceful, "ungraceful": True}
    assert remove_node_extravars(ungraceful) == {
        "node": "w1,w2",
        "skip_confirmation": True,
        "reset_nodes": False,
        "allow_ungraceful_removal": True,
    }


def test_phase_lists_and_the_operation_survive_the_journal() -> None:
    names = [d.name for d in phase_table({"command": "remove-node", "nodes": ["w1"], "ungraceful": True})]
    assert names == ["facts", "remove-node", "update-preset"]
    assert [d.name for d in phase_table({"command": "reset"})] == ["reset", "mark-reset"]
    recorded = RunOptions(operation={"command": "reset"}).recorded()
    resumed, notes = RunOptions().with_recorded(recorded)
    assert resumed.operation == {"command": "reset"} and notes == []
    assert "operation" not in RunOptions().recorded()  # a build's journal stays as it was


def _saved(root: Path) -> None:
    ws = workspace("c1", root).create()
    presets.save(_spec(HA), ws.preset_file)


def test_reset_without_a_terminal_needs_confirm(
    kwizard_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _saved(kwizard_root)
    assert cli.main(["reset", "c1"]) == 2
    assert "--confirm c1" in capsys.readouterr().err
    assert cli.main(["reset", "c1", "--confirm", "c2"]) == 2
    assert "Not confirmed" in capsys.readouterr().err
    assert not (kwizard_root / "clusters" / "c1" / "runs").exists() or not any(
        (kwizard_root / "clusters" / "c1" / "runs").glob("2*")
    )


def test_remove_node_refusals_reach_the_user_before_any_host(
    kwizard_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _saved(kwizard_root)
    assert cli.main(["remove-node", "c1", "cp3", "--yes"]) == 2
    assert "even number of etcd members" in capsys.readouterr().err
    assert [h.name for h in presets.load(workspace("c1", kwizard_root).preset_file).hosts] == list(HA)


def test_runs_lists_what_each_run_was(kwizard_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`kwizard runs`: a build and a day-2 command, each named in the What column."""
    import json

    from kwizard.engine.journal import PhaseRecord, RunRecord

    _saved(kwizard_root)
    ws = workspace("c1", kwizard_root)
    operations = {"20251201-101500": None, "20251202-101000": {"command": "remove-node", "nodes": ["w1"]}}
    for run_id, operation in operations.items():
        phases = ("remove-node",) if operation else ("kubespray",)
        record = RunRecord(
            run_id=run_id, cluster="c1", selected=phases, status="ok", created=0.0, updated=1.0,
            phases={phases[0]: PhaseRecord(status="ok")},
            options={"operation": operation} if operation else {},
        )  # fmt: skip
        (ws.runs_dir / run_id).mkdir(parents=True)
        (ws.runs_dir / run_id / "state.json").write_text(json.dumps(record.to_json()))

    assert cli.main(["runs", "--cluster", "c1"]) == 0

    rows = [line for line in capsys.readouterr().out.splitlines() if "2025120" in line]
    assert [row.split("│")[2].strip() for row in rows] == ["build", "remove-node"]
