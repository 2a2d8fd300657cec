"""`kwizard remove-node` and `kwizard reset` end to end on the lab, with a Kubespray-shaped stand-in.

Kubespray's own playbooks need systemd and the internet, which the lab has not. The stand-in checkout has
remove-node.yml, reset.yml and playbooks/facts.yml that record how they were invoked (extra vars, limit,
the inventory they were given, ANSIBLE_CONFIG) and touch the hosts at the edges the real ones do: a node
that is reset loses the marker file kwizard's test put on it. kwizard runs as a user runs it (a
subprocess); the tests assert on the records, the hosts, the preset, the inventory and the journal.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kwizard import lab as kwlab
from kwizard import preset as presets
from kwizard.paths import Workspace, workspace
from kwizard.spec import ClusterSpec, Host, SSHSettings
from tests.cli import run_kwizard

pytestmark = pytest.mark.slow

MARKER = "/root/kwizard-node-marker"
RUN_TIMEOUT = 900  # the first run builds the stand-in's venv with pip
# What each stand-in playbook records, on the controller, once per invocation.
RECORD = """\
    - name: Record how this playbook was invoked
      delegate_to: localhost
      run_once: true
      ansible.builtin.copy:
        dest: "{records}/{name}-{{{{ lookup('pipe', 'date +%s%N') }}}}.json"
        mode: "0600"
        content: >-
          {{{{ {{'node': node | default(None),
                'skip_confirmation': skip_confirmation | default(None),
                'allow_ungraceful_removal': allow_ungraceful_removal | default(None),
                'reset_nodes': reset_nodes | default(None),
                'reset_confirmation': reset_confirmation | default(None),
                'limit': ansible_limit | default(None),
                'play_hosts': ansible_play_hosts_all,
                'inventory': lookup('file', inventory_file),
                'ansible_config': lookup('env', 'ANSIBLE_CONFIG')}} | to_json }}}}
"""
REMOVE_NODE_YML = """\
- name: Validate nodes for removal (as Kubespray does)
  hosts: localhost
  gather_facts: false
  become: false
  tasks:
    - name: Assert that nodes are specified for removal
      ansible.builtin.assert:
        that: [node is defined, node | length > 0]
        msg: "No nodes specified for removal. The `node` variable must be set explicitly."
- name: Remove node
  hosts: "{{{{ node | default('this_is_unreachable') }}}}"
  gather_facts: false
  tasks:
{record}
    - name: Fail if user does not confirm deletion
      ansible.builtin.fail:
        msg: "Delete nodes confirmation failed"
      when: not (skip_confirmation | default(false) | bool)
    - name: Stand-in failure (a file next to the playbook says so)
      ansible.builtin.fail:
        msg: "remove-node stand-in told to fail"
      delegate_to: localhost
      run_once: true
      when: lookup('ansible.builtin.fileglob', playbook_dir + '/fail-remove-node') | length > 0
    - name: Reset node (its marker goes)
      ansible.builtin.file:
        path: {marker}
        state: absent
      when: reset_nodes | default(true) | bool
"""
RESET_YML = """\
- name: Reset cluster
  hosts: etcd:k8s_cluster:calico_rr
  gather_facts: false
  tasks:
{record}
    - name: Check confirmation
      ansible.builtin.fail:
        msg: "Reset confirmation failed"
      when: not reset_confirmation | default(false) | bool
    - name: Reset (the marker goes)
      ansible.builtin.file:
        path: {marker}
        state: absent
"""
FACTS_YML = """\
- name: Gather facts
  hosts: k8s_cluster:etcd:calico_rr
  gather_facts: false
  tasks:
{record}
    - name: Gather minimal facts
      ansible.builtin.setup:
        gather_subset: "!all"
