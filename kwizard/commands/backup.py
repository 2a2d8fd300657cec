"""`kwizard backup CLUSTER`: an etcd snapshot fetched into the cluster's folder; `--list` shows them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kwizard.errors import EXIT_OK

if TYPE_CHECKING:
    from kwizard.paths import Workspace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kwizard.commands._cluster import add_run_arguments

    parser.add_argument("cluster", metavar="CLUSTER", help="the cluster's name")
    parser.add_argument("--list", action="store_true", help="list the cluster's snapshots instead")
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from kwizard.commands._cluster import day2_options, open_cluster, refuse_if_reset
    from kwizard.day2 import phase_table
    from kwizard.day2.backup import etcd_members
    from kwizard.engine.journal import cluster_lock
    from kwizard.headless import run_headless

    spec, ws = open_cluster(args.cluster)
    if args.list:
        return _list(ws)
    ws = ws.create()
    with cluster_lock(ws):
        refuse_if_reset(ws, "it has no etcd to back up")
        etcd_members(spec)  # refused before a run starts
        operation = {"command": "backup"}
        return run_headless(
            spec, ws, day2_options(args, operation), phases=phase_table(operation), holds_lock=True
        )


def _list(ws: Workspace) -> int:
    from rich.table import Table

    from kwizard.day2.backup import backups_dir, list_snapshots
    from kwizard.headless.output import output_console

    console = output_console()  # a log or pipe gets whole lines
    snapshots = list_snapshots(ws)
    if not snapshots:
        console.print(f"Cluster {ws.cluster} has no snapshots yet. Take one: kwizard backup {ws.cluster}")
        return EXIT_OK
    table = Table(title=f"etcd snapshots of {ws.cluster} ({backups_dir(ws)})", title_justify="left")
    # The name is what `kwizard restore` takes and the time is how one is chosen: never cut; on a
    # narrow terminal the other columns give way.
    table.add_column("Snapshot", no_wrap=True, min_width=max(len(s.path.name) for s in snapshots))
    table.add_column("Taken (UTC)", no_wrap=True, min_width=max(len(s.taken_at) for s in snapshots))
    for column in ("On", "Revision", "Keys", "Size", "sha256"):
        table.add_column(column)
    for snapshot in snapshots:
        status = snapshot.meta.get("status") or {}
        table.add_row(
            snapshot.path.name,
            snapshot.taken_at,
            str(snapshot.meta.get("host", "?")),
            str(status.get("revision", "?")),
            str(status.get("totalKey", "?")),
            str(snapshot.meta.get("size", "?")),
            snapshot.sha256[:16] + "…",
        )
    console.print(table)
    console.print(f"Restore one: kwizard restore {ws.cluster} SNAPSHOT")
    return EXIT_OK
