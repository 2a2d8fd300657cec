"""The storage phase: run kwizard's gluster playbook, or check/apply what Kubespray's provisioners need."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from kwizard import yamlout
from kwizard.errors import KwizardError, RemoteError
from kwizard.protocol.phase import PhaseContext, PhaseResult
from kwizard.results import failure_message
from kwizard.runner import PlaybookResult, run_playbook
from kwizard.spec import ClusterSpec
from kwizard.storage.manifests import ebs_manifests, ebs_storage_class_name, gluster_manifests, to_yaml
from kwizard.storage.plan import GlusterPlan, gluster_plan
from kwizard.storage.summary import summary_text

PHASE = "storage"
PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
# Messages of the playbooks' own refusals start with this, so they become a KwizardError, not a log line.
REFUSAL = "kwizard-storage:"
GLUSTER_FIX = (
    "Nothing was changed on any storage host. Name an empty device in storage_device (or none, for a "
    "directory brick) and run the storage phase again."
)
PROVISIONER_FIX = "Nothing was applied. Run the inventory and kubespray phases again, then the storage phase."


def run_phase(ctx: PhaseContext) -> PhaseResult:
    """Set up spec.storage on the cluster; a second run changes nothing."""
    spec = ctx.spec
    if spec.storage.type == "none":
        return PhaseResult("skipped", "No persistent storage (storage.type: none).")
    inventory = ctx.ws.inventory_dir / "hosts.yaml"
    groups = inventory_groups(inventory)
    builds_cluster = "kubespray" in spec.phases
    if spec.storage.type == "gluster":
        plan = gluster_plan(spec)
        _check_groups(plan, groups, inventory)
        if not builds_cluster:
            # No Kubernetes here (e.g. the lab): build and mount the volume, leave the API objects out.
            plan = replace(plan, control_plane=None)
        playbook, extravars = PLAYBOOKS / "gluster.yml", plan.extravars(to_yaml(gluster_manifests(plan)))
        data: dict[str, Any] = {"storage_class": "gluster", "volume": plan.volume, "pvs": plan.pv_names()}
    elif not builds_cluster:
        return PhaseResult(
            "skipped", f"{spec.storage.type} storage lives in Kubernetes, and this preset builds no cluster."
        )
    else:
        playbook, extravars = PLAYBOOKS / "storage_class.yml", provisioner_extravars(spec)
        data = {"storage_class": extravars["kwizard_storage_class"]}
    # Pipelining: one ssh round trip per task instead of three (Kubespray's ansible.cfg sets it too).
    extravars["ansible_pipelining"] = True
    result = run_playbook(ctx, PHASE, playbook, inventory, extravars=extravars)
    data |= {"type": spec.storage.type, "stats": result.stats}
    if result.status == "canceled":
        return PhaseResult("interrupted", "Storage setup was interrupted.", data)
    if not result.ok:
        if spec.storage.type == "gluster":
            _raise_refusal(result, "Storage setup refused", GLUSTER_FIX)
        _raise_refusal(result, "Storage provisioner missing", PROVISIONER_FIX)
        return PhaseResult("failed", f"Storage setup failed: {failure_text(result)}", data)
    changed = sum(host.get("changed", 0) for host in result.stats.values())
    data["changed"] = changed
    if not builds_cluster:
        data["kubernetes"] = "not applied: the kubespray phase is not part of this preset"
        return PhaseResult(
            "ok",
            f"Gluster volume {plan.volume} built and mounted; the StorageClass and PVs were not applied "
            "because this preset builds no Kubernetes cluster (no kubespray phase).",
            data,
        )
    return PhaseResult("ok", summary_text(spec), data)


def provisioner_extravars(spec: ClusterSpec) -> dict[str, Any]:
    """Inputs of storage_class.yml for aws-ebs (CSI driver + our StorageClass) or local-path (check only)."""
    control_planes = spec.hosts_with("control_plane")
    first = control_planes[0].name if control_planes else ""
    if spec.storage.type == "aws-ebs":
        require = [
            {
                "kind": "csidriver",
                "name": "ebs.csi.aws.com",
                "hint": "Kubespray installs it when aws_ebs_csi_enabled is true: run the inventory and "
                "kubespray phases again.",
            }
        ]
        manifest, storage_class = to_yaml(ebs_manifests(spec)), ebs_storage_class_name(spec)
    else:
        require = [
            {
                "kind": "storageclass",
                "name": "local-path",
                "hint": "Kubespray creates it when local_path_provisioner_enabled is true: run the inventory "
                "and kubespray phases again.",
            }
        ]
        manifest, storage_class = "", "local-path"
    return {
        "kwizard_control_plane": first,
        "kwizard_storage_require": require,
        "kwizard_manifest": manifest,
        "kwizard_manifest_name": f"storageclass-{storage_class}.yaml",
        "kwizard_storage_class": storage_class,
    }


def inventory_groups(inventory: Path) -> dict[str, set[str]]:
    """Group name → host names of a YAML inventory (children folded into their parents)."""
    try:
        data = yamlout.load(inventory.read_text()) or {}
    except FileNotFoundError:
        raise KwizardError(
            "No inventory yet",
            f"{inventory} does not exist",
            "Run the inventory phase first (kwizard --preset <file> --only inventory).",
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        raise KwizardError(
            "Unreadable inventory", f"{inventory}: {exc}", "Run the inventory phase again."
        ) from None
    groups: dict[str, set[str]] = {}

    def walk(name: str, node: Any) -> set[str]:
        node = node if isinstance(node, dict) else {}
        members = set((node.get("hosts") or {}).keys())
        for child, child_node in (node.get("children") or {}).items():
            members |= walk(str(child), child_node)
        groups[name] = groups.get(name, set()) | members
        return members

    for top, node in (data if isinstance(data, dict) else {}).items():
        walk(str(top), node)
    return groups


def _check_groups(plan: GlusterPlan, groups: dict[str, set[str]], inventory: Path) -> None:
    # Ansible silently skips a play whose group is missing, so a stale inventory must be caught here.
    expected = {b.host for b in plan.bricks}
    found = groups.get("gfs_cluster", set())
    if found != expected:
        raise KwizardError(
            "Inventory does not match the storage hosts",
            f"{inventory}: group gfs_cluster holds {sorted(found) or 'nothing'}, "
            f"the spec's storage hosts are {sorted(expected)}",
            "Run the inventory phase again (kwizard --preset <file> --only inventory).",
        )


def failure_text(result: PlaybookResult) -> str:
    """The first failures of a playbook run, one line each (a loop's failed items with their reasons)."""
    lines = [
        f"{failure.get('host')}: {failure.get('task')}: {failure_message(failure.get('res') or {}, 400)}"
        for failure in result.failures[:5]
    ]
    return "; ".join(lines) or f"the playbook ended with status {result.status} (rc {result.rc})"


def _raise_refusal(result: PlaybookResult, title: str, fix: str) -> None:
    """Raise the playbook's own refusals (messages starting with REFUSAL) as one KwizardError."""
    refusals = []
    for failure in result.failures:
        message = str((failure.get("res") or {}).get("msg") or "")
        if message.startswith(REFUSAL):
            refusals.append(message.removeprefix(REFUSAL).strip())
    if refusals:
        raise RemoteError(title, "\n".join(dict.fromkeys(refusals)), fix)
