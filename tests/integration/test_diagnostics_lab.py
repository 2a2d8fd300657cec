"""On the lab: the python3-less host fails a real playbook over SSH, kwizard names the cause, the
remedy is applied on the host, and the retry succeeds (checked inside the host, not in the log)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kwizard import lab as kwlab
from kwizard.diagnostics import Evidence, HostFacts, diagnose_events, diagnose_path, remedy_for
from kwizard.engine.phase import Event

PLAYBOOK = """\
- hosts: all
  gather_facts: true
  tasks:
    - name: Leave a mark on the host
      ansible.builtin.copy:
        dest: /root/kwizard-diagnostics-ok
        content: "{{ ansible_python.executable }}\\n"
        mode: "0600"
"""


@pytest.fixture
def control_dir() -> Iterator[Path]:
    # Short path: ssh control sockets must fit in a unix socket path.
    with tempfile.TemporaryDirectory(prefix="kwdiag-") as path:
        yield Path(path)


def _inventory(path: Path, hosts: list[kwlab.LabHost]) -> Path:
    lines = ["[all]"]
    for host in hosts:
        lines.append(
            f"{host.name} ansible_host={host.address} ansible_port={host.port} ansible_user=root "
            f"ansible_ssh_private_key_file={host.key_path} "
            f"ansible_ssh_common_args='-o UserKnownHostsFile={host.known_hosts} -o StrictHostKeyChecking=yes "
            "-o GlobalKnownHostsFile=/dev/null'"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env(control: Path) -> dict[str, str]:
    return {
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOME": str(control / "home"),
        "ANSIBLE_LOCAL_TEMP": str(control / "tmp"),
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no",  # no ssh masters left behind
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def _events_of(runner_events: list[dict[str, Any]]) -> list[Event]:
    kinds = {"runner_on_failed": "host_failed", "runner_on_unreachable": "host_unreachable"}
    return [
        Event(
            kinds.get(e.get("event", ""), "log"),
            "kubespray",
            e.get("event_data", {}).get("host"),
            e["event_data"],
        )
        for e in runner_events
        if "event_data" in e
    ]


def _run(control: Path, name: str, inventory: Path, **kwargs: Any) -> tuple[Any, list[dict[str, Any]]]:
    import ansible_runner

    private = control / name
    (private / "project").mkdir(parents=True)
    (private / "project" / "site.yml").write_text(PLAYBOOK, encoding="utf-8")
    events: list[dict[str, Any]] = []
    result = ansible_runner.run(
        private_data_dir=str(private),
        inventory=str(inventory),
        envvars=_env(control),
        event_handler=lambda event: events.append(event) or True,
        quiet=True,
        timeout=600,
        **kwargs,
    )
    return result, events


def test_host_without_python_is_named_remedied_and_retried(clean_lab: kwlab.Lab, control_dir: Path) -> None:
    nopy, good = clean_lab.host("lab3"), clean_lab.host("lab1")
    assert nopy.exec("command -v python3").returncode != 0  # the trap is real
    inventory = _inventory(control_dir / "hosts.ini", [good, nopy])

    first, events = _run(control_dir, "run1", inventory, playbook="site.yml")
    assert first.status == "failed"
    assert good.exec("test -f /root/kwizard-diagnostics-ok").returncode == 0
    assert nopy.exec("test -f /root/kwizard-diagnostics-ok").returncode != 0

    # What preflight measures on the host, as evidence (the lab's own view, not the log).
    evidence = Evidence(hosts={"lab3": HostFacts(python3=nopy.exec("command -v python3").returncode == 0)})
    findings = diagnose_events(_events_of(events), evidence)
    assert findings[0].id == "python_interpreter_missing"
    assert findings[0].hosts == ("lab3",)
    assert "preflight: lab3 has no python3" in findings[0].evidence
    offline = diagnose_path(Path(first.config.artifact_dir), evidence)
    assert offline.findings[0].id == "python_interpreter_missing"

    plan = remedy_for(findings[0])
    assert plan is not None and plan.action.kind == "host_command" and plan.hosts == ("lab3",)
    applied, _ = _run(
        control_dir,
        "remedy",
        inventory,
        host_pattern=",".join(plan.hosts),
        module="raw",
        module_args=plan.action.command,
    )
    assert applied.status == "successful", applied.stdout.read()[-2000:]

    retry, retry_events = _run(control_dir, "run2", inventory, playbook="site.yml")
    assert retry.status == "successful", retry.stdout.read()[-3000:]
    assert diagnose_events(_events_of(retry_events)) == []
    marker = nopy.exec("cat /root/kwizard-diagnostics-ok")
    assert marker.returncode == 0 and "python3" in marker.stdout
