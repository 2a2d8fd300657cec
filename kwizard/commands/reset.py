"""`kwizard reset CLUSTER`: Kubespray's reset.yml on every node; the cluster folder is kept, marked reset."""

from __future__ import annotations

import argparse

from kwizard.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kwizard.commands._cluster import add_run_arguments

    parser.add_argument("cluster", metavar="CLUSTER", help="the cluster's name")
    parser.add_argument(
        "--confirm",
        metavar="CLUSTER",
        help="headless: the cluster's name again, as the confirmation typed in a terminal",
    )
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from kwizard.commands._cluster import ask, day2_options, interactive, open_cluster
    from kwizard.day2 import RESET, phase_table
    from kwizard.engine.journal import cluster_lock
    from kwizard.headless import run_headless

    spec, ws = open_cluster(args.cluster)
    if args.confirm is None:
        if not interactive():
            raise InputError(
                "Confirmation needed",
                f"Resetting {ws.cluster!r} removes Kubernetes and its data from all {len(spec.hosts)} hosts.",
                f"Confirm with the cluster's name: kwizard reset {ws.cluster} --confirm {ws.cluster}",
            )
        print(f"This removes Kubernetes and its data from {', '.join(h.name for h in spec.hosts)}.")
        typed = ask(f"Type the cluster's name ({ws.cluster}) to reset it: ")
    else:
        typed = args.confirm
    if typed != ws.cluster:
        raise InputError(
            "Not confirmed",
            f"{typed!r} is not the cluster's name {ws.cluster!r}; nothing was changed.",
            f"Type (or pass to --confirm) exactly {ws.cluster}.",
        )
    ws = ws.create()
    operation = {"command": RESET}
    with cluster_lock(ws):
        return run_headless(
            spec, ws, day2_options(args, operation), phases=phase_table(operation), holds_lock=True
        )
