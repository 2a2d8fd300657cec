"""The storage phase on a lab: a spec over the default lab's hosts, a workspace trusting them, cleanup.

Shared by the storage integration tests and bench/storage. No API server runs in the lab, so a recording
kubectl stand-in (tests/fixtures/kubectl_standin.py) is installed on the control plane by `install_standin`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from kwizard.lab import Lab, LabHost
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import PhaseContext
from kwizard.spec import ClusterSpec

VOLUME = "kwstest"
# On the host's root filesystem: glusterd refuses such a brick unless the playbook adds `force`, so this
# also proves that case (the lab's /data is a separate filesystem and would not need it).
BRICK_DIR = "/srv/glusterfs/kwstest"
MOUNT = "/mnt/kwstest"
GID = 1000
STORAGE_HOSTS = ("lab1", "lab2", "lab5")
NODE = "lab4"
STANDIN = Path(__file__).resolve().parent / "fixtures" / "kubectl_standin.py"
STANDIN_LOG = "/var/log/kubectl-standin.jsonl"


def lab_spec(lab: Lab, volume: str = VOLUME, devices: dict[str, str] | None = None) -> ClusterSpec:
    roles = {"lab1": ["control_plane", "etcd", "storage"], "lab2": ["storage"], "lab5": ["storage"]}
    roles[NODE] = ["worker"]
    hosts = [
        {
            "name": name,
            "address": lab.host(name).address,
            "roles": host_roles,
            "storage_device": (devices or {}).get(name),
        }
        for name, host_roles in roles.items()
    ]
    return ClusterSpec.model_validate(
        {
            "name": "kwstorage",
            "hosts": hosts,
            "ssh": {"user": "root", "key": str(lab.key_path)},
            "storage": {
                "type": "gluster",
                "gluster": {
                    "volume": volume,
                    "replicas": 3,
                    "brick_dir": BRICK_DIR,
                    "mount_point": MOUNT,
                    "gid": GID,
                    "pv_count": 3,
                    "size": "32m",
                },
            },
        }
    )


def lab_context(lab: Lab, spec: ClusterSpec, root: Path) -> PhaseContext:
    """A workspace that trusts the lab's host keys, with Kubespray-style groups in its inventory."""
    ws = Workspace(root=root, cluster=spec.name).create()
    shutil.copyfile(lab.known_hosts, ws.known_hosts)
    groups = {
        "kube_control_plane": [h.name for h in spec.hosts_with("control_plane")],
        "etcd": [h.name for h in spec.hosts_with("etcd")],
        "kube_node": [h.name for h in spec.hosts_with("worker")],
        "gfs_cluster": [h.name for h in spec.hosts_with("storage")],
    }
    inventory = {
        "all": {
            "hosts": {h.name: {"ansible_host": h.address, "ansible_user": "root"} for h in spec.hosts},
            "children": {g: {"hosts": {name: None for name in members}} for g, members in groups.items()},
        }
    }
    (ws.inventory_dir / "hosts.yaml").write_text(yaml.safe_dump(inventory))
    return PhaseContext(spec=spec, ws=ws, options=RunOptions())


def run(host: LabHost, command: str) -> str:
    done = host.exec(command, timeout=60)
    assert done.returncode == 0, f"{host.name}: {command}: {done.stdout}{done.stderr}"
    return done.stdout


def standin_calls(host: LabHost) -> list[dict[str, Any]]:
    text = host.exec(f"cat {STANDIN_LOG} 2>/dev/null").stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def cleanup(lab: Lab) -> None:
    # Leave the session's lab as it was: no mounts, volume, peers, bricks or stand-in.
    for name in ("lab1", NODE):
        lab.host(name).exec(f"umount -l {MOUNT}; sed -i '\\# {MOUNT} #d' /etc/fstab", timeout=30)
    primary = lab.host("lab1")
    primary.exec(
        f"gluster --mode=script volume stop {VOLUME} force; gluster --mode=script volume delete {VOLUME}"
    )
    for name in STORAGE_HOSTS[1:]:
        primary.exec(f"gluster --mode=script peer detach {lab.host(name).address} force", timeout=30)
    for name in STORAGE_HOSTS:
        lab.host(name).exec(f"rm -rf {BRICK_DIR}", timeout=30)
    primary.exec(f"rm -rf /usr/local/bin/kubectl {STANDIN_LOG} /var/lib/kubectl-standin /etc/kwizard")


def install_standin(host: LabHost) -> None:
    """Put the recording kubectl stand-in where Kubespray puts kubectl."""
    done = host.exec("install -m 0755 /dev/stdin /usr/local/bin/kubectl", input=STANDIN.read_text())
    assert done.returncode == 0, done.stderr
