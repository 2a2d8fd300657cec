"""The text parser reads what people actually paste and what Ansible actually prints."""

from __future__ import annotations

import pytest

from kwizard.diagnostics import diagnose_text, load_ruleset, scanner
from kwizard.diagnostics.records import FailureRecord
from kwizard.diagnostics.scanner import scan_bytes


def records(text: str) -> list[FailureRecord]:
    return [r for r in scan_bytes(text.encode(), load_ruleset()).records if r.kind != "text"]


def test_one_line_json_with_task_and_delegated_host() -> None:
    (record,) = records(
        "TASK [download : download_file | Download item] ****\n"
        'fatal: [node1 -> 10.0.0.5]: FAILED! => {"msg": "HTTP Error 404: Not Found", "rc": 2}\n'
    )
    assert (record.kind, record.host, record.task, record.rc) == (
        "failed",
        "node1",
        "download : download_file | Download item",
        2,
    )
    assert record.fields["msg"] == "HTTP Error 404: Not Found"


def test_pretty_printed_json_and_unreachable_flag() -> None:
    (record,) = records(
        'fatal: [n1]: FAILED! => {\n    "msg": "mkdir: cannot create directory: No space left on device",\n'
        '    "unreachable": true\n}\n'
    )
    assert record.kind == "unreachable"
    assert "No space left" in record.fields["msg"]


def test_yaml_result_format_as_printed_by_ansible_core() -> None:
    # Copied from ansible-core 2.18 with ANSIBLE_CALLBACK_RESULT_FORMAT=yaml.
    (record,) = records(
        "TASK [Fetch something] *********************************************************\n"
        "fatal: [badpy]: FAILED! => \n"
        "    changed: false\n"
        "    module_stderr: |-\n"
        "        /bin/sh: 1: /nonexistent/python3: not found\n"
        "    module_stdout: ''\n"
        "    msg: |-\n"
        "        The module failed to execute correctly, you probably need to set the interpreter.\n"
        "        See stdout/stderr for the exact error\n"
        "    rc: 127\n"
        "changed: [good]\n"
    )
    assert record.rc == 127 and record.fields["module_stderr"].endswith("not found")


def test_ignored_failures_and_retries_are_not_failures() -> None:
    text = (
        "TASK [etcd : Configure | Check if etcd cluster is healthy] ***\n"
        'fatal: [n1]: FAILED! => {"msg": "non-zero return code", '
        '"stderr": "etcd cluster is unavailable or misconfigured"}\n'
        "...ignoring\n"
        "FAILED - RETRYING: [n1]: Master | wait for kube-scheduler (5 retries left).\n"
    )
    assert scan_bytes(text.encode(), load_ruleset()).records == []
    assert diagnose_text(text) == []


def test_loop_items_log_path_prefix_and_adhoc_blocks() -> None:
    text = (
        "2020-05-08 07:28:27,441 p=9123 u=root n=ansible | failed: [e1] (item=containerd.io) => "
        '{"msg": "dpkg: error: dpkg frontend is locked by another process", "rc": 2}\n'
        'web1 | UNREACHABLE! => {\n    "changed": false,\n'
        '    "msg": "Failed to connect to the host via ssh: Host key verification failed.",\n'
        '    "unreachable": true\n}\n'
    )
    loop, adhoc = records(text)
    assert (loop.host, loop.rc) == ("e1", 2)
    assert (adhoc.host, adhoc.kind) == ("web1", "unreachable")
    # Equal confidence: the failure that came first in the log ranks first.
    assert [f.category for f in diagnose_text(text)] == ["apt_lock", "host_key_verification"]


def test_truncated_paste_keeps_the_fields_it_has() -> None:
    (record,) = records(
        'fatal: [n1]: FAILED! => {\n    "rc": 127,\n'
        '    "module_stdout": "/bin/sh: 1: /usr/bin/python: not found\\r\\n",\n'
    )
    assert record.rc == 127 and "/usr/bin/python: not found" in record.fields["module_stdout"]


