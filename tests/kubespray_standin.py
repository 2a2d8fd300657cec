"""A Kubespray-shaped stand-in checkout for the day-2 lab tests, and the saved cluster they start from.

Kubespray's own playbooks need systemd and the internet, which the lab has not. The stand-in has the
playbooks kwizard's day-2 commands run — `playbooks/facts.yml`, `scale.yml`, `cluster.yml`,
`upgrade-cluster.yml`, `remove-node.yml`, `reset.yml` — each recording, on the controller, how it was
invoked (limit, extra vars, the inventory it was given, its groups, ANSIBLE_CONFIG) into `records/`, and
touching the hosts at the edges the real ones do:

- scale.yml, cluster.yml and upgrade-cluster.yml append their name to JOINED on the hosts they configure;
  upgrade-cluster.yml also writes the kube_version it was given to VERSION_FILE (new binaries there);
- remove-node.yml and reset.yml remove MARKER from the hosts they reset (remove-node.yml only when
  reset_nodes is not false, as Kubespray skips the reset of an unreachable node);
- remove-node.yml and reset.yml fail without their confirmation variable, as Kubespray's do.

`failing(checkout, "scale")` makes that playbook fail once (a file next to it says so).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kwizard import lab as kwlab
from kwizard import preset as presets
from kwizard.paths import Workspace, workspace
from kwizard.spec import ClusterSpec, Host, SSHSettings
from tests.cli import run_kwizard

JOINED = "/root/kwizard-joined"  # the playbooks that configured a host, one a line
MARKER = "/root/kwizard-node-marker"  # a built node's mark; a reset removes it
VERSION_FILE = "/root/kwizard-kube-version"  # the Kubernetes version upgrade-cluster.yml installed
RUN_TIMEOUT = 900  # seconds for one kwizard run
# The day-2 tests' saved cluster: one control plane and etcd member, three workers.
ROLES: dict[str, list[str]] = {
    "lab1": ["control_plane", "etcd"],
    "lab2": ["worker"],
    "lab4": ["worker"],
    "lab5": ["worker"],
}

RECORD = """\
    - name: Record how this playbook was invoked
      delegate_to: localhost
      run_once: true
      ansible.builtin.copy:
        dest: "{records}/{name}-{{{{ lookup('pipe', 'date +%s%N') }}}}.json"
        mode: "0600"
        content: >-
          {{{{ {{'limit': ansible_limit | default(None),
                'play_hosts': ansible_play_hosts_all,
                'node': node | default(None),
                'skip_confirmation': skip_confirmation | default(None),
                'allow_ungraceful_removal': allow_ungraceful_removal | default(None),
                'reset_nodes': reset_nodes | default(None),
                'reset_confirmation': reset_confirmation | default(None),
                'ignore_assert_errors': ignore_assert_errors | default(None),
                'etcd_retries': etcd_retries | default(None),
                'kube_version': kube_version | default(None),
                'control_planes': groups.get('kube_control_plane', []),
                'etcd': groups.get('etcd', []),
                'inventory': lookup('file', inventory_file),
                'inventory_file': inventory_file,
                'ansible_config': lookup('env', 'ANSIBLE_CONFIG')}} | to_json }}}}
"""
FAIL_SWITCH = """\
    - name: Stand-in failure (a file next to the playbook says so)
      ansible.builtin.fail:
        msg: "{name} stand-in told to fail"
      delegate_to: localhost
      run_once: true
      when: lookup('ansible.builtin.fileglob', playbook_dir + '/fail-{name}') | length > 0
"""
JOIN_TASK = """\
    - name: Configure the node (the stand-in leaves a mark)
      ansible.builtin.lineinfile:
        path: {joined}
        line: "{name}"
        create: true
        mode: "0600"
"""
VERSION_TASK = """\
    - name: Upgrade the node (its version file says which Kubernetes it runs)
      ansible.builtin.copy:
        dest: {version_file}
        content: "{{{{ kube_version }}}}\\n"
        mode: "0644"
"""
REMOVE_NODE_TASKS = """\
    - name: Fail if user does not confirm deletion
      ansible.builtin.fail:
        msg: "Delete nodes confirmation failed"
      when: not (skip_confirmation | default(false) | bool)
{fail}    - name: Reset node (its marker goes)
      ansible.builtin.file:
        path: {marker}
        state: absent
      when: reset_nodes | default(true) | bool
"""
REMOVE_NODE_CHECK = """\
- name: Validate nodes for removal (as Kubespray does)
  hosts: localhost
  gather_facts: false
  become: false
  tasks:
    - name: Assert that nodes are specified for removal
      ansible.builtin.assert:
        that: [node is defined, node | length > 0]
        msg: "No nodes specified for removal. The `node` variable must be set explicitly."
"""
RESET_TASKS = """\
    - name: Check confirmation
      ansible.builtin.fail:
        msg: "Reset confirmation failed"
      when: not reset_confirmation | default(false) | bool
{fail}    - name: Reset (the marker goes)
      ansible.builtin.file:
        path: {marker}
        state: absent
