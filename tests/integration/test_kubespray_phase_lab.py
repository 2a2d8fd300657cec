"""The kubespray phase end to end on the lab, with a stand-in for Kubespray's checkout.

A real Kubespray run needs systemd and the internet, which the lab has not. The stand-in is a folder like
a Kubespray checkout (cluster.yml, a Kubespray-like ansible.cfg, requirements.txt pinning ansible-core):
kwizard builds its venv with pip for real, writes the inventory, and runs cluster.yml through the
ansible-runner adapter with the venv's ansible-playbook. The test then reads, inside each host, what the
play wrote. pip fetches ansible-core (the version kwizard itself uses) through the package registry.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import pytest

from kwizard import lab as kwlab
from kwizard.kubespray import run_phase
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.protocol.phase import Event, PhaseContext, PhaseResult
from kwizard.spec import ClusterSpec, Host, SSHSettings

pytest.importorskip("kwizard.runner.adapter", reason="the ansible-runner adapter is not in this build")
pytestmark = pytest.mark.slow

PROBE = "/root/kwizard-cluster-yml"
CLUSTER_YML = f"""\
- name: Stand-in for Kubespray's cluster.yml
  hosts: k8s_cluster
  gather_facts: false
  tasks:
    - name: Record what this node was given
      ansible.builtin.copy:
        content: "{{{{ inventory_hostname }}}} {{{{ kube_version }}}} {{{{ kube_network_plugin }}}}\\n"
        dest: {PROBE}
        mode: "0600"
"""
ANSIBLE_CFG = """\
[ssh_connection]
pipelining=True
ssh_args = -o ControlMaster=auto -o ControlPersist=30m -o UserKnownHostsFile=/dev/null
[defaults]
host_key_checking=False
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One kwizard data root for the module: the stand-in's venv is built once and then reused."""
    return tmp_path_factory.mktemp("kwizard-root")


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    checkout = tmp_path_factory.mktemp("kubespray-stand-in")
    (checkout / "cluster.yml").write_text(CLUSTER_YML)
    (checkout / "ansible.cfg").write_text(ANSIBLE_CFG)
    (checkout / "requirements.txt").write_text(
        f"ansible-core=={importlib.metadata.version('ansible-core')}\n"
    )
    return checkout


def _spec(name: str, lab: kwlab.Lab, checkout: Path, names: dict[str, list[str]]) -> ClusterSpec:
    hosts = [
        Host(name=host, address=lab.host(host).address, port=lab.host(host).port, roles=roles)  # type: ignore[arg-type]
        for host, roles in names.items()
    ]
    spec = ClusterSpec(name=name, hosts=hosts, ssh=SSHSettings(user="root", key=str(lab.key_path)))
    return spec.model_copy(update={"kubespray": spec.kubespray.model_copy(update={"dir": str(checkout)})})


def _run(
    spec: ClusterSpec, lab: kwlab.Lab, root: Path, events: list[Event]
) -> tuple[PhaseContext, PhaseResult]:
    ws = workspace(spec.name, root).create()
    shutil.copy(lab.known_hosts, ws.known_hosts)  # what the access phase leaves behind
    ctx = PhaseContext(spec=spec, ws=ws, options=RunOptions(), emit=events.append)
    return ctx, run_phase(ctx)


def test_cluster_yml_runs_with_the_venv_and_the_inventory(lab: kwlab.Lab, stand_in: Path, root: Path) -> None:
    for host in lab.hosts:
        host.exec(["rm", "-f", PROBE])
    roles = {"lab1": ["control_plane", "etcd"], "lab2": ["worker"], "lab4": ["worker"], "lab5": ["worker"]}
    events: list[Event] = []
    ctx, result = _run(_spec("ks-ok", lab, stand_in, roles), lab, root, events)

    assert result.status == "ok", result
    venv = Path(result.data["venv"])
    assert (venv / "bin" / "ansible-playbook").is_file()
    for name in roles:
        written = lab.host(name).exec(["cat", PROBE])
        assert written.stdout == f"{name} 1.35.4 calico\n"
    assert lab.host("lab3").exec(["test", "-e", PROBE]).returncode != 0  # not in this spec
    texts = [e.data.get("text", "") for e in events if e.kind == "log"]
    assert any(t.startswith("equivalent command: cd ") and str(stand_in) in t for t in texts)
    assert any(e.kind == "task_start" and "Record what this node was given" in str(e.data) for e in events)
    assert (ctx.ws.inventory_dir / "hosts.yaml").is_file()  # --only kubespray still writes the inventory


def test_a_failing_host_fails_the_phase_naming_task_and_host(
    clean_lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    """lab3 has no python3: the phase fails and says where, instead of raising."""
    lab = clean_lab  # pristine hosts: earlier tests may have installed python3 on lab3
    roles = {"lab1": ["control_plane", "etcd"], "lab3": ["worker"]}
    _, result = _run(_spec("ks-fail", lab, stand_in, roles), lab, root, [])
    assert result.status == "failed"
    assert result.summary.endswith("Record what this node was given on lab3")
    assert result.data["failures"][0]["host"] == "lab3"
