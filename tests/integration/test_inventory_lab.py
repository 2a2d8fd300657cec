"""kwizard's inventory drives real Ansible against the lab's hosts, under Kubespray's ssh settings.

Each host receives a file naming the groups and variables Ansible gave it; the test reads that file inside
the host (without ssh) to check what really arrived. lab3 has no python3, like the guide's host that
"looked like an SSH problem": Ansible must say so plainly and write nothing there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kwizard import lab as kwlab
from kwizard import preset
from kwizard.inventory import run_phase
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.protocol.phase import PhaseContext
from kwizard.spec import ClusterSpec, SSHSettings

PRESETS = Path(__file__).resolve().parents[2] / "presets"
PROBE = "/root/kwizard-inventory-probe"
KUBESPRAY_LIKE_CFG = (
    "[ssh_connection]\npipelining=True\n"
    "ssh_args = -o ControlMaster=auto -o ControlPersist=30m -o UserKnownHostsFile=/dev/null\n"
    "[defaults]\nhost_key_checking=False\n"
)


def _lab_spec(lab: kwlab.Lab) -> ClusterSpec:
    """The shipped lab preset, pointed at this lab's addresses and key."""
    spec = preset.load(PRESETS / "lab.yaml")
    hosts = [
        h.model_copy(update={"address": lab.host(h.name).address, "port": lab.host(h.name).port})
        for h in spec.hosts
    ]
    return spec.model_copy(update={"hosts": hosts, "ssh": SSHSettings(user="root", key=str(lab.key_path))})


def test_groups_and_variables_reach_the_hosts(clean_lab: kwlab.Lab, tmp_path: Path) -> None:
    lab = clean_lab  # pristine hosts: lab3 must still lack python3, whatever earlier tests fixed
    spec = _lab_spec(lab)
    ctx = PhaseContext(spec=spec, ws=workspace(spec.name, tmp_path).create(), options=RunOptions())
    assert run_phase(ctx).status == "ok"
    shutil.copy(lab.known_hosts, ctx.ws.known_hosts)  # what the access phase leaves behind
    config = tmp_path / "ansible.cfg"
    config.write_text(KUBESPRAY_LIKE_CFG)
    for host in lab.hosts:
        host.exec(["rm", "-f", PROBE])

    content = (
        "{{ group_names | sort | join(',') }} ip={{ ip }} access_ip={{ access_ip }} user={{ ansible_user }}"
    )
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "-i", str(ctx.ws.inventory_dir / "hosts.yaml"), "all",
         "-b", "-m", "copy", "-a", f"content='{content}\n' dest={PROBE}"],
        env={**os.environ, **lab.ssh_env(), "ANSIBLE_CONFIG": str(config)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert "lab3 | FAILED" in completed.stdout
    assert "/usr/bin/python3: not found" in completed.stdout or "python3: not found" in completed.stdout
    # The role → group mapping, written out independently of the inventory writer.
    groups_of_role = {
        "control_plane": {"kube_control_plane", "k8s_cluster"},
        "etcd": {"etcd"},
        "worker": {"kube_node", "k8s_cluster"},
        "loadbalancer": {"kwizard_loadbalancer"},
        "storage": {"gfs_cluster"},
    }
    expected_groups = {
        h.name: ",".join(sorted(set().union(*(groups_of_role[r] for r in h.roles))))
        for h in spec.hosts
        if h.name != "lab3"
    }
    for name, groups in expected_groups.items():
        host = lab.host(name)
        written = host.exec(["cat", PROBE])
        assert written.returncode == 0, f"{name}: {completed.stdout[-2000:]}"
        assert written.stdout == f"{groups} ip={host.address} access_ip={host.address} user=root\n"
    assert lab.host("lab3").exec(["test", "-e", PROBE]).returncode != 0
