"""Live events (the dashboard's input): kwizard Events and raw ansible-runner events."""

from __future__ import annotations

import json
from pathlib import Path

from kwizard.diagnostics import diagnose_events, diagnose_path
from kwizard.protocol.phase import Event

SUDO_RES = {"msg": "Missing sudo password", "changed": False}


def runner_event(name: str, counter: int, host: str = "lab2", **data: object) -> dict[str, object]:
    event_data = {"host": host, "task": "Gathering Facts", "task_action": "ansible.builtin.gather_facts"}
    event_data.update(data)  # type: ignore[arg-type]
    return {"event": name, "counter": counter, "uuid": f"u{counter}", "event_data": event_data}


def test_engine_events_with_runner_shaped_data() -> None:
    events = [
        Event("task_start", "kubespray", None, {"task": "Gathering Facts"}),
        Event("host_ok", "kubespray", "lab1", {"task": "Gathering Facts", "res": {"changed": False}}),
        Event(
            "host_failed",
            "kubespray",
            "lab2",
            {"task": "Gathering Facts", "task_action": "gather_facts", "res": SUDO_RES},
        ),
    ]
    (finding,) = diagnose_events(events)
    assert (finding.id, finding.hosts, finding.remedy) == (
        "sudo_password_required",
        ("lab2",),
        "ask_become_password",
    )
    assert finding.evidence == ("TASK [Gathering Facts] on lab2 failed: Missing sudo password",)


def test_raw_runner_events_and_ignored_failures() -> None:
    ignored = runner_event(
        "runner_on_failed",
        3,
        res={"msg": "non-zero return code", "stderr": "etcd cluster is unavailable or misconfigured"},
        ignore_errors=True,
    )
    unreachable = runner_event(
        "runner_on_unreachable",
        4,
        host="lab5",
        res={
            "msg": "Failed to connect to the host via ssh: "
            "ssh: connect to host 10.0.0.5 port 22: No route to host",
            "unreachable": True,
        },
    )
    ok = runner_event("runner_on_ok", 5, res={"stdout": "Permission denied (publickey)"})
    findings = diagnose_events([ignored, unreachable, ok])
    assert [(f.id, f.hosts) for f in findings] == [("ssh_unreachable", ("lab5",))]


def test_loop_results_carry_the_item_errors() -> None:
    res = {
        "msg": "All items completed",
        "results": [
            {"failed": False, "item": "a"},
            {"failed": True, "item": "b", "msg": "Failed to lock apt for exclusive operation"},
        ],
    }
    assert diagnose_events([runner_event("runner_on_failed", 1, res=res)])[0].category == "apt_lock"


def test_artifact_folder_is_found_below_the_private_data_dir(tmp_path: Path) -> None:
    job_events = tmp_path / "private" / "artifacts" / "1b2c" / "job_events"
    job_events.mkdir(parents=True)
    (job_events / "1-u1.json").write_text(json.dumps(runner_event("runner_on_ok", 1)))
    (job_events / "2-u2.json").write_text(json.dumps(runner_event("runner_on_failed", 2, res=SUDO_RES)))
    (job_events / "3-u3.json").write_text('{"event": "runner_on_fa')  # a run killed mid-write
    (job_events / "u9-partial.json").write_text("{}")
    diagnosis = diagnose_path(tmp_path / "private")
    assert [f.id for f in diagnosis.findings] == ["sudo_password_required"]
    assert diagnosis.failures == 1 and "1 unreadable event files skipped" in diagnosis.source
