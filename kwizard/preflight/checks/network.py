"""Checks of the host's network: the ports its roles need are free, and its `ip` is really its own."""

from __future__ import annotations

import ipaddress

from kwizard.preflight.checks.base import HostInput
from kwizard.preflight.model import CheckResult
from kwizard.spec import ClusterSpec, Host

# Why each port must be free, by role (kubeadm's "[ERROR Port-N]" checks plus etcd and the NodePorts).
CONTROL_PLANE_PORTS = {6443: "kube-apiserver", 10257: "kube-controller-manager", 10259: "kube-scheduler"}
ETCD_PORTS = {2379: "etcd clients", 2380: "etcd peers"}
NODE_PORTS = {10250: "kubelet"}


def required_ports(spec: ClusterSpec, host: Host) -> dict[int, str]:
    """Port → what will listen there, for this host's roles."""
    ports: dict[int, str] = {}
    if any(host.has(r) for r in ("control_plane", "worker", "loadbalancer")):
        ports.update(NODE_PORTS)
    if host.has("control_plane"):
        ports.update(CONTROL_PLANE_PORTS)
    if host.has("etcd"):
        ports.update(ETCD_PORTS)
    lb = spec.loadbalancer
    if host.has("loadbalancer") and lb.enabled and "loadbalancer" in spec.phases:
        ports[lb.http_node_port] = "ingress HTTP NodePort"
        ports[lb.https_node_port] = "ingress HTTPS NodePort"
    return dict(sorted(ports.items()))


def check_ports(h: HostInput) -> CheckResult | None:
    ports = required_ports(h.spec, h.host)
    if not ports:
        return None
    required = "free: " + ", ".join(str(p) for p in ports)
    busy = [p for p in ports if p in h.facts.listening]
    if not busy:
        return h.result("ports", "pass", f"{len(ports)} ports free", required)
    described = []
    for port in busy:
        program = h.facts.program_on(port)
        described.append(
            f"{port} ({ports[port]}) used by {program}" if program else f"{port} ({ports[port]}) in use"
        )
    kubernetes_left = any(h.facts.program_on(p) in ("kube-apiserver", "etcd", "kubelet") for p in busy)
    fix = "Stop what listens there, or give the role to another host."
    if kubernetes_left:
        fix = "An earlier cluster still runs here: remove it first (Kubespray's reset.yml), then re-run."
    return h.result(
        "ports",
        "fail",
        "; ".join(described),
        required,
        "kubeadm stops on '[ERROR Port-N]: Port N is in use'; the component cannot bind its port.",
        fix,
    )


def _own_address(addresses: tuple[str, ...]) -> str | None:
    """The host's most likely cluster address: a global IPv4, else a global IPv6."""
    ordered = sorted(
        (ipaddress.ip_address(a) for a in addresses if _is_ip(a)),
        key=lambda a: (a.version, a.is_private is False),
    )
    usable = [a for a in ordered if not (a.is_loopback or a.is_link_local)]
    return str(usable[0]) if usable else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def check_ip(h: HostInput) -> CheckResult:
    bind = h.spec.bind_ip(h.host)
    addresses = h.facts.addresses
    own = _own_address(addresses)
    shown = ", ".join(a for a in addresses if _is_ip(a) and not ipaddress.ip_address(a).is_loopback)
    if bind is None:
        return h.result(
            "ip",
            "pass",
            f"no ip set; Kubespray uses the default address ({own or 'unknown'})",
            "an address of the host",
        )
    required = f"{bind} on one of the host's interfaces"
    if bind in addresses:
        return h.result("ip", "pass", bind, required)
    fix = "Set `ip` for this host to the address it has on the cluster network"
    fix += f" ({own})." if own else "."
    if not h.host.ip:
        fix += " On EC2 the public or Elastic IP is not on the host: use the private address as `ip`."
    return h.result(
        "ip",
        "fail",
        f"{bind} is not on the host (it has {shown or 'no addresses'})",
        required,
        "Kubespray stops on 'Stop if ip var does not match local ips'; components bind to `ip`.",
        fix,
    )
