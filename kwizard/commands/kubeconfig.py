"""`kwizard kubeconfig [CLUSTER]`: fetch admin.conf and merge it into your kubeconfig as a named context."""

from __future__ import annotations

import argparse
from pathlib import Path

from kwizard.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cluster", nargs="?", help="cluster name (default: the cluster opened last)")
    parser.add_argument(
        "--admin-conf",
        metavar="FILE",
        help="use this admin.conf instead of Kubespray's artifact or fetching it over SSH",
    )


def run(args: argparse.Namespace) -> int:
    from kwizard import kubeconfig
    from kwizard.commands._cluster import open_cluster, phase_context

    spec, ws = open_cluster(args.cluster)
    ctx = phase_context(spec, ws.create())
    if args.admin_conf:
        path = Path(args.admin_conf).expanduser()
        try:
            text, source = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError("Cannot read admin.conf", f"{path}: {exc}", "Check the path.") from None
    else:
        text, source = kubeconfig.fetch_admin_conf(ctx)
    endpoint, outcome = kubeconfig.install(ctx, text, source)
    print(f"Context {outcome.context!r} → {endpoint.url} ({endpoint.source})")
    print(f"  written to {outcome.path} (and {ws.kubeconfig}, mode 0600)")
    if outcome.backup:
        print(f"  previous file saved as {outcome.backup}")
    if outcome.current_context != outcome.context:
        print(f"  your current context stays {outcome.current_context!r}; use --context {outcome.context}")
    problem = kubeconfig.check_api(endpoint.url, kubeconfig.workspace_ca(ws.kubeconfig))
    if problem:
        print(f"Warning: kubectl --context {outcome.context} will fail: {problem}")
    else:
        print(f"  TLS handshake with {endpoint.url} verified against the cluster's CA")
    print(f"Try: kubectl --context {outcome.context} get nodes")
    return 0
