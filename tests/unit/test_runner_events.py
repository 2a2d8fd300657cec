"""Translation of ansible-runner events (as recorded from ansible-core 2.18) into kwizard Events."""

from __future__ import annotations

from kwizard.runner.events import MAX_FIELD_CHARS, cap, failure_details, translate
from kwizard.runner.settings import scrub_environment


def test_ok_with_changes_becomes_host_changed() -> None:
    raw = {
        "event": "runner_on_ok",
        "event_data": {
            "host": "n1",
            "task": "Install",
            "task_action": "apt",
            "duration": 1.23456,
            "res": {"changed": True},
        },
    }
    event = translate(raw, "kubespray", now=5.0)
    assert event is not None
    assert (event.kind, event.host, event.data["duration"], event.time) == ("host_changed", "n1", 1.235, 5.0)
    assert "res" not in event.data  # only failures carry result details


def test_failed_loop_keeps_its_failed_items() -> None:
    raw = {
        "event": "runner_on_failed",
        "event_data": {
            "host": "n2",
            "task": "Download",
            "task_action": "get_url",
            "ignore_errors": None,
            "task_path": "/ks/roles/download/tasks/main.yml:12",
            "res": {
                "msg": "One or more items failed",
                "results": [
                    {"item": "a", "changed": False},
                    {
                        "item": "b",
                        "failed": True,
                        "msg": "Request failed: <urlopen error timed out>",
                        "rc": 1,
                    },
                ],
            },
        },
    }
    event = translate(raw, "kubespray")
    assert event is not None and event.kind == "host_failed"
    assert event.data["ignored"] is False
    assert event.data["res"]["results"] == [
        {"item": "b", "failed": True, "msg": "Request failed: <urlopen error timed out>", "rc": 1}
    ]


def test_ignored_failure_is_marked() -> None:
    raw = {
        "event": "runner_on_failed",
        "event_data": {
            "host": "n",
            "task": "t",
            "ignore_errors": True,
            "res": {"msg": "x", "rc": 3, "stderr": ""},
        },
    }
    event = translate(raw, "p")
    assert event is not None and event.data["ignored"] is True
    assert event.data["res"] == {"msg": "x", "rc": 3}


def test_unreachable_and_stats() -> None:
    unreachable = translate(
        {
            "event": "runner_on_unreachable",
            "event_data": {
                "host": "n3",
                "task": "Gathering Facts",
                "res": {"msg": "Failed to connect to the host via ssh", "unreachable": True},
            },
        },
        "p",
    )
    assert unreachable is not None and unreachable.kind == "host_unreachable"
    stats = translate(
        {
            "event": "playbook_on_stats",
            "event_data": {
                "processed": {"n1": 1, "n3": 1},
                "ok": {"n1": 5},
                "dark": {"n3": 1},
                "changed": {},
                "failures": {},
            },
        },
        "p",
    )
    assert stats is not None
    assert stats.data["hosts"]["n3"]["unreachable"] == 1 and stats.data["hosts"]["n3"]["ok"] == 0
    assert stats.data["hosts"]["n1"]["ok"] == 5


def test_prompt_and_blank_output_are_not_logged() -> None:
    assert translate({"event": "verbose", "stdout": "BECOME password: "}, "p") is None
    assert translate({"event": "verbose", "stdout": "  "}, "p") is None
    error = translate({"event": "verbose", "stdout": "ERROR! the playbook: x.yml could not be found"}, "p")
    assert error is not None and error.data["level"] == "error"
    assert translate({"event": "playbook_on_include", "event_data": {}}, "p") is None


def test_long_output_is_capped_keeping_head_and_tail() -> None:
    text = "head" + "x" * 50_000 + "tail"
    capped = cap(text)
    assert len(capped) < MAX_FIELD_CHARS + 100
    assert capped.startswith("head") and capped.endswith("tail")
    assert failure_details({"stderr": text})["stderr"] == capped


def test_scrub_environment_drops_secrets_by_value_and_by_name() -> None:
    env = {
        "PATH": "/usr/bin",
        "MY_PW_VAR": "hunter2",
        "OTHER": "prefix-hunter2-suffix",
        "AWS_SECRET_ACCESS_KEY": "k",
        "GITHUB_TOKEN": "t",
        "SSH_AUTH_SOCK": "/tmp/agent",
        "ANSIBLE_PRIVATE_KEY_FILE": "/k",
        "NAMED": "harmless",
    }
    cleaned = scrub_environment(env, ["hunter2"], ["NAMED"])
    assert cleaned == {"PATH": "/usr/bin", "SSH_AUTH_SOCK": "/tmp/agent", "ANSIBLE_PRIVATE_KEY_FILE": "/k"}
