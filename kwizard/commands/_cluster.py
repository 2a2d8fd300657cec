"""Shared by the per-cluster commands (kubeconfig, expose): find a saved cluster and build a context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kwizard.errors import InputError
from kwizard.paths import Workspace, last_cluster, workspace

if TYPE_CHECKING:
    from kwizard.engine.phase import PhaseContext
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


def phase_context(spec: ClusterSpec, ws: Workspace) -> PhaseContext:
    """A context for running one phase from the command line; passwords come from the named env vars."""
    from kwizard.engine.phase import PhaseContext
    from kwizard.options import RunOptions
    from kwizard.service.secrets import resolve_secrets

    secrets, _ = resolve_secrets(spec)

    def say(event: object) -> None:
        text = getattr(event, "data", {}).get("text") if getattr(event, "kind", "") == "log" else None
        if text:
            print(text)

    return PhaseContext(spec=spec, ws=ws, options=RunOptions(), secrets=secrets, emit=say)
