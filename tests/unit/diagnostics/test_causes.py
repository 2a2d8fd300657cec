"""Causes over symptoms, evidence that decides ("likely because …"), indirect faces, new kinds of failure."""

from __future__ import annotations

import pytest

from kwizard.diagnostics import Evidence, HostFacts, diagnose_text, remedy_for

SCHEDULER = (
    "RUNNING HANDLER [kubernetes/control-plane : Control plane | wait for kube-scheduler] ****\n"
    'fatal: [cp1]: FAILED! => {"attempts": 60, "changed": false, "msg": "Status code was -1 and not [200]: '
    'Request failed: <urlopen error [Errno 111] Connection refused>", "url": "https://127.0.0.1:10259/healthz"}\n'
)


@pytest.mark.parametrize(
    ("facts", "cause"),
    [
        (HostFacts(memory_mb=1024, cpus=2), "insufficient_memory"),
        (HostFacts(memory_mb=4096, cpus=1), "insufficient_cpu"),
        (HostFacts(memory_mb=4096, cpus=2, swap_mb=2048), "swap_enabled"),
    ],
)
def test_measured_host_names_the_cause_of_a_control_plane_that_never_came_up(facts, cause) -> None:
    top = diagnose_text(SCHEDULER, Evidence(hosts={"cp1": facts}))[0]
    assert top.id == cause
    assert top.evidence[0].startswith("likely because cp1 has")


def test_without_evidence_the_symptom_is_named_and_nothing_is_guessed() -> None:
    findings = diagnose_text(SCHEDULER, Evidence(hosts={"cp1": HostFacts(memory_mb=8192, cpus=4, swap_mb=0)}))
    assert findings[0].id == "control_plane_unhealthy"
    assert all(f.confidence < 0.5 for f in findings[1:])


def test_a_cause_in_the_log_outranks_the_symptom_it_produced() -> None:
    log = (
        "TASK [etcd : Configure | Wait for etcd cluster to be healthy] ****\n"
        'fatal: [etcd1]: FAILED! => {"attempts": 4, "changed": false, "cmd": "etcdctl endpoint health", '
        '"rc": 1, "stderr": "{\\"level\\":\\"warn\\",\\"msg\\":\\"retrying of unary invoker failed\\",'
        '\\"error\\":\\"rpc error: code = DeadlineExceeded desc = latest balancer error: connection error: '
        'desc = \\\\\\"transport: Error while dialing dial tcp 10.0.0.12:2379: connect: no route to host'
        '\\\\\\"\\"}"}\n'
    )
    assert [f.id for f in diagnose_text(log)][:2] == ["firewall_ports", "etcd_unhealthy"]


def test_non_systemd_host_is_no_systemd_not_an_unsupported_distribution() -> None:
    log = (
        "TASK [kubernetes/preinstall : Stop if non systemd OS type] ****\n"
        'fatal: [lab1]: FAILED! => {"assertion": "ansible_service_mgr == \\"systemd\\"", "changed": false, '
        '"evaluated_to": false, "msg": "Assertion failed"}\n'
    )
    top = diagnose_text(log)[0]
    assert (top.id, top.category) == ("no_systemd", "unsupported_os")
    assert not any("allow_unsupported" in step and "set" in step for step in top.fix)
    measured = diagnose_text(log, Evidence.from_mapping({"hosts": {"lab1": {"systemd": False}}}))[0]
    assert measured.evidence[0] == "likely because preflight found that lab1 does not run systemd"


@pytest.mark.parametrize(
    "log",
    [
        # the module cannot be written: Python sees a truncated file
        'fatal: [n1]: FAILED! => {"changed": false, "module_stderr": "", "module_stdout": "Traceback (most '
        'recent call last):\\n  File \\"/root/.ansible/tmp/x/AnsiballZ_setup.py\\", line 9, in <module>\\n'
        "NameError: name 'ZIPLOADER_PARAMS' is not defined\\r\\n\", "
        '"msg": "MODULE FAILURE", "rc": 1}\n',
        # an empty message
        'fatal: [n1]: FAILED! => {"changed": false, "module_stdout": "", "msg": "MODULE FAILURE\\nSee stdout/'
        'stderr for the exact error", "rc": 1}\n',
    ],
)
def test_a_full_disk_behind_an_indirect_face_is_named_when_the_disk_is_measured(log) -> None:
    top = diagnose_text(log, Evidence(hosts={"n1": HostFacts(disk_free_mb=12)}))[0]
    assert top.id == "disk_space" and top.confidence > 0.9
    assert top.evidence[0] == "likely because n1 has only 12 MB free on a file system"
    assert all(f.id != "disk_space" or f.confidence < 0.5 for f in diagnose_text(log))


def test_mkdir_of_the_ansible_temp_dir_points_at_the_disk() -> None:
    log = (
        'fatal: [n2]: UNREACHABLE! => {"changed": false, "msg": "Authentication or permission failure. In '
        "some cases, you may have been able to authenticate and did not have permissions on the target "
        'directory. Failed command was: ( umask 77 && mkdir -p \\"` echo ~/.ansible/tmp `\\" ), exited with '
        'result 1", "unreachable": true}\n'
    )
    assert diagnose_text(log, Evidence(hosts={"n2": HostFacts(disk_free_mb=0)}))[0].id == "disk_space"


