"""The generated inventory really verifies host keys, even under Kubespray's ansible.cfg.

Kubespray's ansible.cfg sets host_key_checking=False and ssh_args with UserKnownHostsFile=/dev/null. A
throwaway sshd on loopback stands in for a cluster host; real ansible connects with kwizard's inventory:
an unknown (or wrong) host key must stop it, the key in the workspace known_hosts must let it through,
directly and through a bastion.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kwizard.inventory import run_phase
from kwizard.options import RunOptions
from kwizard.paths import Workspace, workspace
from kwizard.protocol.phase import PhaseContext
from kwizard.spec import Bastion, ClusterSpec, Host, SSHSettings
from tests.loopback_sshd import LoopbackSSHD, loopback_sshd
from tests.loopback_sshd import available as sshd_available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sshd_available(), reason="needs root and openssh-server"),
]
# The settings of Kubespray's ansible.cfg that matter here (facts from its v2.31.0 file).
KUBESPRAY_LIKE_CFG = """\
[ssh_connection]
pipelining=True
ssh_args = -o ControlMaster=auto -o ControlPersist=30m -o UserKnownHostsFile=/dev/null
[defaults]
host_key_checking=False
"""


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)
    return path


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[LoopbackSSHD]:
    """An sshd on 127.0.0.1 that lets the client key in as root (TCP forwarding on, for the bastion)."""
    with loopback_sshd(tmp_path / "sshd") as server:
        yield server


def _spec(port: int, client: Path, bastion: bool = False) -> ClusterSpec:
    return ClusterSpec(
        name="hostkeys",
        hosts=[
            Host(
                name="n1",
                address="127.0.0.1",
                port=port,
                roles=["control_plane", "etcd", "worker"],
                python_interpreter=sys.executable,  # sshd runs on this machine
            )
        ],
        ssh=SSHSettings(user="root", key=str(client)),
        bastion=Bastion(address="127.0.0.1", port=port, user="root") if bastion else None,
    )


def _ping(ws: Workspace, tmp_path: Path, *, pipelining: bool = True) -> subprocess.CompletedProcess[str]:
    """`ansible n1 -m ping` with a Kubespray-like ansible.cfg. Without pipelining, a refused login is
    reported with ssh's own words: with it, Ansible may be writing the module to an ssh that already
    exited, and then reports only "Broken pipe"."""
    config = tmp_path / "ansible.cfg"
    config.write_text(KUBESPRAY_LIKE_CFG)
    control = tmp_path / "cp"
    control.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
        "ANSIBLE_PIPELINING": str(pipelining),
    }
    try:
        return subprocess.run(
            [str(Path(sys.executable).parent / "ansible"), "-i", str(ws.inventory_dir / "hosts.yaml"), "n1",
             "-m", "ping", "-vvv", "-e", "ansible_ssh_timeout=10"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        for socket_file in control.iterdir():  # close the ControlPersist masters this run started
            subprocess.run(
                ["ssh", "-o", f"ControlPath={socket_file}", "-O", "exit", "n1"],
                capture_output=True, timeout=10, check=False,
            )  # fmt: skip


def _inventory(spec: ClusterSpec, root: Path) -> Workspace:
    ctx = PhaseContext(spec=spec, ws=workspace(spec.name, root).create(), options=RunOptions())
    assert run_phase(ctx).status == "ok"
    return ctx.ws


@pytest.mark.parametrize("through_bastion", [False, True], ids=["direct", "bastion"])
def test_unknown_host_key_is_refused_and_the_known_one_accepted(
    sshd: LoopbackSSHD, tmp_path: Path, through_bastion: bool
) -> None:
    port, client = sshd.port, sshd.client_key
    ws = _inventory(_spec(port, client, through_bastion), tmp_path / "work")

    ws.known_hosts.write_text("")
    refused = _ping(ws, tmp_path, pipelining=False)
    assert refused.returncode != 0
    assert "Host key verification failed" in refused.stdout + refused.stderr

    wrong = _keygen(tmp_path / "impostor")
    ws.known_hosts.write_text(f"[127.0.0.1]:{port} {Path(f'{wrong}.pub').read_text()}")
    changed = _ping(ws, tmp_path, pipelining=False)
    assert changed.returncode != 0
    assert "Host key verification failed" in changed.stdout + changed.stderr

    ws.known_hosts.write_text(sshd.known_hosts_line())
    accepted = _ping(ws, tmp_path)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert '"ping": "pong"' in accepted.stdout
