"""`kwizard restore`: etcd back to a snapshot taken by `kwizard backup`, on every member.

restore:  stage-snapshot → restore-etcd

The snapshot's sha256 is checked here, it is copied to every etcd member and checked there again, before
anything is stopped. kwizard's playbook then follows etcd's and Kubernetes' documented restore: the control
plane's static pods leave kubelet's folder (the API servers stop), every member is restored from the same
snapshot with the whole member list (etcd stopped, data dir kept aside, `etcdutl snapshot restore`, etcd
started and healthy; what Kubespray's recover-control-plane.yml does for one member that lost quorum),
the control plane comes back, and every kubelet restarts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.errors import KwizardError

if TYPE_CHECKING:
    from kwizard.day2.backup import Snapshot
    from kwizard.protocol.phase import PhaseContext, PhaseResult
    from kwizard.spec import ClusterSpec

RESTORE = "restore"
STAGE_DIR = "/var/tmp/kwizard-etcd-restore"
PLAYBOOK = Path(__file__).resolve().parent.parent / "playbooks" / "etcd_restore.yml"


def operation(snapshot: Snapshot, stamp: str) -> dict[str, Any]:
    return {
        "command": RESTORE,
        "snapshot": str(snapshot.path),
        "sha256": snapshot.sha256,
        "taken_at": snapshot.taken_at,
        "stamp": stamp,
    }


def what_is_lost(spec: ClusterSpec, snapshot: Snapshot) -> str:
    """The confirmation's text: the time the cluster goes back to, and what goes with it."""
    members = ", ".join(host.name for host in spec.hosts_with("etcd"))
    revision = (snapshot.meta.get("status") or {}).get("revision")
    at = f"{snapshot.taken_at}" + (f", etcd revision {revision}" if revision is not None else "")
    return (
        f"Restoring {snapshot.path.name} puts {spec.name!r} back to the moment the snapshot was taken "
        f"({at}). Everything written to the cluster after that time is lost: objects created, changed or "
        "deleted since (Deployments, Services, Secrets, ConfigMaps, RBAC, nodes that joined, …). "
        f"etcd stops on {members} while it is restored; its current data is kept beside it "
        "(/var/lib/etcd.before-restore-…)."
    )


def stage_phase(ctx: PhaseContext) -> PhaseResult:
    """The snapshot checked here, copied to every etcd member and checked there."""
    from kwizard.day2.backup import etcd_members, run_as_root, sha256_of
    from kwizard.protocol.outputs import StagedSnapshotOutput
    from kwizard.protocol.phase import PhaseResult
    from kwizard.ssh import connect, run

    wanted = ctx.options.operation
    local = Path(str(wanted["snapshot"]))
    if not local.is_file() or sha256_of(local) != wanted["sha256"]:
        raise KwizardError(
            "The snapshot is not the one confirmed",
            f"{local} is missing or its sha256 is no longer {wanted['sha256']}.",
            "Restore a snapshot listed by `kwizard backup CLUSTER --list`, or take a new backup.",
        )
    folder = f"{STAGE_DIR}-{wanted['stamp']}"
    remote = f"{folder}/{local.name}"
    for host in etcd_members(ctx.spec):
        with connect(ctx, host) as conn:
            made = run(conn, ["sh", "-c", 'umask 077 && rm -rf -- "$1" && mkdir -p -- "$1"', "sh", folder])
            if not made.ok:
                raise KwizardError(
                    "Cannot stage the snapshot",
                    f"Making {folder} on {host.name} failed: {made.stderr.strip()}",
                    "Check free space and permissions in /var/tmp on that host, then resume.",
                )
            conn.put(str(local), remote=remote)
            summed = run_as_root(ctx, conn, host, ["sha256sum", "--", remote], 120.0)
        there = summed.stdout.split()[0] if summed.ok and summed.stdout.split() else "?"
        if there != wanted["sha256"]:
            raise KwizardError(
                "The snapshot arrived damaged",
                f"On {host.name} its sha256 is {there}, not {wanted['sha256']}; nothing was stopped.",
                "Check the host's disk and the network, then resume (kwizard --resume CLUSTER --yes).",
            )
        ctx.log("stage-snapshot", f"{host.name}: {remote} sha256 matches", host=host.name)
    staged = StagedSnapshotOutput(remote=remote, stage_dir=folder)
    return PhaseResult(
        "ok", f"{local.name} copied to every etcd member, sha256 checked on each", staged.to_data()
    )


def restore_phase(ctx: PhaseContext) -> PhaseResult:
    """kwizard's etcd_restore.yml on the etcd group."""
    from kwizard.day2.backup import etcd_members
    from kwizard.day2.phases import with_earlier_results
    from kwizard.inventory import HOSTS_FILE, build, plan
    from kwizard.protocol.outputs import StagedSnapshotOutput
    from kwizard.protocol.phase import PhaseResult
    from kwizard.runner import run_playbook

    wanted = ctx.options.operation
    staged = StagedSnapshotOutput.of(ctx.results)
    if staged is None:
        raise KwizardError(
            "No staged snapshot",
            "The run's record of the stage-snapshot phase is missing or unreadable.",
            f"Start the restore again: kwizard restore {ctx.ws.cluster} SNAPSHOT",
        )
    ctx = with_earlier_results(ctx)
    if any(change.status != "unchanged" for change in plan(ctx.spec, ctx.ws, ctx.results)):
        build(ctx, phase="restore-etcd")
    peers = {host.name: f"https://{_peer_address(ctx.spec, host)}:2380" for host in etcd_members(ctx.spec)}
    extravars = {
        "kwizard_snapshot": staged.remote,
        "kwizard_snapshot_sha256": wanted["sha256"],
        "kwizard_etcd_peers": peers,
        "kwizard_etcd_initial_cluster": ",".join(f"{name}={url}" for name, url in peers.items()),
        "kwizard_restore_stamp": wanted["stamp"],
        "kwizard_stage_dir": staged.stage_dir,
        "ansible_pipelining": True,
    }
    result = run_playbook(
        ctx, "restore-etcd", PLAYBOOK, ctx.ws.inventory_dir / HOSTS_FILE, extravars=extravars
    )
    data = {"members": list(peers), "stats": result.stats, "rc": result.rc}
    if result.status == "canceled":
        return PhaseResult("interrupted", "The restore was stopped.", data)
    if not result.ok:
        first = result.failures[0] if result.failures else {}
        where = f": {first.get('task', '?')} on {first.get('host', '?')}" if first else ""
        return PhaseResult("failed", f"etcd restore failed{where}", {**data, "failures": result.failures})
    return PhaseResult(
        "ok",
        f"etcd restored from {Path(str(wanted['snapshot'])).name} (taken {wanted['taken_at']}) on "
        f"{', '.join(peers)}; the old data is kept as /var/lib/etcd.before-restore-{wanted['stamp']}",
        data,
    )


def _peer_address(spec: ClusterSpec, host: Any) -> str:
    # Kubespray's etcd_access_address: access_ip, else ip; kwizard writes both as the bind IP.
    address = spec.bind_ip(host) or host.address
    return f"[{address}]" if ":" in address else address


PHASES = (
    ("stage-snapshot", "Copy the snapshot to the etcd hosts", stage_phase),
    ("restore-etcd", "Restore etcd from the snapshot", restore_phase),
)
