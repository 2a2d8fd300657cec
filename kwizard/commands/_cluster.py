"""Shared by the per-cluster commands (kubeconfig, expose, remove-node, reset): find a saved cluster,
build a context, and the options and questions of a day-2 run."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from kwizard.errors import InputError
from kwizard.paths import Workspace, last_cluster, workspace

if TYPE_CHECKING:
    from kwizard.options import RunOptions
    from kwizard.protocol.phase import PhaseContext
    from kwizard.spec import ClusterSpec


def open_cluster(name: str | None) -> tuple[ClusterSpec, Workspace]:
    """The saved spec and workspace of cluster `name` (default: the one opened last)."""
    from kwizard import preset

    cluster = name or last_cluster()
    if not cluster:
        raise InputError(
            "Which cluster?",
            "No cluster was named and none was opened before.",
            "Name it, e.g. `kwizard --resume mycluster` or `kwizard kubeconfig mycluster`.",
        )
    ws = workspace(cluster)
    if not ws.preset_file.exists():
        raise InputError(
            "Unknown cluster",
            f"There is no saved cluster {cluster!r} under {ws.root}.",
            "Check the name (and --workdir / KWIZARD_WORKDIR), or create it with kwizard --preset FILE.",
        )
    return preset.load(ws.preset_file), ws


def phase_context(spec: ClusterSpec, ws: Workspace, options: RunOptions | None = None) -> PhaseContext:
    """A context for running one phase from the command line; passwords come from the named env vars,
    new host keys are trusted only as `options` or the preset say."""
    from kwizard.options import RunOptions
    from kwizard.service import runs

    def say(event: object) -> None:
        text = getattr(event, "data", {}).get("text") if getattr(event, "kind", "") == "log" else None
        if text:
            print(text)

    return runs.phase_context(spec, ws, options or RunOptions(), emit=say)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a day-2 command's run; each may also come before the command (`kwizard --json …`)."""
    keep = argparse.SUPPRESS  # a default here would hide the same option given before the command
    parser.add_argument(
        "--json", action="store_true", default=keep, help="print a machine-readable summary on stdout"
    )
    parser.add_argument(
        "--kubespray-dir",
        metavar="DIR",
        default=keep,
        help="use this Kubespray checkout instead of a pinned clone",
    )
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        default=keep,
        help="trust host keys seen for the first time (changed keys are still refused)",
    )


def day2_options(args: argparse.Namespace, operation: dict[str, Any]) -> RunOptions:
    """RunOptions of a day-2 run: its operation, plus the options shared with the pipeline."""
    from kwizard.options import RunOptions

    return RunOptions(
        json=bool(getattr(args, "json", False)),
        kubespray_dir=getattr(args, "kubespray_dir", None),
        accept_new_host_keys=bool(getattr(args, "accept_new_host_keys", False)),
        operation=operation,
    )


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def ask(question: str) -> str:
    """One typed answer (stripped); Ctrl-D counts as no answer."""
    try:
        return input(question).strip()
    except EOFError:
        return ""


def refuse_if_reset(ws: Workspace, nothing: str) -> None:
    """InputError when the cluster was reset (`kwizard reset`): `nothing` says what it therefore lacks."""
    from kwizard.day2 import reset_marker

    if reset_marker(ws.cluster_dir) is not None:
        raise InputError(
            "The cluster was reset",
            f"{ws.cluster!r} was reset (see {ws.cluster_dir / 'reset.json'}); {nothing}.",
            f"Build it again first: kwizard --preset {ws.preset_file} --yes",
        )
