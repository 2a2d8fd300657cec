"""The preflight checks as data: their ids and headers in table order, and the functions behind them."""

from __future__ import annotations

from kwizard.preflight.checks.base import CheckInfo, HostCheck, HostInput
from kwizard.preflight.checks.cluster import run_cluster_checks
from kwizard.preflight.checks.network import check_ip, check_ports
from kwizard.preflight.checks.resources import check_cpus, check_disk, check_memory
from kwizard.preflight.checks.system import (
    check_clock,
    check_ip_forward,
    check_kernel,
    check_nameserver,
    check_os,
    check_python,
    check_sudo,
    check_swap,
    check_systemd,
)
from kwizard.preflight.model import CheckResult

CHECKS: tuple[CheckInfo, ...] = (
    CheckInfo("ssh", "ssh", "SSH reachable and login accepted"),
    CheckInfo("sudo", "sudo", "root, or sudo without a prompt (or with the become password)"),
    CheckInfo("python", "py", "Python 3 for Ansible, and the interpreter the inventory will name"),
    CheckInfo("ip_forward", "fwd", "IPv4 forwarding enabled"),
    CheckInfo("memory", "mem", "memory for the host's roles"),
    CheckInfo("cpus", "cpu", "CPUs for the host's roles"),
    CheckInfo("os", "os", "operating system supported by the pinned Kubespray"),
    CheckInfo("systemd", "sysd", "systemd is the init system"),
    CheckInfo("kernel", "kern", "kernel version"),
    CheckInfo("swap", "swap", "swap (Kubespray turns it off)"),
    CheckInfo("hostname", "name", "hostname valid and unique"),
    CheckInfo("machine_id", "m-id", "machine-id unique (cloned machines)"),
    CheckInfo("clock", "clock", "clock within 30 s of this computer"),
    CheckInfo("disk", "disk", "free disk on / and /var"),
    CheckInfo("ports", "ports", "ports the host's roles need are free"),
    CheckInfo("nameserver", "dns", "a nameserver in /etc/resolv.conf"),
    CheckInfo("ip", "ip", "the host's `ip` is one of its own addresses"),
    CheckInfo(
        "storage", "stor", "storage disk present, empty and big enough (or room for a directory brick)"
    ),
    CheckInfo("lb_spread", "lb", "load-balancer nodes: at least 2, spread over zones"),
    CheckInfo("storage_hosts", "stor#", "storage hosts fill the Gluster replica sets"),
)
CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)
CHECK_INFO: dict[str, CheckInfo] = {c.id: c for c in CHECKS}

# Checks that look at one host alone, in table order; they run as soon as that host answers.
HOST_CHECKS: tuple[HostCheck, ...] = (
    check_sudo,
    check_python,
    check_ip_forward,
    check_memory,
    check_cpus,
    check_os,
    check_systemd,
    check_kernel,
    check_swap,
    check_clock,
    check_disk,
    check_ports,
    check_nameserver,
    check_ip,
)


def run_host_checks(host_input: HostInput) -> list[CheckResult]:
    """Every single-host check that applies to the host."""
    return [r for r in (check(host_input) for check in HOST_CHECKS) if r is not None]


__all__ = [
    "CHECKS",
    "CHECK_IDS",
    "CHECK_INFO",
    "HostInput",
    "run_cluster_checks",
    "run_host_checks",
]
