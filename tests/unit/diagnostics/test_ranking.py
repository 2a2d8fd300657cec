"""Evidence changes the diagnosis: the guide's t2.micro, the guide's "UNREACHABLE" that was Python."""

from __future__ import annotations

from kwizard.diagnostics import Evidence, HostFacts, diagnose_text
from kwizard.protocol.outputs import PreflightOutput
from kwizard.spec import ClusterSpec, Host

# The guide's own log (the seed): Kubespray waiting for the scheduler on 1 GB t2.micro instances.
SCHEDULER = (
    "RUNNING HANDLER [kubernetes/master : Master | wait for kube-scheduler] ************\n"
    "FAILED - RETRYING: Master | wait for kube-scheduler (1 retries left).\n"
    'fatal: [kubernetes-mcore-master2]: FAILED! => {"attempts": 60, "changed": false, "content": "", '
    '"failed": true, "msg": "Status code was not [200]: Request failed: <urlopen error [Errno 111] '
    'Connection refused>", "redirected": false, "status": -1, "url": "http://localhost:10251/healthz"}\n'
)
# The guide's misleading UNREACHABLE: the hosts had no /usr/bin/python.
UNREACHABLE = (
    'fatal: [kubernetes-mcore-gluster1]: UNREACHABLE! => {"changed": false, "msg": "SSH Error: data could '
    'not be sent to remote host \\"\\". Make sure this host can be reached over ssh", "unreachable": true}\n'
)


def test_scheduler_refused_without_evidence_is_a_control_plane_problem_first() -> None:
    findings = diagnose_text(SCHEDULER)
    assert [f.id for f in findings] == ["control_plane_unhealthy", "insufficient_memory"]
    assert findings[1].confidence < 0.5


def test_scheduler_refused_on_a_host_measured_at_1gb_is_memory() -> None:
    evidence = Evidence(hosts={"kubernetes-mcore-master2": HostFacts(memory_mb=1024, cpus=1)})
    top = diagnose_text(SCHEDULER, evidence)[0]
    assert top.id == "insufficient_memory" and top.confidence > 0.9
    assert (
        top.evidence[0]
        == "likely because kubernetes-mcore-master2 has 1024 MB of memory; a control plane needs at least "
        "1700 MB"
    )


def test_memory_of_another_host_does_not_count() -> None:
    evidence = Evidence(hosts={"some-worker": HostFacts(memory_mb=1024)})
    assert diagnose_text(SCHEDULER, evidence)[0].id == "control_plane_unhealthy"


def test_any_task_polling_a_health_port_counts_not_only_kubesprays_handler_names() -> None:
    for task in ("Control plane | wait for kube-scheduler", "my checks : scheduler answers"):
        log = (
            f"TASK [{task}] ****\n"
            'fatal: [cp1]: FAILED! => {"changed": false, "msg": "Status code was -1 and not [200]: '
            'Request failed: <urlopen error [Errno 111] Connection refused>", '
            '"url": "https://127.0.0.1:10259/healthz"}\n'
        )
        assert [f.id for f in diagnose_text(log)] == ["control_plane_unhealthy", "insufficient_memory"]
        small = Evidence(hosts={"cp1": HostFacts(memory_mb=949)})
        assert diagnose_text(log, small)[0].id == "insufficient_memory"


def test_t2_micro_in_the_preset_is_evidence_too() -> None:
    spec = ClusterSpec(
        name="guide",
        hosts=[
            Host(
                name="kubernetes-mcore-master2",
                address="10.0.0.2",
                instance_type="t2.micro",
                roles=["control_plane", "etcd", "worker"],
            )
        ],
    )
    assert diagnose_text(SCHEDULER, Evidence.from_spec(spec))[0].id == "insufficient_memory"


def test_unreachable_that_is_really_python() -> None:
    assert diagnose_text(UNREACHABLE)[0].id == "ssh_data_not_sent"  # category ssh_unreachable
    evidence = Evidence.from_mapping({"hosts": [{"name": "kubernetes-mcore-gluster1", "python3": False}]})
    top = diagnose_text(UNREACHABLE, evidence)[0]
    assert (top.id, top.remedy) == ("python_interpreter_missing", "install_python3")


def test_download_failure_behind_a_proxy() -> None:
    log = (
        "TASK [download : download_file | Download item] ****\n"
        'fatal: [n1]: FAILED! => {"msg": "Request failed: '
        '<urlopen error [Errno 110] Connection timed out>"}\n'
    )
    assert diagnose_text(log)[0].id == "download_failed"
    assert diagnose_text(log, Evidence(settings={"proxy": True}))[0].id == "proxy_not_applied"


def test_permission_denied_on_a_gluster_cluster() -> None:
    line = "chown: changing ownership of '/usr/share/elasticsearch/data': Permission denied\n"
    assert diagnose_text(line) == []
    assert diagnose_text(line, Evidence(settings={"storage": "gluster"}))[0].id == "gluster_permission"


def test_evidence_from_preflight_results_accepts_the_usual_names() -> None:
    evidence = Evidence.from_mapping(
        {
            "results": [
                {"host": "lab4", "facts": {"ansible_memtotal_mb": "1024", "ip_forward": "0", "nproc": 1}}
            ]
        }
    )
    facts = evidence.hosts["lab4"]
    assert (facts.memory_mb, facts.ip_forward, facts.cpus) == (1024.0, False, 1.0)
    assert (
        Evidence.from_preflight(PreflightOutput(hosts={"lab3": {"python3": "no"}})).hosts["lab3"].python3
        is False
    )
