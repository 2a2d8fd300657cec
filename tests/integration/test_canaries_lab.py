"""Canaries through the real pipeline on the lab: no value from a preset runs, here or on a host.

tests/unit/test_preset_canaries.py walks every string field of ClusterSpec against Ansible's loader and
Templar. Here the same canaries go through the product as a user runs it: `kwizard --preset … --yes` runs
access, preflight, inventory and Gluster storage against real hosts, then a real `ansible-playbook` with
the written inventory reads every canary variable on every host. Each value must arrive on the hosts
exactly as written, and no marker may appear on this machine or inside any host. Fields that can only
hold a name or a path refuse the canaries through the real CLI, naming the key, before any host is
contacted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kwizard import lab as kwlab
from kwizard.paths import workspace
from tests.conftest import kwizard_command, kwizard_env
from tests.unit.test_preset_canaries import canaries

HOSTS = {
    "lab1": ["control_plane", "etcd", "storage"],
    "lab2": ["worker", "storage"],
    "lab5": ["worker", "storage"],
}
RESULT = "/root/kwizard-canaries.json"


def _preset(lab: kwlab.Lab, values: dict[str, str], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": 1,
        "name": "canaries",
        "description": values["jinja_expression"] + values["shell_substitution"],
        "ssh": {"user": "root", "key": str(lab.key_path)},
        "hosts": [{"name": h, "address": lab.host(h).address, "roles": r} for h, r in HOSTS.items()],
        "kubespray": {
            "extra_vars": {
                **{f"kw_{name}": value for name, value in values.items()},
                "kw_nested": {"list": list(values.values()), "map": {"deep": values["jinja_statement"]}},
            }
        },
        "storage": {"type": "gluster", "gluster": {"replicas": 3, "brick_dir": "/data/glusterfs/canary"}},
        # The lab has no systemd, and lab5 forwards no IP: acknowledged, as a user of the lab would.
        "preflight": {"acknowledged": ["systemd", "ip_forward"]},
        "phases": ["discover", "access", "preflight", "inventory", "storage"],
    }
    data.update(changes)
    return data


def _kwizard(workdir: Path, preset_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kwizard_command("--preset", str(preset_file), "--yes", *extra),
        env=kwizard_env(KWIZARD_WORKDIR=str(workdir), COLUMNS="200"),
        capture_output=True, text=True, timeout=600, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _marker_folders(lab: kwlab.Lab, markers: Path) -> None:
    """The marker folder on this machine and, at the same path, inside every host."""
    markers.mkdir()
    for host in lab.hosts:
        assert host.exec(["mkdir", "-p", str(markers)]).returncode == 0


def _no_markers(lab: kwlab.Lab, markers: Path) -> None:
    assert list(markers.iterdir()) == [], "a canary ran on this machine"
    for host in lab.hosts:
        # Inside the host's own namespaces: the folder must exist there too (or a canary's touch would
        # fail unseen), and hold nothing.
        seen = host.exec(["ls", "-A", str(markers)])
        assert seen.returncode == 0, f"{host.name} cannot see {markers}: {seen.stderr}"
        assert seen.stdout.split() == [], f"a canary ran on {host.name}: {seen.stdout}"


def test_canaries_reach_the_hosts_as_text_and_run_nowhere(lab: kwlab.Lab, tmp_path: Path) -> None:
    markers = tmp_path / "canary-markers"
    _marker_folders(lab, markers)
    values = canaries(markers)
    workdir = tmp_path / "work"
    preset_file = tmp_path / "canaries.yaml"
    preset_file.write_text(yaml.safe_dump(_preset(lab, values), sort_keys=False))

    run = _kwizard(workdir, preset_file, "--accept-new-host-keys")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Traceback" not in run.stdout + run.stderr
    _no_markers(lab, markers)

    # A real ansible-playbook with the inventory kwizard wrote reads every canary variable on every host.
    inventory = workspace("canaries", workdir).inventory_dir / "hosts.yaml"
    assert "!unsafe" in (inventory.parent / "group_vars" / "all" / "kwizard.yml").read_text()
    names = [*(f"kw_{name}" for name in values), "kw_nested"]
    report = "{" + ", ".join(f"'{n}': {n}" for n in names) + "}"
    playbook = tmp_path / "read.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.copy:\n"
        f'        content: "{{{{ {report} | to_json }}}}"\n'
        f"        dest: {RESULT}\n"
    )
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
        env={**kwizard_env(), **lab.ssh_env()}, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-4000:]
    expected = {f"kw_{name}": value for name, value in values.items()}
    expected["kw_nested"] = {"list": list(values.values()), "map": {"deep": values["jinja_statement"]}}
    for name in HOSTS:
        on_host = lab.host(name).exec(["cat", RESULT]).stdout
        assert json.loads(on_host) == expected, name
    _no_markers(lab, markers)


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("hosts[0].user", lambda d, c: d["hosts"][0].update(user=c)),
        ("ssh.key", lambda d, c: d["ssh"].update(key=c)),
        ("bastion.user", lambda d, c: d.update(bastion={"address": "10.0.9.1", "user": c})),
        ("hosts[1].python_interpreter", lambda d, c: d["hosts"][1].update(python_interpreter=c)),
        ("storage.gluster.brick_dir", lambda d, c: d["storage"]["gluster"].update(brick_dir="/data/" + c)),
        ("kubespray.https_proxy", lambda d, c: d["kubespray"].update(https_proxy="http://" + c)),
    ],
)
def test_the_cli_refuses_code_in_names_and_paths_naming_the_key(
    lab: kwlab.Lab, tmp_path: Path, key: str, change: Any
) -> None:
    markers = tmp_path / "canary-markers"
    _marker_folders(lab, markers)
    for name in ("jinja_expression", "jinja_no_spaces", "shell_substitution", "newline"):
        data = _preset(lab, {n: "x" for n in canaries(markers)})
        change(data, canaries(markers)[name])
        preset_file = tmp_path / f"{name}.yaml"
        preset_file.write_text(yaml.safe_dump(data, sort_keys=False))
        run = _kwizard(tmp_path / "work", preset_file, "--accept-new-host-keys")
        assert run.returncode == 2, (name, run.stdout[-2000:], run.stderr[-2000:])
        output = run.stdout + run.stderr
        assert key in output and "Traceback" not in output, (name, output[-2000:])
    _no_markers(lab, markers)
