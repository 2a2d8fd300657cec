"""`kwizard remove-node CLUSTER NAME…`: Kubespray's remove-node.yml, then the nodes leave the preset."""

from __future__ import annotations

import argparse

from kwizard.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kwizard.commands._cluster import add_run_arguments

    parser.add_argument("cluster", metavar="CLUSTER", help="the cluster's name")
    parser.add_argument("nodes", metavar="NAME", nargs="+", help="host names to remove, as in the preset")
    parser.add_argument(
        "--yes", "-y", action="store_true", default=argparse.SUPPRESS, help="remove without asking (headless)"
    )
    parser.add_argument(
        "--ungraceful",
        action="store_true",
        help="the nodes cannot be reached: remove them from the cluster without draining or resetting them",
    )
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from kwizard.commands._cluster import (
        day2_options,
        interactive,
        open_cluster,
        phase_context,
        refuse_if_reset,
    )
    from kwizard.day2 import REMOVE_NODE, phase_table
    from kwizard.day2.reach import unreachable
    from kwizard.day2.removal import plan_removal
    from kwizard.engine.journal import cluster_lock
    from kwizard.headless import run_headless

    spec, ws = open_cluster(args.cluster)
    ws = ws.create()
    with cluster_lock(ws):  # before anything is read for the run or written
        refuse_if_reset(ws, "it has no nodes to remove")
        removal = plan_removal(spec, args.nodes)
        options = day2_options(args, {})
        ctx = phase_context(spec, ws, options)
        print(f"Checking SSH to {', '.join(removal.names)}…")
        down = unreachable(ctx, removal.hosts)
        if down and len(down) < len(removal.hosts):
            up = [name for name in removal.names if name not in down]
            raise InputError(
                "Some of the nodes cannot be reached",
                f"{', '.join(down)} cannot be reached ({_reasons(down)}) but {', '.join(up)} can; Kubespray "
                "removes either all gracefully or all without resetting them.",
                f"Remove them in two commands: kwizard remove-node {ws.cluster} {' '.join(up)}, then "
                f"kwizard remove-node {ws.cluster} {' '.join(down)} --ungraceful.",
            )
        yes = bool(getattr(args, "yes", False))
        if down:
            print(f"Cannot reach {_reasons(down)}.")
            if not args.ungraceful and not (
                interactive() and not yes and _confirmed("Remove them without draining or resetting them?")
            ):
                raise InputError(
                    "The nodes cannot be reached",
                    f"{', '.join(down)} did not answer SSH ({_reasons(down)}); Kubespray can remove them "
                    "from the cluster only without draining or resetting them (allow_ungraceful_removal).",
                    "If they are gone for good, run the command again with --ungraceful; if they should be "
                    "up, bring them back and try again.",
                )
        elif args.ungraceful:
            print("All nodes answer SSH: --ungraceful is ignored (they are drained and reset).")
        if not yes:
            if not interactive():
                raise InputError(
                    "Confirmation needed",
                    f"Removing {', '.join(removal.names)} from {ws.cluster!r} drains and resets them.",
                    "Add --yes to remove them without a question.",
                )
            if not _confirmed(f"Remove {', '.join(removal.names)} from cluster {ws.cluster!r}?"):
                print("Nothing was changed.")
                return 0
        operation = {
            "command": REMOVE_NODE,
            "nodes": removal.names,
            "ungraceful": bool(down),
            "unreachable": sorted(down),
        }
        options = day2_options(args, operation)
        return run_headless(spec, ws, options, phases=phase_table(operation), holds_lock=True)


def _reasons(down: dict[str, str]) -> str:
    return "; ".join(f"{name}: {reason}" for name, reason in down.items())


def _confirmed(question: str) -> bool:
    from kwizard.commands._cluster import ask

    return ask(f"{question} Type yes to go on: ").lower() == "yes"
