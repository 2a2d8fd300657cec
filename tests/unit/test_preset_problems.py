"""A loaded preset reports every problem at once, each at its line and key, before any host is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from kwizard import preset as presets
from kwizard.errors import PresetError
from kwizard.inventory.checks import preset_checks
from kwizard.resources import shipped_presets

THREE_HOSTS = """\
hosts:
  - {name: a, address: 10.0.0.1, roles: [control_plane, etcd]}
  - {name: b, address: 10.0.0.2, roles: [control_plane, etcd]}
  - {name: c, address: 10.0.0.3, roles: [worker, etcd]}
"""


def problems(path: Path, text: str, **checks: bool) -> list[str]:
    path.write_text(text)
    with pytest.raises(PresetError) as caught:
        if checks:
            presets.load(path, check=preset_checks(**checks))
        else:
            presets.load(path)
    assert caught.value.title == "Invalid preset" and caught.value.exit_code == 2
    return caught.value.problem.splitlines()


def test_every_problem_is_reported_at_once_each_at_its_line_and_key(tmp_path: Path):
    path = tmp_path / "p.yaml"
    lines = problems(
        path,
        "version: 1\n"  # 1
        "name: demo\n"  # 2
        "kubespray:\n"  # 3
        "  kube_version: 1.20.0\n"  # 4
        "  extra_vars:\n"  # 5
        "    kubelet_static_pod_path: /etc/kubernetes/manifests\n"  # 6
        "    download_run_once: 'true'\n"  # 7
        "ssh:\n"  # 8
        "  port: 0\n" + THREE_HOSTS,  # 9  # 10-13
        require_hosts=True,
    )
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{path}:4", "kubespray.kube_version"],
        [f"{path}:6", "kubespray.extra_vars.kubelet_static_pod_path"],
        [f"{path}:7", "kubespray.extra_vars.download_run_once"],
        [f"{path}:9", "ssh.port"],
    ]
    assert "Kubernetes 1.20.0 is not supported by Kubespray v2.31.0" in lines[0]
    assert "was removed in Kubespray v2.31.0" in lines[1]
    assert "Stop if known booleans are set as strings" in lines[2]


def test_the_overlap_of_pod_and_service_ranges_names_the_subnet_key(tmp_path: Path):
    path = tmp_path / "p.yaml"
    lines = problems(path, "name: demo\nkubespray:\n  kube_version: 1.35.4\n  pods_subnet: 10.233.0.0/17\n")
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}:4: kubespray.pods_subnet: pods_subnet 10.233.0.0/17 overlaps")


def test_role_problems_point_at_the_hosts_not_at_line_1(tmp_path: Path):
    path = tmp_path / "p.yaml"
    text = (
        "name: demo\n"
        "description: two etcd members\n"
        "hosts:\n"  # 3
        "  - {name: a, address: 10.0.0.1, roles: [control_plane, etcd]}\n"
        "  - {name: b, address: 10.0.0.2, roles: [worker, etcd, loadbalancer, worker]}\n"  # 5
        "  - {name: c, address: 10.0.0.3, roles: [storage, loadbalancer]}\n"  # 6
    )
    assert problems(path, text) == [
        f"{path}:5: hosts[1].roles: role 'worker' is listed twice",
    ]
    text = text.replace("loadbalancer, worker]", "loadbalancer]")
    lines = problems(path, text, require_hosts=True)
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{path}:3", "hosts[].roles"],
        [f"{path}:6", "hosts[2].roles"],
    ]
    assert "2 hosts have the etcd role" in lines[0] and "c has the loadbalancer role" in lines[1]


def test_an_unknown_key_gets_a_did_you_mean(tmp_path: Path):
    path = tmp_path / "p.yaml"
    text = "name: demo\nkubespray:\n  kube_verison: 1.35.4\nhosts:\n  - {name: a, adress: 10.0.0.1}\nzzz: 1\n"
    assert problems(path, text) == [
        f"{path}:3: kubespray.kube_verison: unknown key 'kube_verison': did you mean 'kube_version'?",
        f"{path}:5: hosts[0].address: this key is required",
        f"{path}:5: hosts[0].adress: unknown key 'adress': did you mean 'address'?",
        f"{path}:6: zzz: unknown key 'zzz' (a typo? it is not a kwizard setting)",
    ]


def test_checks_still_run_beside_a_refused_value(tmp_path: Path):
    """A refused value is left out (its default applies) and the rest of the preset is still checked."""
    path = tmp_path / "p.yaml"
    text = (
        "name: demo\nkubespray:\n  network_plugin: weave\n  extra_vars: {helm_enabled: 'yes'}\n" + THREE_HOSTS
    )
    lines = problems(path, text, require_hosts=True)
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{path}:3", "kubespray.network_plugin"],
        [f"{path}:4", "kubespray.extra_vars.helm_enabled"],
    ]


def test_a_draft_without_hosts_opens_in_the_wizard_but_does_not_run_headless(tmp_path: Path):
    path = tmp_path / "draft.yaml"
    path.write_text("name: demo\n")
    assert presets.load(path, check=preset_checks(require_hosts=False)).hosts == []
    assert problems(path, "name: demo\n", require_hosts=True) == [
        f"{path}:1: hosts: the spec has no hosts — Add the cluster's servers in the Hosts step or under "
        "hosts:."
    ]


@pytest.mark.parametrize("path", shipped_presets(), ids=lambda p: p.name)
def test_shipped_presets_pass_the_checks_that_need_no_host(path: Path):
    assert presets.load(path, check=preset_checks(require_hosts=True)).name


def test_problems_printed_to_a_log_keep_each_on_one_line(tmp_path: Path):
    """`kwizard --preset p.yaml --yes 2> ci.log`: no 80-column wrapping splits a problem from its line."""
    import os
    import subprocess
    import sys

    from tests.cli import REPO

    path = tmp_path / "p.yaml"
    path.write_text("name: demo\nkubespray:\n  kube_verison: 1.35.4\n" + THREE_HOSTS)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run(
        [sys.executable, "-m", "kwizard", "--workdir", str(tmp_path / "wd"), "--preset", str(path), "--yes"],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    wanted = f"{path}:3: kubespray.kube_verison: unknown key 'kube_verison': did you mean 'kube_version'?"
    assert any(wanted in line for line in done.stderr.splitlines()), done.stderr
