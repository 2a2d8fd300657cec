"""`kwizard upgrade CLUSTER --kube-version X`: Kubespray's upgrade-cluster.yml, then the preset pins X."""

from __future__ import annotations

import argparse

from kwizard.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from kwizard.commands._cluster import add_run_arguments

    parser.add_argument("cluster", metavar="CLUSTER", help="the cluster's name")
    parser.add_argument(
        "--kube-version",
        required=True,
        metavar="X",
        help="the Kubernetes version to upgrade to (e.g. 1.35.4)",
    )
    parser.add_argument(
        "--kubespray-version",
        metavar="Y",
        help="upgrade Kubespray too (its next release, e.g. v2.31.0); default: the pinned one",
    )
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        default=argparse.SUPPRESS,
        help="upgrade without asking (headless)",
    )
    add_run_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from kwizard.commands._cluster import ask, day2_options, interactive, open_cluster, refuse_if_reset
    from kwizard.day2 import phase_table
    from kwizard.day2.upgrade import plan_upgrade
    from kwizard.engine.journal import cluster_lock
    from kwizard.headless import run_headless
    from kwizard.kubespray.checkout import user_dir

    spec, ws = open_cluster(args.cluster)
    ws = ws.create()
    with cluster_lock(ws):
        refuse_if_reset(ws, "there is nothing to upgrade")
        options = day2_options(args, {})
        mine = user_dir(spec, options)
        upgrade = plan_upgrade(spec, args.kube_version, args.kubespray_version, mine)
        print(f"Upgrade of {ws.cluster}: {upgrade.text()}.")
        if mine is not None and upgrade.to_kubespray != upgrade.from_kubespray:
            print(f"The Kubespray checkout {mine} is used: it should be at {upgrade.to_kubespray}.")
        if not getattr(args, "yes", False):
            if not interactive():
                raise InputError(
                    "Confirmation needed",
                    f"Upgrading {ws.cluster!r} drains and upgrades its nodes one batch at a time.",
                    "Add --yes to upgrade without a question.",
                )
            if ask("Type yes to upgrade: ").lower() != "yes":
                print("Nothing was changed.")
                return 0
        operation = upgrade.operation()
        return run_headless(
            spec, ws, day2_options(args, operation), phases=phase_table(operation), holds_lock=True
        )