"""
ANSIBLE_CFG = """\
[ssh_connection]
pipelining=True
[defaults]
host_key_checking=False
"""
ROLES: dict[str, list[str]] = {
    "lab1": ["control_plane", "etcd"],
    "lab2": ["worker"],
    "lab4": ["worker"],
    "lab5": ["worker"],
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One kwizard data root for the module: the stand-in's venv is built once and then reused."""
    return tmp_path_factory.mktemp("kwizard-day2")


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    checkout = tmp_path_factory.mktemp("kubespray-day2")
    records = checkout / "records"
    records.mkdir()
    (checkout / "playbooks").mkdir()

    def record(name: str) -> str:
        return RECORD.format(records=records, name=name)

    (checkout / "cluster.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    (checkout / "remove-node.yml").write_text(
        REMOVE_NODE_YML.format(record=record("remove-node"), marker=MARKER)
    )
    (checkout / "reset.yml").write_text(RESET_YML.format(record=record("reset"), marker=MARKER))
    (checkout / "playbooks" / "facts.yml").write_text(FACTS_YML.format(record=record("facts")))
    (checkout / "ansible.cfg").write_text(ANSIBLE_CFG)
    (checkout / "requirements.txt").write_text(
        f"ansible-core=={importlib.metadata.version('ansible-core')}\n"
    )
    return checkout


def _cluster(name: str, lab: kwlab.Lab, root: Path, checkout: Path, extra: list[Host] = ()) -> Workspace:  # type: ignore[assignment]
    """A saved cluster as a build leaves it: preset, known_hosts, markers on its hosts."""
    hosts = [
        Host(name=host, address=lab.host(host).address, port=lab.host(host).port, roles=roles)  # type: ignore[arg-type]
        for host, roles in ROLES.items()
    ]
    spec = ClusterSpec(name=name, hosts=[*hosts, *extra], ssh=SSHSettings(user="root", key=str(lab.key_path)))
    spec = spec.model_copy(update={"kubespray": spec.kubespray.model_copy(update={"dir": str(checkout)})})
    ws = workspace(name, root).create()
    presets.save(spec, ws.preset_file)
    shutil.copy(lab.known_hosts, ws.known_hosts)  # what the access phase leaves behind
    for host in ROLES:
        assert lab.host(host).exec(["sh", "-c", f"echo built > {MARKER}"]).returncode == 0
    for old in (checkout / "records").iterdir():
        old.unlink()
    return ws