def test_too_old_ansible_shows_as_an_undefined_magic_variable() -> None:
    log = (
        "TASK [kubespray-defaults : Set fallback_ip] ****\n"
        'fatal: [node1]: FAILED! => {"msg": "The task includes an option with an undefined variable. The '
        "error was: 'ansible_play_hosts_all' is undefined\"}\n"
    )
    assert diagnose_text(log)[0].category == "ansible_version_mismatch"


def test_apt_cache_unknown_reason_is_the_resolver() -> None:
    log = 'fatal: [n1]: FAILED! => {"changed": false, "msg": "Failed to update apt cache: unknown reason"}\n'
    assert diagnose_text(log)[0].category == "dns_resolution"


@pytest.mark.parametrize(
    ("log", "rule"),
    [
        (
            '[FATAL] plugin/loop: Loop (127.0.0.1:55953 -> :53) detected for zone ".", see '
            "https://coredns.io/plugins/loop#troubleshoot. "
            'Query: "HINFO 4547991504243258144.3688648895315093531."\n',
            "coredns_loop",
        ),
        (
            'Mar 02 10:00:01 etcd2 etcd[2210]: {"level":"fatal","msg":"discovery failed","error":"couldn\'t '
            'find local name \\"etcd2\\" in the initial cluster configuration"}\n',
            "etcd_peer_misconfigured",
        ),
        (
            "Jan 10 09:12:44 etcd1 etcd[901]: request cluster ID mismatch (got 1b3a0a8b5c9f7f2e want "
            "cdf818194e3a8c32)\n",
            "etcd_peer_misconfigured",
        ),
        (
            "\t[ERROR FileContent--proc-sys-net-bridge-bridge-nf-call-iptables]: /proc/sys/net/bridge/"
            "bridge-nf-call-iptables does not exist\n",
            "br_netfilter_missing",
        ),
        (
            'fatal: [n1]: FAILED! => {"changed": false, "msg": "The checksum for '
            '/tmp/releases/kubeadm-v1.31.4-amd64 did not match 4b2c...; it was 9e1f..."}\n',
            "download_checksum_mismatch",
        ),
        (
            "  Warning  ProvisioningFailed  12s (x3 over 40s)  persistentvolume-controller  no persistent "
            "volumes available for this claim and no storage class is set\n",
            "no_default_storageclass",
        ),
        (
            'Mar 01 12:00:00 n1 kubelet[4411]: E0301 12:00:00.1 4411 run.go:72] "command failed" '
            'err="failed '
            "to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "
            '\\"unix:///run/containerd/containerd.sock\\": rpc error: code = Unimplemented desc = unknown '
            'service runtime.v1.RuntimeService"\n',
            "container_runtime",
        ),
        (
            'fatal: [n1]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: '
            "hostfile_replace_entries: link /home/me/.ssh/known_hosts to /home/me/.ssh/known_hosts.old: "
            "Permission denied\\r\\nupdate_known_hosts: hostfile_replace_entries failed for /home/me/.ssh/"
            'known_hosts: Permission denied\\r\\nme@10.0.0.5: Permission denied (publickey).", '
            '"unreachable": true}\n',
            "ssh_auth_failed",
        ),
        ("\t[ERROR Port-10250]: Port 10250 is in use\n", "control_plane_port_in_use"),
        ("\t[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty\n", "etcd_unhealthy"),
        (
            "error execution phase preflight: couldn't validate the identity of the API Server: Get "
            '"https://10.0.0.10:6443/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": '
            "dial tcp 10.0.0.10:6443: i/o timeout\n",
            "firewall_ports",
        ),
    ],
)
def test_new_kinds_of_failure_are_named(log: str, rule: str) -> None:
    assert diagnose_text(log)[0].id == rule


def test_a_host_key_failure_says_what_to_check_when_known_hosts_may_be_unwritable() -> None:
    log = (
        'fatal: [n1]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: '
        "Could not create directory '/home/me/.ssh' (Permission denied).\\r\\nFailed to add the host to the "
        'list of known hosts (/home/me/.ssh/known_hosts).\\r\\nHost key verification failed.", '
        '"unreachable": true}\n'
    )
    top = diagnose_text(log)[0]
    assert top.id == "host_key_verification"
    assert any("not writable" in step and "chown" in step for step in top.fix)


def test_br_netfilter_has_an_automatic_remedy() -> None:
    finding = diagnose_text(
        "[ERROR FileContent--proc-sys-net-bridge-bridge-nf-call-iptables]: /proc/sys/net/bridge/"
        "bridge-nf-call-iptables contents are not set to 1\n"
    )[0]
    plan = remedy_for(finding)
    assert plan is not None and "modprobe br_netfilter" in (plan.action.command or "")


def test_a_proxy_answering_for_localhost_health_checks() -> None:
    log = (
        "TASK [kubernetes/control-plane : Control plane | wait for the apiserver to be running] ****\n"
        'fatal: [cp1]: FAILED! => {"changed": false, "msg": "Status code was 403 and not [200]: HTTP Error '
        '403: Forbidden", "url": "https://127.0.0.1:6443/healthz"}\n'
    )
    assert diagnose_text(log)[0].id == "control_plane_unhealthy"
    assert diagnose_text(log, Evidence(settings={"proxy": True}))[0].id == "proxy_catches_localhost"


def test_an_api_url_is_not_a_download() -> None:
    log = (
        'fatal: [cp1]: FAILED! => {"changed": false, "msg": "Status code was 404 and not [200]: HTTP Error '
        '404: Not Found", "url": "https://10.0.0.10:6443/apis/apps/v1/namespaces/x/deployments/y"}\n'
    )
    assert all(f.category != "download_failed" for f in diagnose_text(log))
