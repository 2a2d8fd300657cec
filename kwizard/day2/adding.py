"""The phases of `add-node`: access and preflight for the new hosts, Kubespray's playbooks, the preset.

add-node:  access → preflight → facts → (etcd-join → etcd-config) → cluster | scale → [api-proxy]
           → update-preset

The new hosts travel in the recorded operation (name, address, roles…), so `kwizard --resume` adds the
same hosts. Until the last phase the cluster's preset and hosts.yaml stay as they were: Kubespray runs
against a staged hosts file beside hosts.yaml (so the inventory's group_vars apply) that lists the new
hosts too, and is removed when the playbook ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.day2.addition import PlaybookStep, playbook_steps, spec_with
from kwizard.spec import ClusterSpec, Host

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext, PhaseFunction, PhaseResult

ADD_NODE = "add-node"
STAGED_HOSTS = ".add-node.hosts.yaml"  # a dot file: Ansible skips it when it reads the folder as a whole
API_PROXY_PLAYBOOK = "restart_api_proxy.yml"


def add_node_rows(operation: Mapping[str, Any]) -> list[tuple[str, str, PhaseFunction]]:
    """(phase, title, function) of an add-node run, from its recorded operation."""
    hosts = list(operation["hosts"])
    rows: list[tuple[str, str, PhaseFunction]] = [
        ("access", "SSH access (new hosts)", access_phase),
        ("preflight", "Preflight checks (new hosts)", preflight_phase),
    ]
    rows += [(step.phase, step.title, _playbook_phase(step)) for step in playbook_steps(hosts)]
    if operation.get("restart_api_proxy"):
        rows.append(("api-proxy", "Restart nginx-proxy on every node", api_proxy_phase))
    rows.append(("update-preset", "Update preset and inventory", update_preset_phase))
    return rows


def new_hosts(ctx: PhaseContext) -> list[Host]:
    return [Host.model_validate(data) for data in ctx.options.operation["hosts"]]


def combined(ctx: PhaseContext) -> ClusterSpec:
    """The cluster with the new hosts (the saved preset already has them after update-preset)."""
    return spec_with(ctx.spec, new_hosts(ctx))


def with_results(ctx: PhaseContext) -> PhaseContext:
    """ctx whose results hold the cluster's earlier access and preflight data, and this run's preflight
    interpreters for the new hosts on top, so the inventory names every host's Python."""
    from kwizard.engine.journal import recorded_results
    from kwizard.protocol.outputs import PreflightOutput

    earlier = recorded_results(ctx.ws, ("access", "preflight"))
    results = {**earlier, **ctx.results}
    before, now = PreflightOutput.of(earlier), PreflightOutput.of(ctx.results)
    interpreters = {
        **(before.python_interpreters if before else {}),
        **(now.python_interpreters if now else {}),
    }
    preflight = now or before or PreflightOutput()
    results["preflight"] = replace(preflight, python_interpreters=interpreters).to_data()
    return replace(ctx, results=results)


def access_phase(ctx: PhaseContext) -> PhaseResult:
    """The cluster's key on the new hosts (password once when they refuse it), their host keys trusted."""
    from kwizard.access import run_phase

    return run_phase(replace(ctx, spec=combined(ctx)), hosts=new_hosts(ctx))


def preflight_phase(ctx: PhaseContext) -> PhaseResult:
    """Preflight of the new hosts; its data keeps the other hosts' interpreters (the next run's inventory
    is rendered from the newest successful preflight)."""
    from kwizard.preflight.phase import run_phase
    from kwizard.protocol.outputs import PreflightOutput
    from kwizard.protocol.phase import PhaseResult

    result = run_phase(replace(ctx, spec=combined(ctx)), hosts=new_hosts(ctx))
    ctx.results["preflight"] = dict(result.data)
    every = PreflightOutput.of(with_results(ctx).results)
    interpreters = every.python_interpreters if every else {}
    return PhaseResult(result.status, result.summary, {**result.data, "python_interpreters": interpreters})


@contextlib.contextmanager
def staged_hosts(ctx: PhaseContext) -> Iterator[Path]:
    """hosts.yaml of the cluster with the new hosts, beside the cluster's own, for one playbook."""
    from kwizard.fsutil import atomic_write, ensure_private_dir
    from kwizard.inventory import HOSTS_FILE, render

    ensure_private_dir(ctx.ws.inventory_dir)
    path = ctx.ws.inventory_dir / STAGED_HOSTS
    atomic_write(path, render(combined(ctx), ctx.ws.known_hosts, ctx.results)[HOSTS_FILE])
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _playbook_phase(step: PlaybookStep) -> PhaseFunction:
    def run(ctx: PhaseContext) -> PhaseResult:
        from kwizard.kubespray import run_kubespray_playbook

        ctx = with_results(ctx)
        with staged_hosts(ctx) as hosts_file:
            return run_kubespray_playbook(
                ctx,
                step.phase,
                step.playbook,
                extravars=dict(step.extravars) or None,
                limit=step.limit,
                hosts_file=hosts_file,
            )

    return run


def api_proxy_phase(ctx: PhaseContext) -> PhaseResult:
    """Every node's nginx-proxy restarted, so that it reads the API server list Kubespray rewrote."""
    from kwizard.loadbalancer.deploy import PLAYBOOKS, failure_summary
    from kwizard.protocol.phase import PhaseResult
    from kwizard.runner import run_playbook

    ctx = with_results(ctx)
    variables = {"kwizard_container_manager": ctx.spec.kubespray.container_manager}
    with staged_hosts(ctx) as hosts_file:
        result = run_playbook(
            ctx, "api-proxy", PLAYBOOKS / API_PROXY_PLAYBOOK, hosts_file, extravars=variables
        )
    data = {"rc": result.rc, "artifact_dir": str(result.artifact_dir) if result.artifact_dir else None}
    if result.ok:
        return PhaseResult("ok", "nginx-proxy restarted on every node", data)
    if result.status == "canceled":
        return PhaseResult("interrupted", "the nginx-proxy restart was stopped", data)
    return PhaseResult("failed", failure_summary(result), {**data, "failures": result.failures})


def update_preset_phase(ctx: PhaseContext) -> PhaseResult:
    """The new hosts join the preset (saved) and the inventory (rewritten)."""
    from kwizard import preset as presets
    from kwizard.inventory import build
    from kwizard.protocol.phase import PhaseResult

    names = [host.name for host in new_hosts(ctx)]
    saved = presets.load(ctx.ws.preset_file)  # an earlier attempt of this phase may have saved it already
    grown = spec_with(saved, new_hosts(ctx))
    if grown is not saved:
        presets.save(grown, ctx.ws.preset_file)
    outcome = build(with_results(replace(ctx, spec=grown)), phase="update-preset")
    summary = (
        f"{', '.join(names)} added to {ctx.ws.preset_file.name} and {outcome.hosts_file.name}; "
        f"{len(grown.hosts)} hosts in the cluster"
    )
    return PhaseResult(
        "ok",
        summary,
        {"added": names, "preset": str(ctx.ws.preset_file), "inventory": str(outcome.hosts_file)},
    )