def _kwizard(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_kwizard(root, *args, timeout=RUN_TIMEOUT)


def _records(checkout: Path, name: str) -> list[dict[str, Any]]:
    files = sorted((checkout / "records").glob(f"{name}-*.json"))
    return [json.loads(path.read_text()) for path in files]


def _has_marker(lab: kwlab.Lab, host: str) -> bool:
    return lab.host(host).exec(["test", "-e", MARKER]).returncode == 0


def _inventory_hosts(ws: Workspace) -> set[str]:
    document = yaml.safe_load((ws.inventory_dir / "hosts.yaml").read_text())
    return set(document["all"]["hosts"])


def _last_journal(ws: Workspace) -> dict[str, Any]:
    runs = sorted(p for p in ws.runs_dir.iterdir() if (p / "state.json").is_file())
    return dict(json.loads((runs[-1] / "state.json").read_text()))


def test_remove_node_runs_remove_node_yml_then_updates_preset_and_inventory(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = _cluster("day2-remove", lab, root, stand_in)
    done = _kwizard(root, "remove-node", "day2-remove", "lab4", "--yes")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [call] = _records(stand_in, "remove-node")
    assert call["node"] == "lab4"
    assert call["skip_confirmation"] is True
    assert call["allow_ungraceful_removal"] is None and call["reset_nodes"] is None  # graceful
    assert call["play_hosts"] == ["lab4"]
    assert call["ansible_config"] == str(stand_in / "ansible.cfg")
    assert "lab4:" in call["inventory"]  # Kubespray needs the node in the inventory it removes
    assert _records(stand_in, "facts") == []  # remove-node.yml gathers facts itself when graceful
    assert not _has_marker(lab, "lab4")
    assert all(_has_marker(lab, host) for host in ("lab1", "lab2", "lab5"))
    assert [h.name for h in presets.load(ws.preset_file).hosts] == ["lab1", "lab2", "lab5"]
    assert _inventory_hosts(ws) == {"lab1", "lab2", "lab5"}
    journal = _last_journal(ws)
    assert journal["status"] == "ok"
    assert list(journal["phases"]) == ["remove-node", "update-preset"]
    assert journal["options"]["operation"]["nodes"] == ["lab4"]
    command = json.loads(
        next(Path(journal["phases"]["remove-node"]["data"]["artifact_dir"]).glob("command")).read_text()
    )
    assert "--become" in command["command"]


def test_a_failed_removal_changes_nothing_and_resume_finishes_it(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = _cluster("day2-resume", lab, root, stand_in)
    preset_before = ws.preset_file.read_text()
    fail = stand_in / "fail-remove-node"
    fail.touch()
    try:
        failed = _kwizard(root, "remove-node", "day2-resume", "lab5", "--yes")
    finally:
        fail.unlink()

    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "remove-node stand-in told to fail" in failed.stdout + failed.stderr
    assert "Continue with: kwizard --resume day2-resume --yes" in failed.stdout + failed.stderr
    assert ws.preset_file.read_text() == preset_before
    assert "lab5" in _inventory_hosts(ws)
    assert _has_marker(lab, "lab5")
    assert _last_journal(ws)["phases"]["update-preset"]["status"] == "pending"

    resumed = _kwizard(root, "--resume", "day2-resume", "--yes")

    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert [call["node"] for call in _records(stand_in, "remove-node")] == ["lab5", "lab5"]
    assert not _has_marker(lab, "lab5")
    assert "lab5" not in {h.name for h in presets.load(ws.preset_file).hosts}
    assert "lab5" not in _inventory_hosts(ws)
    assert _last_journal(ws)["status"] == "ok"


def test_an_unreachable_node_needs_ungraceful_and_skips_its_reset(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    gone = Host(
        name="gone1", address=str(lab.host("lab1").address).rsplit(".", 1)[0] + ".250", roles=["worker"]
    )
    ws = _cluster("day2-gone", lab, root, stand_in, extra=[gone])

    refused = _kwizard(root, "remove-node", "day2-gone", "gone1", "--yes")
    assert refused.returncode == 2, refused.stdout[-3000:] + refused.stderr[-3000:]
    assert "--ungraceful" in refused.stderr
    assert _records(stand_in, "remove-node") == []
    assert "gone1" in {h.name for h in presets.load(ws.preset_file).hosts}

    done = _kwizard(root, "remove-node", "day2-gone", "gone1", "--yes", "--ungraceful")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [facts] = _records(stand_in, "facts")
    assert facts["limit"] == "all:!gone1"
    assert sorted(facts["play_hosts"]) == ["lab1", "lab2", "lab4", "lab5"]
    [call] = _records(stand_in, "remove-node")
    assert call["node"] == "gone1"
    assert call["allow_ungraceful_removal"] is True and call["reset_nodes"] is False
    assert all(_has_marker(lab, host) for host in ROLES)
    assert "gone1" not in _inventory_hosts(ws)
    assert list(_last_journal(ws)["phases"]) == ["facts", "remove-node", "update-preset"]


def test_reset_needs_the_name_then_resets_every_node_and_marks_the_folder(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = _cluster("day2-reset", lab, root, stand_in)

    refused = _kwizard(root, "reset", "day2-reset", "--confirm", "day2-other")
    assert refused.returncode == 2
    assert "Not confirmed" in refused.stderr
    assert _records(stand_in, "reset") == []

    done = _kwizard(root, "reset", "day2-reset", "--confirm", "day2-reset")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [call] = _records(stand_in, "reset")
    assert call["reset_confirmation"] is True
    assert sorted(call["play_hosts"]) == sorted(ROLES)
    assert not any(_has_marker(lab, host) for host in ROLES)
    marker = json.loads((ws.cluster_dir / "reset.json").read_text())
    journal = _last_journal(ws)
    assert marker["run_id"] == journal["run_id"]
    assert marker["cluster"] == "day2-reset"
    assert ws.preset_file.is_file() and (ws.inventory_dir / "hosts.yaml").is_file()  # kept

    again = _kwizard(root, "remove-node", "day2-reset", "lab4", "--yes")
    assert again.returncode == 2
    assert "was reset" in again.stderr
