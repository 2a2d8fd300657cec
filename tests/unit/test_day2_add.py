"""add-node: host parsing, refusals and the playbook plan; `kwizard clusters` over saved clusters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kwizard import preset as presets
from kwizard.day2 import ADD_NODE, phase_table
from kwizard.day2.addition import new_hosts, plan_addition, playbook_steps, restarts_api_proxy
from kwizard.engine.journal import RunJournal
from kwizard.errors import InputError
from kwizard.paths import workspace
from kwizard.spec import ClusterSpec, Host
from tests.cli import run_kwizard

ONE = {"cp1": ["control_plane", "etcd"], "w1": ["worker"]}


def _spec(roles: dict[str, list[str]], name: str = "c1") -> ClusterSpec:
    hosts = [Host(name=n, address=f"10.0.0.{i + 1}", roles=r) for i, (n, r) in enumerate(roles.items())]  # type: ignore[arg-type]
    return ClusterSpec(name=name, hosts=hosts)


def _recorded(hosts: list[Host]) -> list[dict[str, object]]:
    return [h.model_dump(mode="json", exclude_none=True) for h in hosts]


def test_hosts_are_read_as_on_the_hosts_step_with_worker_as_default_role() -> None:
    hosts = new_hosts(_spec(ONE), ["10.0.0.[21:22]", "db=admin@10.0.0.30:2222", "cp9 10.0.0.9 cp,etcd"], None)
    assert [(h.name, h.address, h.roles) for h in hosts] == [
        ("node1", "10.0.0.21", ["worker"]),
        ("node2", "10.0.0.22", ["worker"]),
        ("db", "10.0.0.30", ["worker"]),
        ("cp9", "10.0.0.9", ["control_plane", "etcd"]),
    ]
    assert hosts[2].user == "admin" and hosts[2].port == 2222
    roles = new_hosts(_spec(ONE), ["10.0.0.21"], "cp,etcd")
    assert roles[0].roles == ["control_plane", "etcd"]


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        (["10.0.0.2"], "already host 'w1'"),
        (["cp1=10.0.0.40"], "'cp1' is already used"),
        (["10.0.0.[1:"], "10.0.0.[1:"),
    ],
)
def test_bad_or_taken_hosts_are_refused(entries: list[str], words: str) -> None:
    with pytest.raises(InputError) as caught:
        new_hosts(_spec(ONE), entries, None)
    assert words in caught.value.problem


def test_an_even_etcd_count_is_refused_with_the_host_to_add() -> None:
    spec = _spec(ONE)
    with pytest.raises(InputError) as caught:
        plan_addition(spec, new_hosts(spec, ["cp2 10.0.0.12 cp,etcd", "w9=10.0.0.19"], None))
    assert "2 members" in caught.value.problem
    assert caught.value.fix.startswith("Give the etcd role to w9 as well")
    addition = plan_addition(spec, new_hosts(spec, ["10.0.0.[12:13]"], "control_plane,etcd"))
    assert [h.name for h in addition.combined.hosts_with("etcd")] == ["cp1", "node1", "node2"]


def test_kwizard_roles_other_than_the_cluster_ones_are_refused() -> None:
    spec = _spec(ONE)
    with pytest.raises(InputError, match="Role not supported"):
        plan_addition(spec, new_hosts(spec, ["10.0.0.21"], "worker,loadbalancer"))


def test_a_first_worker_is_refused_while_the_control_plane_runs_the_workloads() -> None:
    spec = _spec({"cp1": ["control_plane", "etcd"]})
    with pytest.raises(InputError, match="would stop being nodes") as caught:
        plan_addition(spec, new_hosts(spec, ["10.0.0.21"], None))
    assert "Give cp1 the worker role" in caught.value.fix
    both = _spec({"cp1": ["control_plane", "etcd", "worker"]})
    assert plan_addition(both, new_hosts(both, ["10.0.0.21"], None)).names == ["node1"]


def test_workers_take_facts_then_scale_limited_to_them() -> None:
    steps = playbook_steps(_recorded(new_hosts(_spec(ONE), ["10.0.0.[21:22]"], None)))
    assert [(s.playbook, s.limit, s.extravars) for s in steps] == [
        ("playbooks/facts.yml", None, {}),
        ("scale.yml", "node1,node2", {}),
    ]


def test_etcd_members_join_limited_then_a_control_plane_runs_cluster_yml_everywhere() -> None:
    spec = _spec(ONE)
    hosts = _recorded(new_hosts(spec, ["10.0.0.[21:22]"], "cp,etcd"))
    steps = playbook_steps(hosts)
    joining = {"ignore_assert_errors": True, "etcd_retries": 10}
    assert [(s.phase, s.playbook, s.limit, s.extravars) for s in steps] == [
        ("facts", "playbooks/facts.yml", None, {}),
        ("etcd-join", "cluster.yml", "etcd,kube_control_plane", joining),
        ("etcd-config", "upgrade-cluster.yml", "etcd,kube_control_plane", joining),
        ("cluster", "cluster.yml", None, {}),
    ]
    assert restarts_api_proxy(spec, hosts)
    external = spec.model_copy(
        update={"kubespray": spec.kubespray.model_copy(update={"extra_vars": {"loadbalancer_apiserver": {}}})}
    )
    assert not restarts_api_proxy(external, hosts)
    operation = {"command": ADD_NODE, "hosts": hosts, "restart_api_proxy": True}
    assert [d.name for d in phase_table(operation)] == [
        "access", "preflight", "facts", "etcd-join", "etcd-config", "cluster", "api-proxy", "update-preset"
    ]  # fmt: skip


def test_an_etcd_only_member_with_a_worker_joins_then_scales_the_workers() -> None:
    hosts = [{"name": "e2", "roles": ["etcd"]}, {"name": "e3", "roles": ["etcd", "worker"]}]
    assert [(s.playbook, s.limit) for s in playbook_steps(hosts)] == [
        ("playbooks/facts.yml", None),
        ("cluster.yml", "etcd,kube_control_plane"),
        ("upgrade-cluster.yml", "etcd,kube_control_plane"),
        ("scale.yml", "e3"),
    ]


def test_the_api_proxy_playbook_passes_ansibles_syntax_check() -> None:
    from kwizard.loadbalancer.deploy import PLAYBOOKS

    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    done = subprocess.run(
        [ansible_playbook, "--syntax-check", "-i", "localhost,", str(PLAYBOOKS / "restart_api_proxy.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_clusters_lists_hosts_versions_and_the_last_run(tmp_path: Path) -> None:
    built = workspace("alpha", tmp_path).create()
    presets.save(_spec(ONE, "alpha"), built.preset_file)
    journal = RunJournal.create(built, ["remove-node", "update-preset"])
    journal.update(status="failed", options={"operation": {"command": "remove-node", "nodes": ["w1"]}})
    journal.close()
    fresh = workspace("beta", tmp_path).create()
    presets.save(_spec({"a1": ["control_plane", "etcd", "worker"]}, "beta"), fresh.preset_file)

    listed = run_kwizard(tmp_path, "clusters", "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [c["name"] for c in data] == ["alpha", "beta"]
    alpha, beta = data
    assert [h["name"] for h in alpha["hosts"]] == ["cp1", "w1"]
    assert alpha["kube_version"] == presets.load(built.preset_file).kubespray.kube_version
    assert alpha["last_run"]["command"] == "remove-node" and alpha["last_run"]["status"] == "failed"
    assert beta["last_run"] is None

    table = run_kwizard(tmp_path, "clusters")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    alpha_line = next(line for line in lines if line.startswith("alpha"))
    assert (
        "2: cp1, w1" in alpha_line and "remove-node" in alpha_line and alpha_line.rstrip().endswith("failed")
    )
    beta_line = next(line for line in lines if line.startswith("beta"))
    assert beta_line.rstrip().endswith("never run")


def test_clusters_with_none_saved_says_how_to_make_one(tmp_path: Path) -> None:
    done = run_kwizard(tmp_path, "clusters")
    assert done.returncode == 0 and "No saved clusters" in done.stdout
