"""The run's own structure before text rules: PLAY RECAP, rescues, ignored loops, delegation, old formats."""

from __future__ import annotations

from kwizard.diagnostics import Evidence, HostFacts, diagnose_text

DISK = (
    "TASK [download : Download item] ****\n"
    'fatal: [node1]: FAILED! => {"changed": false, "msg": "Failed to write /tmp/releases/kubeadm: '
    '[Errno 28] No space left on device"}\n'
)


def test_a_failure_the_recap_says_was_rescued_is_no_finding() -> None:
    log = DISK + (
        "\nTASK [download : Clean the cache and try again] ****\nchanged: [node1]\n\n"
        "PLAY RECAP ****\n"
        "node1                      : ok=20   changed=3    unreachable=0    failed=0    skipped=4    "
        "rescued=1    ignored=0\n"
    )
    assert diagnose_text(log) == []


def test_a_failure_the_recap_still_counts_is_diagnosed() -> None:
    log = DISK + (
        "\nPLAY RECAP ****\n"
        "node1                      : ok=20   changed=3    unreachable=0    failed=1    skipped=4    "
        "rescued=0    ignored=0\n"
    )
    assert [f.id for f in diagnose_text(log)] == ["disk_space"]


def test_a_recap_of_another_host_does_not_hide_the_failure() -> None:
    log = DISK + (
        "PLAY RECAP ****\nnode2 : ok=20 changed=3 unreachable=0 failed=0 skipped=4 rescued=0 ignored=0\n"
        "node1 : ok=2 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n"
    )
    assert diagnose_text(log)[0].id == "disk_space"


def test_error_looking_debug_output_of_a_successful_run_is_no_finding() -> None:
    log = (
        "TASK [Show the journal of etcd] ****\n"
        'ok: [node1] => {\n    "msg": [\n'
        '        "etcd[812]: rejected connection from 10.0.0.2:40100 (error \\"remote error: tls: '
        'bad certificate\\")",\n'
        '        "kubelet[99]: The connection to the server localhost:8080 was refused"\n    ]\n}\n'
        "request cluster ID mismatch\n"
        "PLAY RECAP ****\n"
        "node1 : ok=9 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=1\n"
    )
    assert diagnose_text(log) == []


def test_log_path_recap_lines_are_read_too() -> None:
    prefix = "2024-05-08 07:28:27,441 p=9123 u=root n=ansible | "
    log = (
        f"{prefix}{DISK.splitlines()[0]}\n{prefix}{DISK.splitlines()[1]}\n"
        f"{prefix}PLAY RECAP ****\n"
        f"{prefix}node1 : ok=2 changed=0 unreachable=0 failed=0 skipped=0 rescued=1 ignored=0\n"
    )
    assert diagnose_text(log) == []


def test_ansible_1_adhoc_result_with_double_arrow_is_parsed() -> None:
    log = 'node3 | FAILED >> {\n    "failed": true,\n    "msg": "/usr/bin/python: not found"\n}\n'
    top = diagnose_text(log)[0]
    assert (top.id, top.hosts) == ("python_interpreter_missing", ("node3",))


def test_a_task_delegated_to_localhost_is_judged_on_the_controller() -> None:
    log = (
        "TASK [kubernetes/client : Copy admin kubeconfig to the controller] ****\n"
        'fatal: [cp1 -> localhost]: FAILED! => {"changed": false, "msg": "Failed to write '
        '/home/me/artifacts/admin.conf: [Errno 28] No space left on device"}\n'
    )
    top = diagnose_text(log, Evidence(hosts={"cp1": HostFacts(disk_free_mb=40_000)}))[0]
    assert top.id == "disk_space"
    assert any("ran on the machine running Ansible (cp1 -> localhost)" in line for line in top.evidence)


def test_a_message_broken_over_two_lines_by_a_paste_still_matches() -> None:
    log = (
        "[discovery] Failed to request cluster info: Get https://10.0.0.5:6443/api/v1/namespaces/kube-public/"
        "configmaps/cluster-info: x509: certificate has expired or is not\n"
        "yet valid: current time 2019-01-01T00:00:00Z is before 2024-03-01T10:00:00Z\n"
    )
    assert diagnose_text(log)[0].category == "time_sync"


def test_a_traceback_printed_after_an_old_failed_line_belongs_to_that_result() -> None:
    log = (
        "TASK: [setup] *****\n"
        'failed: [node2] => {"failed": true, "parsed": false}\n'
        "Traceback (most recent call last):\n"
        '  File "/root/.ansible/tmp/ansible-tmp-1433819395.41-82744649514542/setup", line 1231, in <module>\n'
        "    main()\n"
        "NameError: global name 'get_distribution' is not defined\n"
        "\n"
        "FATAL: all hosts have already failed -- aborting\n"
    )
    findings = diagnose_text(log, Evidence(hosts={"node2": HostFacts(disk_free_mb=0)}))
    assert findings[0].id == "disk_space" and findings[0].hosts == ("node2",)
    assert any("NameError" in line for line in findings[0].evidence)


def test_a_traceback_after_the_become_marker_still_belongs_to_the_result() -> None:
    log = (
        'failed: [prod9] => {"failed": true, "parsed": false}\n'
        "SUDO-SUCCESS-ksmdtqjzgqneueipgcwbmuzshwxhrugh\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python2.7/tempfile.py", line 212, in _get_default_tempdir\n'
        '    ("No usable temporary directory found in %s" % dirlist))\n'
        "IOError: [Errno 2] No usable temporary directory found in ['/tmp', '/var/tmp']\n"
    )
    findings = diagnose_text(log)
    assert findings[0].id == "disk_space" and findings[0].hosts == ("prod9",)