"""
FACTS_TASKS = """\
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


def _play(title: str, hosts: str, tasks: str) -> str:
    return f"- name: {title}\n  hosts: {hosts}\n  gather_facts: false\n  tasks:\n{tasks}"


def make_stand_in(checkout: Path) -> Path:
    """Write the stand-in checkout into `checkout` (an empty folder); returns it."""
    records = checkout / "records"
    records.mkdir()
    (checkout / "playbooks").mkdir()

    def head(name: str) -> str:
        return RECORD.format(records=records, name=name)

    def fail(name: str) -> str:
        return FAIL_SWITCH.format(name=name)

    def join(name: str) -> str:
        return JOIN_TASK.format(joined=JOINED, name=name)

    playbooks = {
        "scale.yml": _play("scale stand-in", "kube_node", head("scale") + fail("scale") + join("scale")),
        "cluster.yml": _play(
            "cluster stand-in", "etcd:k8s_cluster", head("cluster") + fail("cluster") + join("cluster")
        ),
        "upgrade-cluster.yml": _play(
            "upgrade-cluster stand-in",
            "etcd:k8s_cluster:calico_rr",
            head("upgrade-cluster")
            + fail("upgrade-cluster")
            + join("upgrade-cluster")
            + VERSION_TASK.format(version_file=VERSION_FILE),
        ),
        "remove-node.yml": REMOVE_NODE_CHECK
        + _play(
            "Remove node",
            "\"{{ node | default('this_is_unreachable') }}\"",
            head("remove-node") + REMOVE_NODE_TASKS.format(fail=fail("remove-node"), marker=MARKER),
        ),
        "reset.yml": _play(
            "Reset cluster",
            "etcd:k8s_cluster:calico_rr",
            head("reset") + RESET_TASKS.format(fail=fail("reset"), marker=MARKER),
        ),
        "playbooks/facts.yml": _play(
            "Gather facts", "k8s_cluster:etcd:calico_rr", head("facts") + FACTS_TASKS
        ),
    }
    for name, text in playbooks.items():
        (checkout / name).write_text(text)
    (checkout / "ansible.cfg").write_text(ANSIBLE_CFG)
    (checkout / "requirements.txt").write_text(
        f"ansible-core=={importlib.metadata.version('ansible-core')}\n"
    )
    return checkout


def records(checkout: Path, name: str) -> list[dict[str, Any]]:
    """How playbook `name` was invoked since the records were last cleared, oldest first."""
    files = sorted((checkout / "records").glob(f"{name}-*.json"))
    return [json.loads(path.read_text()) for path in files]


def clear_records(checkout: Path) -> None:
    for old in (checkout / "records").iterdir():
        old.unlink()


@contextmanager
def failing(checkout: Path, name: str) -> Iterator[None]:
    """Playbook `name` (e.g. "scale", "upgrade-cluster") fails while this is open."""
    switch = checkout / f"fail-{name}"
    switch.touch()
    try:
        yield
    finally:
        switch.unlink()


def saved_cluster(
    name: str,
    lab: kwlab.Lab,
    root: Path,
    checkout: Path,
    roles: Mapping[str, list[str]] = ROLES,
    extra: Sequence[Host] = (),
) -> Workspace:
    """A saved cluster as a build leaves it: preset (on the stand-in), known_hosts, MARKER on its hosts."""
    hosts = [
        Host(name=host, address=lab.host(host).address, port=lab.host(host).port, roles=host_roles)  # type: ignore[arg-type]
        for host, host_roles in roles.items()
    ]
    spec = ClusterSpec(name=name, hosts=[*hosts, *extra], ssh=SSHSettings(user="root", key=str(lab.key_path)))
    spec = spec.model_copy(update={"kubespray": spec.kubespray.model_copy(update={"dir": str(checkout)})})
    ws = workspace(name, root).create()
    presets.save(spec, ws.preset_file)
    shutil.copy(lab.known_hosts, ws.known_hosts)  # what the access phase leaves behind
    for host in roles:
        done = lab.host(host).exec(["sh", "-c", f"rm -f {JOINED} {VERSION_FILE}; echo built > {MARKER}"])
        assert done.returncode == 0, done.stderr
    clear_records(checkout)
    return ws


def last_journal(ws: Workspace) -> dict[str, Any]:
    """The state.json of the cluster's last run."""
    runs = sorted(p for p in ws.runs_dir.iterdir() if (p / "state.json").is_file())
    return dict(json.loads((runs[-1] / "state.json").read_text()))


def has_marker(lab: kwlab.Lab, host: str) -> bool:
    return lab.host(host).exec(["test", "-e", MARKER]).returncode == 0


def kwizard(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`kwizard ARGS` as a user runs it, bounded (the first run builds the stand-in's venv with pip)."""
    return run_kwizard(root, *args, timeout=RUN_TIMEOUT)
