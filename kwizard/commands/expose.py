"""`kwizard expose SERVICE --host NAME`: route a virtual host to a Service through the HA ingress."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from kwizard.errors import EnvironmentProblem, InputError, RemoteError

if TYPE_CHECKING:
    from kwizard.spec import VirtualHost

APPLY_TIMEOUT = 60
_UNREACHABLE = (
    "unable to connect to the server",
    "connection refused",
    "i/o timeout",
    "no route to host",
    "context deadline exceeded",
    "dial tcp",
    "tls handshake timeout",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", metavar="SERVICE", help="the Service to route to")
    parser.add_argument(
        "--namespace", "-n", default="default", help="the Service's namespace (default: default)"
    )
    parser.add_argument(
        "--host",
        required=True,
        metavar="NAME",
        help="virtual host name; without a dot, <NAME>.<domain> of the preset",
    )
    parser.add_argument("--port", type=int, default=80, metavar="P", help="the Service port (default: 80)")
    parser.add_argument(
        "--cluster", metavar="CLUSTER", help="cluster name (default: the cluster opened last)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the Ingress instead of applying it; nothing changes"
    )
    parser.add_argument("--output", "-o", choices=["yaml"], help="print the manifest (implies --dry-run)")


def build_vhost(spec_domain: str, service: str, namespace: str, host: str, port: int) -> VirtualHost:
    """A validated VirtualHost; bad names and ports become an InputError naming the argument."""
    from pydantic import ValidationError

    from kwizard.spec import VirtualHost, is_rfc1123

    full_host = host if "." in host else f"{host}.{spec_domain}"
    for label, value in (("SERVICE", service), ("--namespace", namespace)):
        if not is_rfc1123(value) or "." in value or len(value) > 63:
            raise InputError(
                "Invalid name",
                f"{label} {value!r} is not a valid Kubernetes name",
                "Use lower-case letters, digits and '-', starting and ending with a letter or digit.",
            )
    try:
        return VirtualHost(host=full_host.lower(), service=service, namespace=namespace, port=port)
    except ValidationError as exc:
        problem = "; ".join(str(e["msg"]) for e in exc.errors())
        raise InputError(
            "Invalid virtual host", problem, "Pass --host as a DNS name and --port between 1 and 65535."
        ) from None


def run(args: argparse.Namespace) -> int:
    from kwizard import preset
    from kwizard.commands._cluster import open_cluster
    from kwizard.loadbalancer import add_virtual_host, dns, manifests

    spec, ws = open_cluster(args.cluster)
    vhost = build_vhost(spec.loadbalancer.domain, args.service, args.namespace, args.host, args.port)
    text = manifests.to_yaml([manifests.ingress(vhost)])
    if args.dry_run or args.output:
        print(text, end="")
        return 0
    apply_manifest(text, ws.kubeconfig, spec.name)
    updated = add_virtual_host(spec, vhost)
    preset.save(updated, ws.preset_file)
    target = f"{vhost.namespace}/{vhost.service}:{vhost.port}"
    print(f"Ingress {vhost.host} → {target} applied; the virtual host is saved in {ws.preset_file}")
    port = spec.loadbalancer.http_node_port
    print(f"URL: http://{vhost.host}:{port}/  (once DNS points {vhost.host} at the LB nodes)")
    lines = [r for r in dns.records(updated) if r.name == vhost.host]
    if lines:
        print("DNS records to add:")
        print("\n".join("  " + line for line in dns.zone_lines(lines)))
    return 0


def apply_manifest(text: str, path: Path, context: str) -> None:
    """`kubectl apply -f -` against the workspace kubeconfig; failures become clear KwizardErrors."""
    if not path.is_file():
        raise InputError(
            "No kubeconfig for this cluster",
            f"{path} does not exist yet.",
            f"Fetch it first: kwizard kubeconfig {context}  (or use --dry-run to print the Ingress).",
        )
    kubectl = shutil.which("kubectl")
    if not kubectl:
        raise EnvironmentProblem(
            "kubectl not found",
            "kwizard expose applies the Ingress with kubectl, which is not on PATH.",
            "Install kubectl, or print the manifest with --dry-run and apply it elsewhere.",
        )
    command = [
        kubectl,
        f"--kubeconfig={path}",
        f"--context={context}",
        "--request-timeout=20s",
        "apply",
        "-f",
        "-",
    ]
    try:
        done = subprocess.run(command, input=text, capture_output=True, text=True, timeout=APPLY_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RemoteError(
            "Cluster unreachable",
            f"kubectl apply did not finish within {APPLY_TIMEOUT} s.",
            "Check that the API server is reachable from here (VPN, bastion tunnel, firewall on 6443).",
        ) from None
    if done.returncode == 0:
        return
    error = done.stderr.strip() or done.stdout.strip()
    if any(marker in error.lower() for marker in _UNREACHABLE):
        # kubectl wraps the network error in advice about --validate=false that would mislead here.
        found = re.search(r"dial tcp \S+: [^;\n\"]+|Unable to connect to the server: [^\n]+", error)
        reason = found.group(0) if found else error.splitlines()[-1]
        raise RemoteError(
            "Cluster unreachable",
            f"kubectl could not reach the API server of {context!r}: {reason}",
            "Check that the cluster is up and its API (port 6443) is reachable from here; behind a bastion, "
            "open a tunnel first. Nothing was changed, the preset included.",
        )
    raise RemoteError(
        "kubectl apply failed",
        error,
        "Fix the cause above and run the command again; the preset was not changed.",
    )