def test_old_formats_python_repr_and_separate_msg_line() -> None:
    repr_record, msg_record = records(
        "fatal: [10.0.0.9] => {'msg': 'FAILED: timed out', 'failed': True}\n"
        'failed: [127.0.0.1] => {"failed": true}\nmsg: Unsupported proxy scheme: https.\n'
    )
    assert repr_record.fields["msg"] == "FAILED: timed out"
    assert msg_record.fields["msg"] == "Unsupported proxy scheme: https."


def test_debug_callback_sections_belong_to_the_block() -> None:
    (record,) = records(
        'fatal: [h]: UNREACHABLE! => {\n    "changed": false,\n    "unreachable": true\n}\n\nMSG:\n\n'
        "Failed to connect to the host via ssh: ssh: connect to host h port 22: Connection timed out\n\n"
        "PLAY RECAP ****\n"
    )
    assert "Connection timed out" in record.fields["msg"]


def test_free_text_lines_become_records_but_noise_does_not() -> None:
    text = (
        'ok: [n1] => {"stdout": "no volume plugin matched"}\n'
        "  Warning  ProvisioningFailed  93s  persistentvolume-controller  no volume plugin matched\n"
    )
    found = scan_bytes(text.encode(), load_ruleset()).records
    assert [r.kind for r in found] == ["text"]
    assert diagnose_text(text)[0].category == "volume_plugin_missing"


def test_task_name_from_retry_lines_when_headers_were_not_pasted() -> None:
    (record,) = records(
        "FAILED - RETRYING: HANDLER: kubernetes/master : Master | wait for kube-scheduler (1 retries left).\n"
        'fatal: [node1]: FAILED! => {"msg": "Status code was not [200]: Request failed: '
        '<urlopen error [Errno 111] Connection refused>"}\n'
    )
    assert record.task == "kubernetes/master : Master | wait for kube-scheduler"


@pytest.mark.parametrize("chunk", [64, 200, 1000])
def test_blocks_and_task_headers_across_chunk_boundaries(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(scanner, "CHUNK", chunk)
    block = (
        "TASK [kubernetes/preinstall : Stop if memory is too small for masters] ****\n"
        + "ok: [n0]\n" * 7
        + 'fatal: [n1]: FAILED! => {\n    "assertion": "ansible_memtotal_mb >= 1500",\n'
        '    "changed": false,\n    "evaluated_to": false\n}\n'
    )
    text = ("changed: [x]\n" * 13 + block) * 3
    found = records(text)
    assert len(found) == 3
    assert {r.task for r in found} == {"kubernetes/preinstall : Stop if memory is too small for masters"}
    assert all(r.fields.get("assertion") == "ansible_memtotal_mb >= 1500" for r in found)


def test_fact_gathering_failure_nests_the_module_result() -> None:
    # ansible-core 2.18 over SSH against a lab host without python3 (Gathering Facts).
    log = (
        "TASK [Gathering Facts] *********************************************************\n"
        'fatal: [lab3]: FAILED! => {"ansible_facts": {}, "changed": false, "failed_modules": '
        '{"ansible.legacy.setup": {"ansible_facts": {"discovered_interpreter_python": "/usr/bin/python3"}, '
        '"failed": true, "module_stderr": "Connection to 10.86.0.11 closed.\\r\\n", "module_stdout": '
        '"/bin/sh: 1: /usr/bin/python3: not found\\r\\n", "msg": "The module failed to execute correctly, '
        'you probably need to set the interpreter.\\nSee stdout/stderr for the exact error", "rc": 127, '
        '"warnings": ["No python interpreters found for host lab3"]}}, '
        '"msg": "The following modules failed to execute: ansible.legacy.setup\\n"}\n'
    )
    (record,) = records(log)
    assert record.rc == 127 and "/usr/bin/python3: not found" in record.fields["module_stdout"]
    (finding,) = diagnose_text(log)
    assert finding.id == "python_interpreter_missing"
    assert finding.evidence[-1] == "  → /bin/sh: 1: /usr/bin/python3: not found"
