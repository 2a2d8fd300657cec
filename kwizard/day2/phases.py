"""The phase lists of the day-2 commands: each a run of the engine, journalled and resumable.

remove-node:  [facts] → remove-node → update-preset
add-node:     see kwizard.day2.adding
reset:        reset → mark-reset
upgrade, backup, restore: their own modules (kwizard.day2.upgrade, …), each with its PHASES

The command's arguments travel in `RunOptions.operation` (recorded with the run), so `kwizard --resume`
continues the same removal of the same nodes. The preset and the inventory change only in the last phase,
after Kubespray succeeded: a failed run leaves both as they were.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from kwizard.errors import InputError

if TYPE_CHECKING:
    from kwizard.engine.pipeline import PhaseDefinition
    from kwizard.protocol.phase import PhaseContext, PhaseFunction, PhaseResult

ADD_NODE = "add-node"
REMOVE_NODE = "remove-node"
RESET = "reset"
RESET_MARKER = "reset.json"
# What the inventory is rendered from besides the spec: the key access made, preflight's interpreters.
_EARLIER = ("access", "preflight")


def phase_table(operation: Mapping[str, Any]) -> tuple[PhaseDefinition, ...]:
    """The phases of a day-2 run, from its recorded operation."""
    from kwizard.engine.pipeline import PhaseDefinition

    command = operation.get("command")
    rows: list[tuple[str, str, PhaseFunction]]
    if command == REMOVE_NODE:
        facts = [("facts", "Kubespray facts.yml", facts_phase)] if operation.get("ungraceful") else []
        rows = [
            *facts,
            (REMOVE_NODE, "Kubespray remove-node.yml", remove_node_phase),
            ("update-preset", "Update preset and inventory", update_preset_phase),
        ]
    elif command == ADD_NODE:
        from kwizard.day2.adding import add_node_rows

        rows = add_node_rows(operation)
    elif command == RESET:
        rows = [
            (RESET, "Kubespray reset.yml", reset_phase),
            ("mark-reset", "Mark the cluster reset", mark_phase),
        ]
    elif command in _LIFECYCLE:
        rows = _lifecycle_rows(str(command))
    else:
        raise InputError(
            "Unknown day-2 run",
            f"The run was made by a command this kwizard does not know ({command!r}).",
            "Resume it with the kwizard version that started it, or start a new run.",
        )
    # inputs=(): a resume reruns a failed step whatever the preset says since (update-preset changes it).
    return tuple(PhaseDefinition(name, title, partial(_itself, run), ()) for name, title, run in rows)


# upgrade, backup and restore keep their phases in their own modules.
_LIFECYCLE = ("upgrade", "backup", "restore")


def _lifecycle_rows(command: str) -> list[Any]:  # (name, title, PhaseFunction) rows
    import importlib

    return list(importlib.import_module(f"kwizard.day2.{command}").PHASES)


def _itself(function: PhaseFunction) -> PhaseFunction:
    return function


def with_earlier_results(ctx: PhaseContext) -> PhaseContext:
    """ctx with the results of the cluster's last successful access and preflight phases, so that the
    inventory and the ssh key are the ones the cluster was built with."""
    from kwizard.engine.journal import recorded_results

    for name, data in recorded_results(ctx.ws, _EARLIER).items():
        ctx.results.setdefault(name, data)
    return ctx


def facts_phase(ctx: PhaseContext) -> PhaseResult:
    """playbooks/facts.yml without the unreachable nodes: remove-node.yml then gathers no facts itself
    (reset_nodes=false), and Kubespray's roles read the other hosts' facts from the cache."""
    from kwizard.kubespray import run_kubespray_playbook

    unreachable = [str(name) for name in ctx.options.operation.get("unreachable", [])]
    limit = ":".join(["all", *(f"!{name}" for name in unreachable)])
    return run_kubespray_playbook(with_earlier_results(ctx), "facts", "playbooks/facts.yml", limit=limit)


def remove_node_extravars(operation: Mapping[str, Any]) -> dict[str, Any]:
    """remove-node.yml's extra vars: the nodes, no prompt, and the ungraceful switches when confirmed."""
    extravars: dict[str, Any] = {"node": ",".join(operation["nodes"]), "skip_confirmation": True}
    if operation.get("ungraceful"):
        # Kubespray's docs for a node that is not online: skip its reset, let drain/etcd steps pass.
        extravars.update({"reset_nodes": False, "allow_ungraceful_removal": True})
    return extravars


def remove_node_phase(ctx: PhaseContext) -> PhaseResult:
    from kwizard.kubespray import run_kubespray_playbook

    missing = [
        name for name in ctx.options.operation["nodes"] if name not in {h.name for h in ctx.spec.hosts}
    ]
    if missing:  # the preset was edited since the command started: the inventory no longer has them
        raise InputError(
            "The nodes are no longer in the preset",
            f"{', '.join(missing)} left the preset after this removal started; remove-node.yml needs them "
            "in the inventory.",
            "Put them back in the preset and resume, or start a new removal.",
        )
    extravars = remove_node_extravars(ctx.options.operation)
    return run_kubespray_playbook(
        with_earlier_results(ctx), REMOVE_NODE, "remove-node.yml", extravars=extravars
    )


def update_preset_phase(ctx: PhaseContext) -> PhaseResult:
    """The removed nodes leave the preset (saved) and the inventory (rewritten)."""
    from kwizard import preset as presets
    from kwizard.day2.removal import spec_without
    from kwizard.inventory import build
    from kwizard.protocol.phase import PhaseResult

    names = [str(name) for name in ctx.options.operation["nodes"]]
    saved = presets.load(ctx.ws.preset_file)  # an earlier attempt of this phase may have saved it already
    remaining = spec_without(saved, names)
    if remaining is not saved:
        presets.save(remaining, ctx.ws.preset_file)
    outcome = build(with_earlier_results(replace(ctx, spec=remaining)), phase="update-preset")
    summary = (
        f"{', '.join(names)} removed from {ctx.ws.preset_file.name} and {outcome.hosts_file.name}; "
        f"{len(remaining.hosts)} hosts remain"
    )
    return PhaseResult(
        "ok",
        summary,
        {"removed": names, "preset": str(ctx.ws.preset_file), "inventory": str(outcome.hosts_file)},
    )


def reset_phase(ctx: PhaseContext) -> PhaseResult:
    from kwizard.kubespray import run_kubespray_playbook

    return run_kubespray_playbook(
        with_earlier_results(ctx), RESET, "reset.yml", extravars={"reset_confirmation": True}
    )


def mark_phase(ctx: PhaseContext) -> PhaseResult:
    """reset.json in the cluster's folder: when and by which run; the folder itself is kept."""
    from kwizard.fsutil import atomic_write
    from kwizard.protocol.outputs import KubesprayOutput
    from kwizard.protocol.phase import PhaseResult

    now = time.time()
    marker = {
        "cluster": ctx.ws.cluster,
        "reset_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)),
        "time": now,
        "run_id": ctx.run_id,
        "hosts": [host.name for host in ctx.spec.hosts],
        "kubespray": reset.version if (reset := KubesprayOutput.of(ctx.results, RESET)) else None,
    }
    path = ctx.ws.cluster_dir / RESET_MARKER
    atomic_write(path, json.dumps(marker, indent=1) + "\n")
    return PhaseResult("ok", f"cluster marked as reset in {path}; its folder and preset are kept", marker)


def reset_marker(cluster_dir: Any) -> dict[str, Any] | None:
    """The reset marker of a cluster folder, or None when the cluster was not reset."""
    try:
        data = json.loads((cluster_dir / RESET_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
