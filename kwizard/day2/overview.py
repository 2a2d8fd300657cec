"""What a saved cluster is and what was last done to it: for `kwizard clusters` and the cluster's home
screen in the wizard. Read from the cluster's folder only (preset, run journals, reset marker)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kwizard.errors import KwizardError
from kwizard.paths import Workspace, default_root, known_clusters, workspace

BUILD = "build"  # what a run of the wizard's pipeline is called next to the day-2 commands


@dataclass(frozen=True)
class HostLine:
    name: str
    address: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class RunLine:
    """One run of the cluster: its id, what it did (build or a day-2 command), status and when."""

    run_id: str
    command: str
    status: str
    started: float
    phases: tuple[str, ...] = ()

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started)) if self.started else "?"


@dataclass(frozen=True)
class ClusterOverview:
    """A saved cluster: its hosts and versions from the preset, its newest runs, whether it was reset."""

    name: str
    folder: Path
    hosts: tuple[HostLine, ...] = ()
    kubespray_version: str = ""
    kube_version: str = ""
    runs: tuple[RunLine, ...] = ()  # newest first
    reset: bool = False
    problem: str = ""  # why the preset could not be read (the rest is then empty)

    @property
    def last_run(self) -> RunLine | None:
        return self.runs[0] if self.runs else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["folder"] = str(self.folder)
        last = self.last_run
        data["last_run"] = asdict(last) if last else None
        return data


def overview(ws: Workspace, runs: int = 5) -> ClusterOverview:
    """The overview of one cluster with its `runs` newest runs."""
    from kwizard import preset as presets
    from kwizard.day2.phases import reset_marker

    recent = tuple(_runs(ws, runs))
    reset = reset_marker(ws.cluster_dir) is not None
    try:
        spec = presets.load(ws.preset_file)
    except KwizardError as error:
        return ClusterOverview(ws.cluster, ws.cluster_dir, runs=recent, reset=reset, problem=error.title)
    hosts = tuple(HostLine(h.name, h.address, tuple(h.roles)) for h in spec.hosts)
    return ClusterOverview(
        ws.cluster,
        ws.cluster_dir,
        hosts,
        spec.kubespray.version,
        spec.kubespray.kube_version,
        recent,
        reset,
    )


def all_clusters(root: Path | None = None) -> list[ClusterOverview]:
    """Every saved cluster under `root` (default: the workdir), by name."""
    base = root or default_root()
    return [overview(workspace(name, base), runs=1) for name in known_clusters(base)]


def _runs(ws: Workspace, count: int) -> list[RunLine]:
    from kwizard.engine.journal import RunJournal, list_runs

    lines: list[RunLine] = []
    for directory in reversed(list_runs(ws)):
        if len(lines) >= count:
            break
        try:
            record = RunJournal.load(directory).record
        except KwizardError:
            lines.append(RunLine(directory.name, "?", "unreadable", 0.0))
            continue
        operation = record.options.get("operation")
        command = operation.get("command") if isinstance(operation, dict) else None
        lines.append(
            RunLine(record.run_id, str(command or BUILD), record.status, record.created, record.selected)
        )
    return lines


def hosts_text(hosts: tuple[HostLine, ...], width: int = 60) -> str:
    """`lab1, lab2, lab4 (+2)` fitting in about `width` characters."""
    names = [h.name for h in hosts]
    shown: list[str] = []
    for name in names:
        if len(", ".join([*shown, name])) > width - 6:
            break
        shown.append(name)
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" (+{rest})" if rest else "")
