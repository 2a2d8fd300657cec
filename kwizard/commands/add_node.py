"""`kwizard add-node CLUSTER HOST…`: the new hosts get access and preflight, Kubespray adds them (scale.yml
for workers, the documented cluster.yml procedure for control plane and etcd), then they join the preset."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from kwizard.errors import InputError

if TYPE_CHECKING:
    from kwizard.day2.addition import PlaybookStep


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kwizard.commands._cluster import add_run_arguments

    parser.add_argument("cluster", metavar="CLUSTER", help="the cluster's name")
    parser.add_argument(
        "hosts",
        metavar="HOST",
        nargs="+",
        help="hosts as on the Hosts step: 10.0.0.21, 10.0.0.[21:23], node6=10.0.0.16, root@10.0.0.21:2222, "
        "or one quoted 'NAME ADDRESS ROLES' line",
    )
    parser.add_argument(
        "--role",
        metavar="ROLE,…",
        help="roles of the hosts that name none (default: worker); e.g. control_plane,etcd",
    )
    parser.add_argument(
        "--yes", "-y", action="store_true", default=argparse.SUPPRESS, help="add without asking (headless)"
    )
    parser.add_argument(
        "--ignore-preflight",
        metavar="CHECK,...",
        default=argparse.SUPPRESS,
        help="preflight checks of the new hosts whose failure does not stop the run",
    )
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from kwizard.commands._cluster import ask, day2_options, interactive, open_cluster, refuse_if_reset
    from kwizard.day2 import phase_table
    from kwizard.day2.addition import add_node_operation, playbook_steps
    from kwizard.engine.journal import cluster_lock
    from kwizard.headless import run_headless
    from kwizard.preflight.phase import validate_acknowledgements

    spec, ws = open_cluster(args.cluster)
    ws = ws.create()
    with cluster_lock(ws):  # before anything is read for the run or written
        refuse_if_reset(ws, "no cluster to join")
        addition, operation = add_node_operation(spec, args.hosts, args.role)
        steps = playbook_steps(operation["hosts"])
        listed = ", ".join(
            f"{host.name} ({host.address}: {', '.join(host.roles)})" for host in addition.hosts
        )
        print(f"Adding {listed} to {ws.cluster!r}.")
        print("Kubespray: " + " → ".join(_describe(step) for step in steps))
        if not getattr(args, "yes", False):
            if not interactive():
                raise InputError(
                    "Confirmation needed",
                    f"Adding {', '.join(addition.names)} to {ws.cluster!r} runs Kubespray on the cluster.",
                    "Add --yes to add them without a question.",
                )
            if ask("Type yes to go on: ").lower() != "yes":
                print("Nothing was changed.")
                return 0
        options = day2_options(args, operation)
        ignored = getattr(args, "ignore_preflight", "") or ""
        checks = frozenset(part.strip() for part in ignored.split(",") if part.strip())
        options = replace(options, ignore_preflight=checks or options.ignore_preflight)
        validate_acknowledgements(options.ignore_preflight, addition.combined, "--ignore-preflight")
        return run_headless(spec, ws, options, phases=phase_table(operation), holds_lock=True)


def _describe(step: PlaybookStep) -> str:
    text = step.playbook + (f" --limit {step.limit}" if step.limit else "")
    return text + "".join(f" -e {name}={value}" for name, value in step.extravars.items())
