"""`kwizard clusters`: the saved clusters with their hosts, versions, last run and its status."""

from __future__ import annotations

import argparse
import json
import sys

from kwizard.errors import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the list as JSON on stdout"
    )


def run(args: argparse.Namespace) -> int:
    from kwizard.day2.overview import all_clusters, hosts_text
    from kwizard.paths import default_root

    clusters = all_clusters()
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps([c.to_json() for c in clusters], indent=1) + "\n")
        return EXIT_OK
    if not clusters:
        print(
            f"No saved clusters under {default_root()}. Create one with `kwizard` or kwizard --preset FILE."
        )
        return EXIT_OK
    from rich.table import Table, box

    from kwizard.headless.output import output_console

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("Cluster", "Hosts", "Kubespray", "Kubernetes", "Last run", "Status"):
        table.add_column(column, overflow="fold")
    for cluster in clusters:
        last = cluster.last_run
        status = "reset" if cluster.reset else (last.status if last else "never run")
        if cluster.problem:
            table.add_row(cluster.name, f"[red]{cluster.problem}[/]", "", "", "", status)
            continue
        table.add_row(
            cluster.name,
            f"{len(cluster.hosts)}: {hosts_text(cluster.hosts, 40)}",
            cluster.kubespray_version,
            cluster.kube_version,
            f"{last.when} {last.command}" if last else "",
            status,
        )
    output_console().print(table)  # a log or pipe gets whole lines
    print("Open one: kwizard, then Continue 'CLUSTER' on the Welcome screen (its home screen, day-2 actions)")
    return EXIT_OK
