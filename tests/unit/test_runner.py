"""The ansible-runner adapter with real ansible-core: events, failures, secrets, cancel, host keys."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from kwizard.errors import EnvironmentProblem
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import Event, PhaseContext, Secrets
from kwizard.runner import run_playbook
from kwizard.runner.listing import count_tasks
from kwizard.runner.orphans import orphans
from kwizard.runner.settings import control_path_dir
from kwizard.spec import ClusterSpec
from tests.loopback_sshd import available as sshd_available
from tests.loopback_sshd import loopback_sshd

PLAYBOOKS = Path(__file__).parent.parent / "fixtures" / "playbooks"
BECOME_SECRET = "Bec0me-Secret-7f3a"
SSH_SECRET = "Ssh-Secret-91c2"


def local_inventory(path: Path, hosts: list[str]) -> Path:
    """An inventory of local-connection hosts (no ssh), using this Python as the interpreter."""
    entries = {
        h: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable} for h in hosts
    }
    path.write_text(yaml.safe_dump({"all": {"hosts": entries}}))
    return path


def make_context(
    tmp_path: Path, spec: ClusterSpec, secrets: Secrets | None = None
) -> tuple[PhaseContext, list[Event]]:
    events: list[Event] = []
    ws = Workspace(root=tmp_path / "ws", cluster=spec.name).create()
    ctx = PhaseContext(
        spec=spec, ws=ws, options=RunOptions(), secrets=secrets or Secrets(), emit=events.append
    )
    return ctx, events


def all_files_text(directory: Path) -> str:
    chunks = []
    for path in directory.rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(chunks)


def test_events_stats_and_failures_from_a_real_run(tmp_path: Path) -> None:
    ctx, events = make_context(tmp_path, ClusterSpec(name="t"))
    result = run_playbook(
        ctx,
        "kubespray",
        PLAYBOOKS / "runner-basic.yml",
        local_inventory(tmp_path / "h.yml", ["alpha", "beta"]),
        become=False,
    )
    assert result.status == "failed" and result.rc == 2 and not result.ok
    assert result.artifact_dir is not None
    assert result.artifact_dir.is_relative_to(ctx.ws.artifacts_dir)
    assert result.artifact_dir.parent.parent.name.startswith("kubespray-")
    assert result.stats["alpha"]["failures"] == 0 and result.stats["beta"]["failures"] == 1
    assert result.stats["alpha"]["changed"] == 2
    assert result.failures == [
        {
            "host": "beta",
            "task": "Fail on the second host",
            "action": "ansible.builtin.fail",
            "res": {"msg": "injected failure on beta"},
            "event": "runner_on_failed",
        }
    ]
    kinds = [e.kind for e in events]
    # First the folder of Ansible's raw output (shown by the dashboard), then the playbook's events.
    assert events[0].kind == "log" and events[0].data["artifacts"] == str(result.artifact_dir)
    assert (result.artifact_dir / "stdout").is_file()
    assert kinds[1] == "play_start" and kinds[-1] == "stats"
    assert kinds.count("task_start") == 4
    failed = next(e for e in events if e.kind == "host_failed")
    assert failed.host == "beta" and failed.phase == "kubespray"
    assert failed.data["path"].endswith("runner-basic.yml:11")
    assert {e.host for e in events if e.kind == "host_changed"} == {"alpha", "beta"}
    assert [e.host for e in events if e.kind == "host_ok"] == ["alpha"]  # "Carry on" only runs on alpha
    assert all(e.time > 0 for e in events)


def test_no_secret_reaches_artifacts_or_the_child_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The preset names the variables; kwizard read them into Secrets — and they are still in its env.
    monkeypatch.setenv("KW_TEST_BECOME", BECOME_SECRET)
    monkeypatch.setenv("KW_TEST_SSH", SSH_SECRET)
    monkeypatch.setenv("SOME_API_TOKEN", "tok-123-unrelated")
    spec = ClusterSpec(name="t", ssh={"password_env": "KW_TEST_SSH", "become_password_env": "KW_TEST_BECOME"})
    secrets = Secrets(ssh_password=SSH_SECRET, become_password=BECOME_SECRET)
    ctx, events = make_context(tmp_path, spec, secrets)
    env_dump = tmp_path / "module-env.txt"
    result = run_playbook(
        ctx,
        "kubespray",
        PLAYBOOKS / "runner-basic.yml",
        local_inventory(tmp_path / "h.yml", ["alpha", "beta"]),
        extravars={"env_dump": str(env_dump)},
    )
    # --ask-become-pass was answered through the pty: the play ran (a hang would time out instead).
    assert result.stats["alpha"]["changed"] == 2
    command = (result.artifact_dir / "command").read_text()  # type: ignore[operator]
    assert "--ask-become-pass" in command and "--become" in command
    data_dir = result.artifact_dir.parent.parent  # type: ignore[union-attr]
    text = all_files_text(data_dir)
    assert "ANSIBLE_HOST_KEY_CHECKING" in text  # the environment is there…
    for secret in (BECOME_SECRET, SSH_SECRET, "tok-123-unrelated"):
        assert secret not in text  # …but no secret, anywhere in the private data dir
    assert "KW_TEST_BECOME" not in text and "SOME_API_TOKEN" not in text
    # The environment of the processes Ansible started has none either.
    child_env = env_dump.read_text()
    assert "PATH=" in child_env
    for secret in (BECOME_SECRET, SSH_SECRET, "tok-123-unrelated"):
        assert secret not in child_env
    for event in events:
        assert BECOME_SECRET not in repr(event.data) and SSH_SECRET not in repr(event.data)
    # The prompt itself is not shown as a log line.
    assert not any("BECOME password" in e.data.get("text", "") for e in events)


def test_cancel_stops_the_playbook(tmp_path: Path) -> None:
    ctx, events = make_context(tmp_path, ClusterSpec(name="t"))

    def emit(event: Event) -> None:
        events.append(event)
        if event.kind == "host_start":
            ctx.cancel.set()

    ctx.emit = emit
    started = time.monotonic()
    result = run_playbook(
        ctx,
        "kubespray",
        PLAYBOOKS / "runner-sleep.yml",
        local_inventory(tmp_path / "h.yml", ["alpha"]),
        become=False,
    )
    assert result.status == "canceled"
    assert time.monotonic() - started < 30
    leftovers = subprocess.run(["pgrep", "-f", "sleep 300"], capture_output=True, text=True).stdout.split()
    mine = [pid for pid in leftovers if Path(f"/proc/{pid}/environ").exists() and _in_tree(pid, tmp_path)]
    assert mine == []


def _in_tree(pid: str, tmp_path: Path) -> bool:
    try:
        return str(tmp_path).encode() in Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


def test_cancel_from_another_thread_mid_task(tmp_path: Path) -> None:
    ctx, events = make_context(tmp_path, ClusterSpec(name="t"))
    timer = threading.Timer(3.0, ctx.cancel.set)
    timer.start()
    try:
        result = run_playbook(
            ctx,
            "kubespray",
            PLAYBOOKS / "runner-sleep.yml",
            local_inventory(tmp_path / "h.yml", ["alpha"]),
            become=False,
        )
    finally:
        timer.cancel()
    assert result.status == "canceled"
    assert any(e.kind == "task_start" for e in events)


def test_missing_ansible_playbook_is_a_clear_error(tmp_path: Path) -> None:
    ctx, _ = make_context(tmp_path, ClusterSpec(name="t"))
    with pytest.raises(EnvironmentProblem) as caught:
        run_playbook(
            ctx,
            "kubespray",
            PLAYBOOKS / "runner-basic.yml",
            local_inventory(tmp_path / "h.yml", ["alpha"]),
            ansible_bin_dir=tmp_path / "no-venv" / "bin",
        )
    assert "ansible-playbook" in caught.value.title
    assert str(tmp_path / "no-venv" / "bin") in caught.value.problem


def test_ansible_bin_dir_and_config_are_used(tmp_path: Path) -> None:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "ansible-playbook").symlink_to(Path(sys.executable).parent / "ansible-playbook")
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\nforks = 3\n")
    ctx, _ = make_context(tmp_path, ClusterSpec(name="t"))
    result = run_playbook(
        ctx,
        "inventory",
        PLAYBOOKS / "runner-basic.yml",
        local_inventory(tmp_path / "h.yml", ["alpha"]),
        ansible_cfg=cfg,
        ansible_bin_dir=bin_dir,
        become=False,
        extravars={"unused": 1},
    )
    assert result.ok
    import json

    recorded = json.loads((result.artifact_dir / "command").read_text())  # type: ignore[operator]
    # ansible-runner runs a wrapper that runs that ansible-playbook under the guard (kwizard.runner.guard).
    wrapper = Path(recorded["command"][0])
    assert wrapper.parent == result.artifact_dir.parent.parent  # type: ignore[union-attr]
    assert shlex.quote(str(bin_dir / "ansible-playbook")) in wrapper.read_text()
    assert "guard.py" in wrapper.read_text()
    assert recorded["env"]["ANSIBLE_CONFIG"] == str(cfg)
    assert recorded["env"]["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    assert "StrictHostKeyChecking=yes" in recorded["env"]["ANSIBLE_SSH_ARGS"]


needs_sshd = pytest.mark.skipif(not sshd_available(), reason="needs root and openssh-server")


def _ssh_inventory(path: Path, port: int, marker: Path) -> Path:
    host = {
        "ansible_host": "127.0.0.1",
        "ansible_port": port,
        "ansible_python_interpreter": "/usr/bin/python3",
        "marker_path": str(marker),
    }
    path.write_text(yaml.safe_dump({"all": {"hosts": {"loop": host}}}))
    return path


@needs_sshd
def test_unknown_host_key_is_refused_not_trusted(tmp_path: Path) -> None:
    with loopback_sshd(tmp_path / "sshd") as sshd:
        spec = ClusterSpec(name="t", ssh={"user": "root", "key": str(sshd.client_key)})
        ctx, events = make_context(tmp_path, spec)
        marker = tmp_path / "marker-unknown"
        result = run_playbook(
            ctx,
            "kubespray",
            PLAYBOOKS / "runner-ssh.yml",
            _ssh_inventory(tmp_path / "h.yml", sshd.port, marker),
            become=False,
        )
    assert result.status == "failed"
    assert result.stats["loop"]["unreachable"] == 1
    unreachable = next(e for e in events if e.kind == "host_unreachable")
    assert "Host key verification failed" in unreachable.data["res"]["msg"]
    assert not marker.exists()  # nothing ran on the host
    assert not ctx.ws.known_hosts.exists() or "127.0.0.1" not in ctx.ws.known_hosts.read_text()


@needs_sshd
def test_known_host_key_and_private_key_reach_the_host(tmp_path: Path) -> None:
    with loopback_sshd(tmp_path / "sshd") as sshd:
        spec = ClusterSpec(name="t", ssh={"user": "root", "key": str(sshd.client_key)})
        ctx, _ = make_context(tmp_path, spec)
        ctx.ws.known_hosts.write_text(sshd.known_hosts_line())
        marker = tmp_path / "marker-known"
        result = run_playbook(
            ctx,
            "kubespray",
            PLAYBOOKS / "runner-ssh.yml",
            _ssh_inventory(tmp_path / "h.yml", sshd.port, marker),
            become=False,
        )
        control_dir = control_path_dir(ctx.ws)  # in the workspace, or a short stand-in for long paths
        # The run's ControlPersist master was closed when the run ended: no socket, no ssh process left.
        sockets = list(control_dir.iterdir())
        leftovers = orphans(ctx.ws.artifacts_dir)
    assert result.ok, result.failures
    assert marker.read_text() == "root\n"  # really written over ssh by the remote user
    assert sockets == [] and leftovers == []
    assert control_dir.stat().st_mode & 0o777 == 0o700
    assert os.stat(marker).st_mode & 0o777 == 0o600


def test_list_tasks_gives_a_progress_total_before_the_first_task(tmp_path: Path) -> None:
    ctx, events = make_context(tmp_path, ClusterSpec(name="t"))
    inventory = tmp_path / "h.yml"
    inventory.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {"a": {"ansible_connection": "local"}},
                    "children": {
                        "etcd": {"hosts": {"a": None}},
                        "kube_control_plane": {"hosts": {"a": None}},
                    },
                }
            }
        )
    )
    assert count_tasks(ctx, PLAYBOOKS / "cluster.yml", inventory) == 19  # handlers are not listed
    run_playbook(
        ctx,
        "kubespray",
        PLAYBOOKS / "runner-basic.yml",
        local_inventory(inventory, ["a"]),
        become=False,
        count_tasks=True,
    )
    assert events[0].kind == "task_total" and events[0].data == {"tasks": 4, "source": "--list-tasks"}
    assert count_tasks(ctx, PLAYBOOKS / "missing.yml", inventory) is None
