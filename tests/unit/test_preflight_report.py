"""Sizing tables, fix commands, the report model and the headless table."""

from __future__ import annotations

import subprocess

import pytest
from rich.console import Console

from kwizard.headless.preflight_table import grouped_problems, render, render_json
from kwizard.preflight.fixes import ENABLE_IP_FORWARD, INSTALL_PYTHON3, as_root, host_fix_command
from kwizard.preflight.model import CheckResult, HostReport, PreflightReport
from kwizard.preflight.sizing import (
    INSTANCE_TYPES,
    REQUIREMENTS,
    instance_advice,
    requirement_for,
    smallest_passing,
)
from tests.unit.preflight_samples import facts


def test_requirement_is_the_strictest_over_the_roles():
    combined = requirement_for(["worker", "control_plane", "storage"])
    assert (combined.min_cpus, combined.min_mem_mb) == (2, 1700)
    assert requirement_for([]) is None
    assert requirement_for(["worker", "loadbalancer"]).min_mem_mb == 1024


def test_smallest_passing_types():
    control_plane, worker = REQUIREMENTS["control_plane"], REQUIREMENTS["worker"]
    assert smallest_passing(control_plane) == "t3.small"
    assert smallest_passing(control_plane, family="t2") == "t2.medium"
    assert smallest_passing(control_plane, arch="aarch64") == "t4g.small"
    assert smallest_passing(worker, family="t3") == "t3.small"  # a 1 GiB t3.micro reports < 1024 MB
    assert INSTANCE_TYPES["t2.micro"].expected_mem_mb < 1024


def test_instance_advice_mentions_the_guide_only_for_t2_small_control_planes():
    advice = instance_advice("t2.small", REQUIREMENTS["control_plane"])
    assert "field guide" in advice and "t3.small (2 vCPUs, 2 GiB)" in advice and "t2.medium" in advice
    assert "field guide" not in instance_advice("t2.micro", REQUIREMENTS["worker"])
    assert instance_advice(None, REQUIREMENTS["worker"]) == ""
    assert "t3.small" in instance_advice("x9.weird", REQUIREMENTS["control_plane"])


def test_fix_commands_are_valid_sh_and_apply_where_the_package_manager_is_known():
    for command in (ENABLE_IP_FORWARD, INSTALL_PYTHON3):
        assert subprocess.run(["sh", "-n", "-c", command], timeout=10).returncode == 0
    assert host_fix_command("install_python3", facts(package_manager="dnf")) == INSTALL_PYTHON3
    assert host_fix_command("install_python3", facts(package_manager="apk")) is None
    assert "/etc/sysctl.d/" in host_fix_command("enable_ip_forward", facts())


def test_become_password_goes_to_stdin_never_into_the_command():
    command, stdin = as_root("id -u", facts(sudo="password"), "s3cr3t pass")
    assert "s3cr3t" not in command and command.startswith("sudo -S -p ''")
    assert stdin.read() == "s3cr3t pass\n"
    assert as_root("id -u", facts(sudo="root"), "s3cr3t") == ("sh -c 'id -u'", False)
    assert as_root("id -u", facts(sudo="nopasswd"), "s3cr3t")[0] == "sudo -n sh -c 'id -u'"


def _report() -> PreflightReport:
    def result(check: str, host: str, status: str, **kw) -> CheckResult:
        return CheckResult(check, host, status, kw.pop("observed", "x"), **kw)

    forward = {"observed": "0", "fix": "enable it", "fix_id": "enable_ip_forward"}
    lab1 = HostReport(
        "lab1", None, (result("ssh", "lab1", "pass"), result("ip_forward", "lab1", "fail", **forward))
    )
    lab2 = HostReport(
        "lab2",
        None,
        (
            result("ssh", "lab2", "pass"),
            result("ip_forward", "lab2", "fail", **forward),
            result("swap", "lab2", "warn"),
        ),
    )
    cluster = (result("lb_spread", "cluster", "pass"),)
    return PreflightReport((lab1, lab2), cluster, 1.25, ("ssh", "ip_forward", "swap", "lb_spread"))


def test_report_counts_acknowledgements_and_json_round_trip():
    report = _report()
    assert report.counts() == {"pass": 3, "warn": 1, "fail": 2}
    assert [r.key for r in report.blocking] == ["ip_forward@lab1", "ip_forward@lab2"]
    one = report.with_acknowledged({"ip_forward@lab1"})
    assert [r.key for r in one.blocking] == ["ip_forward@lab2"]
    assert one.with_acknowledged({"ip_forward"}).blocking == []
    assert "(2 acknowledged)" in one.with_acknowledged({"ip_forward"}).summary()
    assert PreflightReport.from_json(one.to_json()) == one
    assert one.hosts[1].status == "fail"


def test_merged_replaces_only_rechecked_hosts():
    report = _report()
    fresh = PreflightReport((HostReport("lab2", None, (CheckResult("ssh", "lab2", "pass", "ok"),)),))
    merged = report.merged(fresh)
    assert [h.host for h in merged.hosts] == ["lab1", "lab2"]
    assert merged.hosts[0] is report.hosts[0] and merged.hosts[1] is fresh.hosts[0]


@pytest.mark.parametrize("width", [80, 120])
def test_headless_table_groups_equal_problems_and_names_the_fix(width):
    report = _report().with_acknowledged({"ip_forward@lab2"})
    console = Console(record=True, width=width, color_system=None)
    console.print(render(report))
    text = console.export_text()
    assert "lab1" in text and "lab2" in text and "cluster" in text
    assert "✗*" in text  # lab2's acknowledged failure
    assert "kwizard can enable IP" in text
    assert "3 passed, 1 warning, 2 failed (1 acknowledged)" in text
    again = Console(record=True, width=width, color_system=None)
    again.print(render_json(report.to_json()))  # as the headless console gets it, from the event
    assert again.export_text() == text
    groups = grouped_problems(_report())
    assert [[r.host for r in g] for g in groups] == [["lab1", "lab2"], ["lab2"]]
