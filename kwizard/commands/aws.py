"""`kwizard aws destroy CLUSTER`: delete the AWS resources kwizard created for a cluster (plan first)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kwizard.errors import InputError

if TYPE_CHECKING:
    from kwizard.spec import ClusterSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="aws_action", metavar="ACTION", title="actions", required=True)
    destroy = actions.add_parser(
        "destroy",
        help="delete everything kwizard created on AWS for CLUSTER (its ledger and kwizard:cluster tags)",
        description="Delete the cluster's instances, NAT, addresses, subnets, route tables, security "
        "groups, VPC and IAM role, in dependency order. Shows what will be deleted first.",
    )
    destroy.add_argument("cluster", metavar="CLUSTER", help="the cluster's name")
    destroy.add_argument("--yes", "-y", action="store_true", help="delete without asking")


def print_provision_plan(spec: ClusterSpec, *, to_stderr: bool = False) -> None:
    """The plan of the provision phase, before anything is created."""
    from kwizard.aws.plan import provision_plan
    from kwizard.headless.output import output_console

    assert spec.provision is not None
    console = output_console(stderr=to_stderr)  # a log or pipe gets whole lines, not 80-column pieces
    plan = provision_plan(spec.provision)
    console.print(f"[bold]AWS hosts for {spec.name} in {spec.provision.region}[/] (what exists is kept):")
    for line in plan.text_lines():
        console.print(line, markup=False)


def run(args: argparse.Namespace) -> int:
    from kwizard.aws.client import connect
    from kwizard.aws.destroy import destroy, inventory
    from kwizard.aws.ledger import Ledger
    from kwizard.commands._cluster import ask, interactive, open_cluster
    from kwizard.engine.journal import cluster_lock
    from kwizard.headless.output import output_console

    spec, ws = open_cluster(args.cluster)
    ledger = Ledger.load(ws.cluster_dir, ws.cluster)
    region = ledger.region or (spec.provision.region if spec.provision else "")
    if not region:
        raise InputError(
            "Not a cluster kwizard created on AWS",
            f"{ws.cluster!r} has no AWS ledger and no provision section.",
            "Only hosts kwizard created can be destroyed by it; remove others in the EC2 console.",
        )
    console = output_console()  # a log or pipe gets whole lines
    clients = connect(region)
    with cluster_lock(ws):
        doomed = inventory(ledger, clients, ws.cluster)
        if not doomed:
            console.print(f"Nothing to delete: no AWS resource of {ws.cluster} exists in {region}.")
            return 0
        console.print(
            f"[bold]Deleting from {region}[/] (tagged kwizard:cluster={ws.cluster} or in its ledger):"
        )
        counts: dict[str, int] = {}
        for item in doomed:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        for kind, count in counts.items():
            console.print(f"  {count:>3} × {kind}", markup=False)
        if not args.yes:
            if not interactive():
                raise InputError(
                    "Confirmation needed",
                    f"Destroying deletes {len(doomed)} AWS resources of {ws.cluster!r}.",
                    f"Run: kwizard aws destroy {ws.cluster} --yes",
                )
            if ask(f"Type the cluster's name ({ws.cluster}) to delete them: ") != ws.cluster:
                console.print("Not confirmed; nothing was deleted.")
                return 2
        deleted = destroy(ledger, clients, ws.cluster, lambda text: console.print(f"  {text}", markup=False))
    console.print(f"[green]Deleted {len(deleted)} resources of {ws.cluster}.[/]")
    return 0
