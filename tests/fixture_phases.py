"""A phase table of real playbooks (tests/fixtures/playbooks), shaped like the product's pipeline.

Kubespray itself cannot run here, so engine tests give the Engine this table: `inventory` writes a real
hosts.yaml with Kubespray's groups from the spec's roles, `kubespray` runs the Kubespray-shaped
cluster.yml through the real runner, `apps` runs a second playbook. The spec's `kubespray.extra_vars`
reach the playbooks as extra vars (as they would reach Kubespray), which is how tests point them at
local connections or the lab and where they put marker files.

Also runnable as `python -m tests.fixture_phases [kwizard arguments]`: the kwizard command line, with
this table instead of the product's phases (used by the kill/resume tests that need a real process).
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import yaml

from kwizard.engine.fingerprint import PHASE_INPUTS
from kwizard.engine.pipeline import PhaseDefinition
from kwizard.fsutil import atomic_write
from kwizard.protocol.phase import PhaseContext, PhaseResult
from kwizard.runner import run_playbook
from kwizard.spec import ClusterSpec

PLAYBOOKS = Path(__file__).parent / "fixtures" / "playbooks"
GROUPS = {"control_plane": "kube_control_plane", "worker": "kube_node", "etcd": "etcd"}


def inventory_phase(ctx: PhaseContext) -> PhaseResult:
    """Write hosts.yaml with Kubespray's groups (kube_control_plane, kube_node, etcd, k8s_cluster)."""
    hosts: dict[str, dict[str, object]] = {}
    groups: dict[str, dict[str, dict[str, None]]] = {group: {} for group in GROUPS.values()}
    for host in ctx.spec.hosts:
        entry: dict[str, object] = {"ansible_host": host.address, "ansible_user": ctx.spec.ssh_user(host)}
        entry["ansible_port"] = ctx.spec.ssh_port(host)
        if ctx.spec.bind_ip(host):
            entry["ip"] = ctx.spec.bind_ip(host)
        hosts[host.name] = entry
        for role in host.roles:
            if role in GROUPS:
                groups[GROUPS[role]][host.name] = None
    children: dict[str, object] = {group: {"hosts": members} for group, members in groups.items()}
    children["k8s_cluster"] = {"children": {"kube_control_plane": None, "kube_node": None}}
    inventory = {"all": {"hosts": hosts, "children": children}}
    path = ctx.ws.inventory_dir / "hosts.yaml"
    atomic_write(path, yaml.safe_dump(inventory, sort_keys=False))
    ctx.log("inventory", f"wrote {path} ({len(hosts)} hosts)")
    return PhaseResult("ok", f"{len(hosts)} hosts", {"inventory": str(path)})


def playbook_phase(name: str, playbook: str, ctx: PhaseContext) -> PhaseResult:
    """Run a fixture playbook against the inventory phase's hosts.yaml."""
    inventory = ctx.ws.inventory_dir / "hosts.yaml"
    result = run_playbook(
        ctx,
        name,
        PLAYBOOKS / playbook,
        inventory,
        extravars=dict(ctx.spec.kubespray.extra_vars),
        become=False,
    )
    if result.status == "canceled":
        return PhaseResult("interrupted", "cancelled")
    failed = sorted({f["host"] for f in result.failures})
    if not result.ok:
        return PhaseResult("failed", f"{playbook} failed on {', '.join(failed) or 'the controller'}")
    return PhaseResult("ok", f"{playbook}: {len(result.stats)} hosts", {"hosts": sorted(result.stats)})


def fixture_phases(cluster_playbook: str = "cluster.yml") -> tuple[PhaseDefinition, ...]:
    """inventory → kubespray (cluster_playbook) → apps, as the Engine's phase table."""
    return (
        PhaseDefinition("inventory", "Inventory", lambda: inventory_phase, PHASE_INPUTS["inventory"]),
        PhaseDefinition(
            "kubespray",
            "Kubespray-shaped playbook",
            lambda: partial(playbook_phase, "kubespray", cluster_playbook),
            PHASE_INPUTS["kubespray"],
        ),
        PhaseDefinition(
            "apps", "Sample apps", lambda: partial(playbook_phase, "apps", "addons.yml"), PHASE_INPUTS["apps"]
        ),
    )


def local_spec(tmp_path: Path, **extra: object) -> ClusterSpec:
    """Three hosts reached with Ansible's local connection; their files go below tmp_path/hosts."""
    extra_vars = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "fixture_root": str(tmp_path / "hosts"),
        "marker_dir": str(tmp_path / "markers"),
        **extra,
    }
    (tmp_path / "markers").mkdir(exist_ok=True)
    return ClusterSpec(
        name="fx",
        hosts=[
            {"name": "cp1", "address": "10.0.0.1", "roles": ["control_plane", "etcd"]},
            {"name": "cp2", "address": "10.0.0.2", "roles": ["control_plane", "etcd"]},
            {"name": "w1", "address": "10.0.0.3", "roles": ["worker", "etcd"]},
        ],
        phases=["inventory", "kubespray", "apps"],
        kubespray={"extra_vars": extra_vars},
    )


def main(argv: list[str]) -> int:
    """kwizard's command line (headless --yes / --resume) with the fixture phase table."""
    import os

    from kwizard import cli, preset
    from kwizard.errors import KwizardError
    from kwizard.headless import resume_headless, run_headless
    from kwizard.headless.errors import report_error
    from kwizard.options import RunOptions
    from kwizard.paths import use_workdir_option, workspace

    args = cli.build_parser().parse_args(argv)
    if args.workdir:
        use_workdir_option(args.workdir)
    table = fixture_phases(os.environ.get("KWIZARD_FIXTURE_PLAYBOOK", "cluster.yml"))
    try:
        options = RunOptions.from_args(args)
        if args.resume is not None:
            return resume_headless(workspace(args.resume).create(), options, phases=table)
        spec = preset.load(args.preset)
        ws = workspace(spec.name).create()
        preset.save(spec, ws.preset_file)
        return run_headless(spec, ws, options, phases=table)
    except KwizardError as error:
        report_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
