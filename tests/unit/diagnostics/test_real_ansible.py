"""A real ansible-runner run against a host whose Python does not exist: named, remedied, retried."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from diagnostics_support import ansible_env

from kwizard.diagnostics import Evidence, HostFacts, diagnose_events, diagnose_path, remedy_for
from kwizard.protocol.phase import Event

pytestmark = pytest.mark.slow

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: Read the host name
      ansible.builtin.command: cat /etc/hostname
      changed_when: false
"""


def _write_inventory(path: Path, host_vars: dict[str, Any]) -> None:
    extra = " ".join(f"{k}={v}" for k, v in host_vars.items())
    path.write_text(f"[all]\nbrokenpy ansible_connection=local {extra}\n", encoding="utf-8")


def _run(private: Path, inventory: Path, home: Path, events: list[dict[str, Any]]) -> Any:
    import ansible_runner

    private.mkdir(parents=True)
    (private / "project").mkdir()
    (private / "project" / "site.yml").write_text(PLAYBOOK, encoding="utf-8")

    def keep(event: dict[str, Any]) -> bool:
        events.append(event)
        return True

    return ansible_runner.run(
        private_data_dir=str(private),
        playbook="site.yml",
        inventory=str(inventory),
        envvars={k: v for k, v in ansible_env(home).items() if k.startswith("ANSIBLE_") or k == "PATH"},
        event_handler=keep,
        quiet=True,
        timeout=300,
    )


def _as_engine_events(events: list[dict[str, Any]]) -> list[Event]:
    """What the engine emits: runner event_data under kind host_failed/host_unreachable/…"""
    kinds = {"runner_on_failed": "host_failed", "runner_on_unreachable": "host_unreachable"}
    out = []
    for event in events:
        data = event.get("event_data", {})
        kind = kinds.get(event.get("event", ""), "log")
        out.append(Event(kind, "kubespray", data.get("host"), {**data, "event": event.get("event")}))
    return out


def test_missing_interpreter_is_named_then_remedied(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    _write_inventory(inventory, {"ansible_python_interpreter": "/nonexistent/python3"})
    events: list[dict[str, Any]] = []
    first = _run(tmp_path / "run1", inventory, tmp_path, events)
    assert first.status == "failed"

    findings = diagnose_events(_as_engine_events(events))
    assert findings and findings[0].id == "python_interpreter_missing"
    assert findings[0].hosts == ("brokenpy",)
    assert any("/nonexistent/python3" in line for line in findings[0].evidence)

    # The same run read back from its artifact folder, as `kwizard diagnose` would.
    offline = diagnose_path(Path(first.config.artifact_dir))
    assert [f.id for f in offline.findings][:1] == ["python_interpreter_missing"]

    plan = remedy_for(findings[0])
    assert plan is not None and plan.id == "set_python_interpreter"
    host_vars = plan.inventory_vars()["brokenpy"]
    assert Path(host_vars["ansible_python_interpreter"]).exists()

    _write_inventory(inventory, host_vars)
    retry_events: list[dict[str, Any]] = []
    second = _run(tmp_path / "run2", inventory, tmp_path, retry_events)
    assert second.status == "successful", second.stdout.read()[-2000:]
    assert diagnose_events(_as_engine_events(retry_events)) == []


def test_host_measured_without_python_gets_the_install_remedy(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    _write_inventory(inventory, {"ansible_python_interpreter": "/nonexistent/python3"})
    events: list[dict[str, Any]] = []
    _run(tmp_path / "run", inventory, tmp_path, events)
    evidence = Evidence(hosts={"brokenpy": HostFacts(python3=False)})
    finding = diagnose_events(_as_engine_events(events), evidence)[0]
    assert finding.id == "python_interpreter_missing" and finding.confidence >= 0.95
    assert "likely because preflight found that brokenpy has no python3" in finding.evidence
    plan = remedy_for(finding)
    assert plan is not None and plan.action.kind == "host_command" and plan.hosts == ("brokenpy",)
