"""Checks of the host's system: privileges, Python, kernel settings, OS, init system, clock, DNS."""

from __future__ import annotations

import re

from kwizard.preflight.checks.base import HostInput
from kwizard.preflight.facts import Interpreter
from kwizard.preflight.model import CheckResult
from kwizard.preflight.platforms import SUPPORTED_SUMMARY, platform_for

MIN_TARGET_PYTHON = (3, 8)  # ansible-core 2.18 runs modules on Python 3.8 to 3.13
STANDARD_PYTHON = "/usr/bin/python3"
MAX_CLOCK_SKEW = 30.0
RECOMMENDED_KERNEL = (4, 19)


def check_sudo(h: HostInput) -> CheckResult:
    facts, user = h.facts, h.facts.user or h.spec.ssh_user(h.host)
    required = "root, passwordless sudo, or sudo with the become password"
    why = "Kubespray runs every task with become (sudo); a prompt it cannot answer stops the run."
    if facts.sudo == "root":
        return h.result("sudo", "pass", "logged in as root", required)
    if facts.sudo == "nopasswd":
        return h.result("sudo", "pass", f"{user}: sudo without a password", required)
    if facts.sudo == "absent":
        return h.result(
            "sudo",
            "fail",
            f"{user} is not root and sudo is not installed",
            required,
            why,
            "Log in as root (ssh.user: root), or install sudo and give the user sudo rights.",
        )
    if h.become_ok:
        return h.result("sudo", "pass", f"{user}: sudo with the become password", required)
    nopasswd = f"echo '{user} ALL=(ALL) NOPASSWD:ALL' | sudo tee /etc/sudoers.d/{user}"
    if h.become_ok is False:
        return h.result(
            "sudo",
            "fail",
            f"{user}: sudo refused the become password",
            required,
            why,
            f"Check the become password (ssh.become_password_env), or allow passwordless sudo: {nopasswd}",
        )
    return h.result(
        "sudo",
        "fail",
        f"{user}: sudo asks for a password and none was given",
        required,
        why,
        f"Give the become password (the wizard asks; headless: ssh.become_password_env names the "
        f"environment variable), or allow passwordless sudo: {nopasswd}",
    )


def choose_interpreter(h: HostInput) -> Interpreter | None:
    """The Python Ansible should use on the host: the spec's choice, else the standard path, else any."""
    usable = [i for i in h.facts.interpreters if i.version_tuple >= MIN_TARGET_PYTHON]
    wanted = h.host.python_interpreter
    for preferred in (wanted, STANDARD_PYTHON):
        found = next((i for i in usable if i.path == preferred), None)
        if found:
            return found
    return usable[0] if usable else None


def check_python(h: HostInput) -> CheckResult:
    facts, wanted = h.facts, h.host.python_interpreter
    required = (
        f"Python ≥{MIN_TARGET_PYTHON[0]}.{MIN_TARGET_PYTHON[1]} (ansible-core 2.18 runs its modules with it)"
    )
    why = (
        "Every Ansible module runs on the host with Python. Without it Ansible fails with "
        "'/usr/bin/python3: not found' (older versions: MODULE FAILURE, looking like an SSH problem)."
    )
    chosen = choose_interpreter(h)
    if chosen and (wanted is None or chosen.path == wanted):
        if chosen.path == STANDARD_PYTHON or wanted == chosen.path:
            source = " (named in the spec)" if wanted else ""
            observed = f"{chosen.path} {chosen.version}{source} → ansible_python_interpreter"
            return h.result("python", "pass", observed, required)
        return h.result(
            "python",
            "warn",
            f"only {chosen.path} {chosen.version}",
            required,
            f"Ansible's interpreter discovery does not look in {chosen.path}.",
            f"Set ansible_python_interpreter={chosen.path} for this host.",
            "set_python_interpreter",
        )
    if chosen:  # the spec names an interpreter that is missing or too old, but another one works
        return h.result(
            "python",
            "fail",
            f"{wanted} (from the spec) is missing or too old; {chosen.path} {chosen.version} works",
            required,
            why,
            f"Set ansible_python_interpreter={chosen.path} for this host.",
            "set_python_interpreter",
        )
    found = ", ".join(f"{i.path} {i.version}" for i in facts.interpreters) or "no Python at all"
    if facts.os_id == "flatcar":
        return h.result(
            "python",
            "warn",
            found,
            required,
            "Flatcar has no package manager: Kubespray's bootstrap installs PyPy into /opt/bin/python.",
            "Nothing to do when the host can download from the internet during the install.",
        )
    if facts.package_manager in ("apt-get", "dnf", "yum", "zypper"):
        return h.result(
            "python",
            "fail",
            found,
            required,
            why,
            f"Install python3 ({facts.package_manager}) and use {STANDARD_PYTHON}.",
            "install_python3",
        )
    return h.result(
        "python", "fail", found, required, why, "Install Python 3 with the host's package manager."
    )


