"""`kwizard restore CLUSTER SNAPSHOT`: etcd back to a snapshot of `kwizard backup`, after a confirmation."""

from __future__ import annotations

import argparse

from kwizard.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kwizard.commands._cluster import add_run_arguments

    parser.add_argument("cluster", metavar="CLUSTER", help="the cluster's name")
    parser.add_argument(
        "snapshot",
        metavar="SNAPSHOT",
        help="a snapshot listed by `kwizard backup CLUSTER --list` (or its path)",
    )
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        default=argparse.SUPPRESS,
        help="restore without asking (headless); what is lost is printed all the same",
    )
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import time

    from kwizard.commands._cluster import ask, day2_options, interactive, open_cluster, refuse_if_reset
    from kwizard.day2 import phase_table
    from kwizard.day2.backup import etcd_members, find_snapshot, sha256_of
    from kwizard.day2.restore import operation, what_is_lost
    from kwizard.engine.journal import cluster_lock
    from kwizard.headless import run_headless

    spec, ws = open_cluster(args.cluster)
    ws = ws.create()
    with cluster_lock(ws):
        refuse_if_reset(ws, "it has no etcd to restore")
        etcd_members(spec)
        snapshot = find_snapshot(ws, args.snapshot)
        print(f"Checking {snapshot.path}…")
        if sha256_of(snapshot.path) != snapshot.sha256:
            raise InputError(
                "The snapshot is damaged",
                f"The sha256 of {snapshot.path} is not the {snapshot.sha256} recorded when it was taken.",
                "Restore another snapshot (kwizard backup CLUSTER --list), or take a new backup.",
            )
        print(what_is_lost(spec, snapshot))
        if not getattr(args, "yes", False):
            if not interactive():
                raise InputError(
                    "Confirmation needed",
                    f"Restoring loses everything written to {ws.cluster!r} after {snapshot.taken_at}.",
                    f"Add --yes: kwizard restore {ws.cluster} {args.snapshot} --yes",
                )
            if ask(f"Type the cluster's name ({ws.cluster}) to restore it: ") != ws.cluster:
                print("Nothing was changed.")
                return 0
        wanted = operation(snapshot, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        return run_headless(spec, ws, day2_options(args, wanted), phases=phase_table(wanted), holds_lock=True)
