"""Single-host and cross-host preflight checks over parsed probe facts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kwizard.preflight.checks import HostInput, run_cluster_checks, run_host_checks
from kwizard.preflight.facts import DiskSpace, Interpreter
from kwizard.preflight.model import CheckResult
from kwizard.storage.checks import DeviceFacts
from tests.unit.preflight_samples import ONE_CONTROL_PLANE, facts, spec


def check(check_id: str, host_facts=None, hosts=None, become_ok=None, **spec_extra) -> CheckResult | None:
    cluster = spec(hosts or ONE_CONTROL_PLANE, **spec_extra)
    host_input = HostInput(cluster, cluster.hosts[0], host_facts or facts(), become_ok)
    return next((r for r in run_host_checks(host_input) if r.check == check_id), None)


def test_healthy_ec2_control_plane_passes_every_single_host_check():
    results = run_host_checks(HostInput(spec(ONE_CONTROL_PLANE), spec(ONE_CONTROL_PLANE).hosts[0], facts()))
    assert {r.check: r.status for r in results if r.status != "pass"} == {}
    assert {r.check for r in results} >= {"sudo", "python", "memory", "cpus", "os", "ports", "ip", "clock"}


def test_t2_micro_control_plane_fails_memory_and_cpus_naming_the_types_that_pass():
    micro = facts(mem_mb=983, cpus=1, dmi_product="t2.micro")
    memory, cpus = check("memory", micro), check("cpus", micro)
    assert memory.status == "fail" and cpus.status == "fail"
    assert memory.observed == "983 MB (t2.micro)"
    assert "1700" in memory.required and "kubeadm" in memory.why
    assert "t3.small (2 vCPUs, 2 GiB)" in memory.fix
    assert "in the t2 family, t2.medium" in cpus.fix


def test_t2_small_is_called_out_as_no_longer_enough_for_a_control_plane():
    small = facts(mem_mb=1990, cpus=1, dmi_product="t2.small")
    cpus = check("cpus", small)
    assert cpus.status == "fail"
    assert "t2.small" in cpus.fix and "no longer enough for a control plane" in cpus.fix
    assert check("memory", small).status == "pass"


def test_memory_between_kubespray_and_kubeadm_minimums_explains_the_midway_failure():
    memory = check("memory", facts(mem_mb=1600, dmi_vendor="", dmi_product=""))
    assert memory.status == "fail"
    assert "Kubespray's own check (1500 MB) would pass" in memory.why
    assert "(" not in memory.observed  # no instance type off AWS


def test_worker_sizing_uses_kubesprays_node_minimum_and_recommends_two_gigabytes():
    worker = [{"name": "w1", "roles": ["worker"]}]
    assert check("memory", facts(mem_mb=983, dmi_vendor=""), worker).status == "fail"
    warn = check("memory", facts(mem_mb=1024, dmi_vendor=""), worker)
    assert warn.status == "warn" and "1800" in warn.required
    assert check("cpus", facts(cpus=1), worker).status == "pass"


def test_instance_type_from_the_spec_is_used_when_dmi_does_not_tell():
    hosts = [{"name": "cp1", "roles": ["control_plane", "etcd"], "instance_type": "t2.small"}]
    cpus = check("cpus", facts(cpus=1, dmi_vendor="Xen", dmi_product="HVM domU"), hosts)
    assert cpus.observed == "1 (t2.small)" and "no longer enough" in cpus.fix


def test_python_missing_offers_the_install_fix_and_python2_only_does_too():
    missing = check("python", facts(interpreters=()))
    assert (missing.status, missing.fix_id, missing.observed) == (
        "fail",
        "install_python3",
        "no Python at all",
    )
    python2 = check("python", facts(interpreters=(Interpreter("/usr/bin/python", "2.7.18"),)))
    assert python2.status == "fail" and python2.fix_id == "install_python3"
    no_manager = check("python", facts(interpreters=(), package_manager=""))
    assert no_manager.status == "fail" and no_manager.fix_id is None


def test_python_in_a_non_standard_place_offers_to_set_the_interpreter():
    local = facts(interpreters=(Interpreter("/usr/local/bin/python3", "3.12.1"),))
    result = check("python", local)
    assert (result.status, result.fix_id) == ("warn", "set_python_interpreter")
    named = [
        {"name": "cp1", "roles": ["control_plane", "etcd"], "python_interpreter": "/usr/local/bin/python3"}
    ]
    assert check("python", local, named).status == "pass"
    wrong = [{"name": "cp1", "roles": ["control_plane", "etcd"], "python_interpreter": "/opt/py/bin/python3"}]
    assert check("python", facts(), wrong).fix_id == "set_python_interpreter"


def test_sudo_states():
    assert check("sudo", facts(sudo="root")).status == "pass"
    needs = check("sudo", facts(sudo="password"))
    assert needs.status == "fail" and "NOPASSWD" in needs.fix and "become password" in needs.fix
    assert check("sudo", facts(sudo="password"), become_ok=True).status == "pass"
    assert "refused" in check("sudo", facts(sudo="password"), become_ok=False).observed
    assert check("sudo", facts(sudo="absent")).status == "fail"


def test_ip_forward_off_fails_with_the_automatic_fix():
    result = check("ip_forward", facts(ip_forward=0))
    assert (result.status, result.fix_id) == ("fail", "enable_ip_forward")
    assert "/etc/sysctl.d/" in result.fix


@pytest.mark.parametrize(
    ("os_id", "version", "status"),
    [
        ("ubuntu", "24.04", "pass"),
        ("ubuntu", "20.04", "warn"),
        ("debian", "12", "pass"),
        ("rocky", "9.4", "pass"),
        ("amzn", "2", "warn"),
        ("alpine", "3.20", "fail"),
        ("", "", "fail"),
    ],
)
def test_operating_system_support(os_id, version, status):
    result = check("os", facts(os_id=os_id, os_version_id=version, os_pretty=""))
    assert result.status == status
    if status == "fail":
        assert "is not a known OS" in result.why


def test_no_systemd_fails_naming_pid1():
    result = check("systemd", facts(systemd=False, pid1="sshd"))
    assert result.status == "fail" and "PID 1 is sshd" in result.observed


def test_kernel_swap_clock_nameserver_disk():
    assert check("kernel", facts(kernel="4.15.0-1")).status == "warn"
    assert check("kernel", facts(kernel="4.9.1"), kubespray={"network_plugin": "cilium"}).status == "fail"
    assert check("swap", facts(swap_mb=2048, swap_active=("/swapfile",))).status == "warn"
    assert check("clock", facts(clock_skew=12.0)).status == "pass"
    skewed = check("clock", facts(clock_skew=-95.0))
    assert skewed.status == "fail" and skewed.observed == "-95 s"
    assert check("nameserver", facts(nameservers=())).status == "fail"
    full = facts()
    tight = replace(full, disks=tuple(replace(d, free_mb=1500, used_percent=97) for d in full.disks))
    disk = check("disk", tight)
    assert disk.status == "fail" and disk.observed.count("free") == 1  # / and /var share a filesystem
    assert (
        check("disk", replace(full, disks=tuple(replace(d, used_percent=88) for d in full.disks))).status
        == "warn"
    )


def test_ports_per_role_and_what_holds_them():
    busy = facts(listening=frozenset({22, 6443, 2379}), listeners=((6443, "kube-apiserver"),))
    result = check("ports", busy)
    assert result.status == "fail"
    assert "6443 (kube-apiserver) used by kube-apiserver" in result.observed
    assert "2379 (etcd clients) in use" in result.observed
    assert "reset.yml" in result.fix
    worker = [{"name": "w1", "roles": ["worker"]}]
    assert check("ports", busy, worker).status == "pass"  # 6443/2379 are not a worker's business


def test_lb_node_ports_come_from_the_spec_when_the_loadbalancer_phase_runs():
    lb_host = [
        {"name": "cp1", "roles": ["control_plane", "etcd"]},
        {"name": "w1", "roles": ["worker", "loadbalancer"]},
    ]
    cluster = spec(lb_host, loadbalancer={"http_node_port": 31080})
    busy = facts(listening=frozenset({31080}))
    result = next(
        r for r in run_host_checks(HostInput(cluster, cluster.hosts[1], busy)) if r.check == "ports"
    )
    assert result.status == "fail" and "31080 (ingress HTTP NodePort)" in result.observed
    without_phase = spec(lb_host, loadbalancer={"http_node_port": 31080}, phases=["preflight", "inventory"])
    quiet = next(
        r
        for r in run_host_checks(HostInput(without_phase, without_phase.hosts[1], busy))
        if r.check == "ports"
    )
    assert quiet.status == "pass"


def test_ip_not_on_the_host_names_the_address_to_use():
    public = [{"name": "cp1", "address": "203.0.113.7", "roles": ["control_plane", "etcd"]}]
    result = check("ip", facts(), public)
    assert result.status == "fail"
    assert "(10.0.1.10)" in result.fix and "Elastic IP" in result.fix
    assert check("ip", facts()).status == "pass"


def test_storage_rows_come_from_the_storage_modules_judgement():
    hosts = [
        {"name": f"s{i}", "roles": ["control_plane", "etcd", "storage"], "storage_device": "/dev/xvdf"}
        for i in (1, 2, 3)
    ]
    cluster = spec(hosts, storage={"type": "gluster", "gluster": {"size": "9g"}})

    def rows(device: DeviceFacts | None) -> dict[str, CheckResult]:
        results = run_cluster_checks(cluster, {"s1": facts(device=device)})
        return {
            r.host if r.check == "storage" else r.check: r for r in results if r.check.startswith("storage")
        }

    missing = rows(DeviceFacts(exists=False))["s1"]
    assert missing.status == "fail" and "missing" in missing.observed
    used = rows(DeviceFacts(True, True, 20 << 30, signatures=("TYPE=ext4",)))["s1"]
    assert used.status == "fail" and "TYPE=ext4" in used.observed and "wipefs -a /dev/xvdf" in used.fix
    assert rows(DeviceFacts(True, True, 4 << 30))["s1"].status == "fail"  # smaller than 9g
    free = rows(DeviceFacts(True, True, 20 << 30))["s1"]
    assert free.status == "pass" and free.required == "/dev/xvdf: an empty disk of at least 9g"
    assert rows(None)["s1"].status == "warn"  # not probed: no root and no passwordless sudo
    assert rows(None)["storage_hosts"].status == "pass"  # 3 storage hosts for replica 3
    assert set(rows(None)) == {"s1", "storage_hosts"}  # s2, s3 did not answer: their ssh rows say so


def test_directory_brick_warns_and_fails_when_its_filesystem_is_full():
    hosts = [{"name": f"s{i}", "roles": ["control_plane", "etcd", "storage"]} for i in (1, 2, 3)]
    cluster = spec(hosts, storage={"type": "gluster", "gluster": {"size": "9g"}})
    roomy = facts(brick=DiskSpace("/data/brick", 50 * 1024, 10, "/"))
    full = facts(brick=DiskSpace("/data/brick", 2 * 1024, 98, "/"))
    results = {
        r.host: r for r in run_cluster_checks(cluster, {"s1": roomy, "s2": full}) if r.check == "storage"
    }
    assert results["s1"].status == "warn" and "Directory brick" in results["s1"].observed
    assert "50 GB free on /" in results["s1"].observed
    assert results["s2"].status == "fail"


def test_cross_host_machine_id_and_hostname_duplicates():
    hosts = [{"name": n, "roles": ["control_plane", "etcd"]} for n in ("a", "b", "c")]
    cluster = spec(hosts)
    clone = facts(addresses=("10.0.1.11",))
    by_host = {"a": facts(), "b": clone, "c": facts(machine_id="ffff" * 8, hostname="other")}
    results = {(r.check, r.host): r for r in run_cluster_checks(cluster, by_host)}
    assert results[("machine_id", "a")].status == "fail"
    assert "on a, b" in results[("machine_id", "b")].observed
    assert "listed twice" not in results[("machine_id", "a")].observed  # different addresses: clones
    assert results[("machine_id", "c")].status == "pass"
    assert results[("hostname", "a")].status == "warn"
    assert results[("hostname", "c")].status == "pass" and "becomes c" in results[("hostname", "c")].observed


def test_lb_spread_and_storage_host_count():
    def lb(*zones):
        return [{"name": f"w{i}", "roles": ["worker", "loadbalancer"], "az": z} for i, z in enumerate(zones)]

    base = [{"name": "cp", "roles": ["control_plane", "etcd"]}]
    same_zone = spec(base + lb("eu-west-1a", "eu-west-1a"))
    [result] = [r for r in run_cluster_checks(same_zone, {}) if r.check == "lb_spread"]
    assert result.status == "warn" and "all in eu-west-1a" in result.observed
    spread = spec(base + lb("eu-west-1a", "eu-west-1b"))
    assert [r.status for r in run_cluster_checks(spread, {}) if r.check == "lb_spread"] == ["pass"]
    single = spec(base + lb("eu-west-1a"))
    assert [r.status for r in run_cluster_checks(single, {}) if r.check == "lb_spread"] == ["warn"]

    storage = [{"name": f"s{i}", "roles": ["control_plane", "etcd", "storage"]} for i in (1, 2, 3)]
    gluster = spec(storage, storage={"type": "gluster", "gluster": {"replicas": 3}})
    [count] = [r for r in run_cluster_checks(gluster, {}) if r.check == "storage_hosts"]
    assert count.status == "pass" and count.host == "cluster"