def check_ip_forward(h: HostInput) -> CheckResult:
    value = h.facts.ip_forward
    required = "net.ipv4.ip_forward = 1"
    if value == 1:
        return h.result("ip_forward", "pass", "1", required)
    if value is None:
        return h.result("ip_forward", "warn", "unknown (unreadable)", required)
    return h.result(
        "ip_forward",
        "fail",
        str(value),
        required,
        "Pods and NodePorts are routed through the host: with forwarding off, traffic between nodes "
        "and into pods is dropped, and kubeadm's preflight refuses the node.",
        "Enable it now and at boot: "
        "echo 'net.ipv4.ip_forward = 1' | sudo tee /etc/sysctl.d/99-kwizard-ip-forward.conf "
        "&& sudo sysctl -w net.ipv4.ip_forward=1",
        "enable_ip_forward",
    )


def check_os(h: HostInput) -> CheckResult:
    facts = h.facts
    observed = facts.os_pretty or f"{facts.os_id} {facts.os_version_id}".strip() or "unknown"
    platform = platform_for(facts.os_id)
    why = "Kubespray installs packages and configures services per distribution."
    if platform is None:
        return h.result(
            "os",
            "fail",
            observed,
            SUPPORTED_SUMMARY,
            why + f" It stops with '{facts.os_id or 'this OS'} is not a known OS'.",
            "Reinstall the host with a supported distribution.",
        )
    if not platform.supports(facts.os_version_id):
        return h.result(
            "os",
            "warn",
            observed,
            platform.describe(),
            why + " This version is not in its tested list; the install may still work.",
            f"Prefer {platform.describe()}.",
        )
    if platform.experimental:
        return h.result(
            "os", "warn", observed, platform.describe(), "Kubespray calls its support experimental."
        )
    return h.result("os", "pass", observed, platform.describe())


def check_systemd(h: HostInput) -> CheckResult:
    required = "systemd as the init system"
    if h.facts.systemd:
        return h.result("systemd", "pass", "systemd", required)
    return h.result(
        "systemd",
        "fail",
        f"no systemd (PID 1 is {h.facts.pid1 or 'unknown'})",
        required,
        "Kubespray stops on 'Stop if non systemd OS type': kubelet, containerd and etcd run as systemd "
        "services.",
        "Use a distribution booted with systemd (containers and chroots are not enough).",
    )


def _kernel_version(release: str) -> tuple[int, ...]:
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", release)
    return tuple(int(g) for g in match.groups() if g is not None) if match else ()


def check_kernel(h: HostInput) -> CheckResult:
    version = _kernel_version(h.facts.kernel)
    required = "≥4.19 (Kubespray's recommendation)"
    if not version:
        return h.result("kernel", "warn", h.facts.kernel or "unknown", required)
    if h.spec.kubespray.network_plugin == "cilium" and version < (4, 9, 17):
        return h.result(
            "kernel",
            "fail",
            h.facts.kernel,
            "≥4.9.17 for Cilium",
            "Kubespray stops on 'Stop if kernel version is too low for cilium'.",
            "Upgrade the kernel or choose another network plugin.",
        )
    if version < RECOMMENDED_KERNEL:
        return h.result(
            "kernel",
            "warn",
            h.facts.kernel,
            required,
            "Older kernels lack features containerd and the CNI plugins expect (cgroup v2, eBPF, nftables).",
            "Upgrade the kernel (a newer distribution release).",
        )
    return h.result("kernel", "pass", h.facts.kernel, required)


def check_swap(h: HostInput) -> CheckResult:
    facts = h.facts
    if not facts.swap_active and facts.swap_mb == 0:
        return h.result("swap", "pass", "off", "off (kubelet's default)")
    where = ", ".join(facts.swap_active) or "active"
    return h.result(
        "swap",
        "warn",
        f"{facts.swap_mb} MB ({where})",
        "off (kubelet's default)",
        "kubelet refuses to start with swap on; Kubespray turns it off (swapoff -a, /etc/fstab) by itself.",
        "Nothing to do unless the host needs swap for something else.",
    )


def check_clock(h: HostInput) -> CheckResult:
    skew = h.facts.clock_skew
    required = f"within {MAX_CLOCK_SKEW:.0f} s of this computer"
    if skew is None:
        return h.result("clock", "warn", "unknown", required)
    observed = f"{skew:+.0f} s"
    if abs(skew) <= MAX_CLOCK_SKEW:
        return h.result("clock", "pass", observed, required)
    return h.result(
        "clock",
        "fail",
        observed,
        required,
        "Certificates are 'not yet valid' or 'expired' on a host whose clock is off, and etcd elections "
        "misbehave: the errors look unrelated to time.",
        f"Turn on time synchronisation: {h.sudo_prefix()}timedatectl set-ntp true (or chrony), "
        "and check this computer's clock too.",
    )


def check_nameserver(h: HostInput) -> CheckResult:
    servers = h.facts.nameservers
    required = "a nameserver in /etc/resolv.conf"
    if servers:
        return h.result("nameserver", "pass", ", ".join(servers), required)
    return h.result(
        "nameserver",
        "fail",
        "none",
        required,
        "Kubespray stops on 'nameserver should not be empty in /etc/resolv.conf'; CoreDNS forwards to it.",
        "Configure DNS on the host (DHCP, netplan, or a 'nameserver' line in /etc/resolv.conf).",
    )
