"""`kwizard backup`: an etcd snapshot taken on a healthy member over SSH, fetched into the cluster's folder.

backup:  etcd-snapshot → fetch-snapshot

The snapshot is taken with Kubespray's etcd client certificates (`/etc/ssl/etcd/ssl/ca.pem`,
`admin-<host>.pem`, `admin-<host>-key.pem`) against the member's own client port, checked with `etcdutl
snapshot status` (`etcdctl` on etcd < 3.5), and its sha256 taken on the host. The copy in the cluster's
`backups/` folder (0700; the files 0600: a snapshot holds every Secret of the cluster) is checked
against that sha256 before the copy on the host is removed.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard.errors import InputError, KwizardError

if TYPE_CHECKING:
    from fabric import Connection

    from kwizard.paths import Workspace
    from kwizard.protocol.phase import PhaseContext, PhaseResult
    from kwizard.spec import ClusterSpec, Host

BACKUP = "backup"
BACKUPS_DIR = "backups"
ETCD_CERT_DIR = "/etc/ssl/etcd/ssl"  # Kubespray's etcd_cert_dir
REMOTE_DIR = "/var/tmp/kwizard-etcd-backup"  # the snapshot's folder on the member, removed after the fetch
SNAPSHOT_SECONDS = 600.0
# Run as root on the member, with its positional arguments quoted by kwizard.ssh.run:
# $1 folder, $2 file name, $3 the member's inventory name (its admin certificate), $4 the login user.
# Exit 10: this member is not healthy (the next one is tried).
SNAPSHOT_SCRIPT = r"""
PATH=/usr/local/bin:/opt/bin:$PATH  # Kubespray's bin_dir (Flatcar: /opt/bin)
certs=/etc/ssl/etcd/ssl
export ETCDCTL_API=3 ETCDCTL_ENDPOINTS=https://127.0.0.1:2379 ETCDCTL_CACERT=$certs/ca.pem \
  ETCDCTL_CERT=$certs/admin-$3.pem ETCDCTL_KEY=$certs/admin-$3-key.pem
command -v etcdctl >/dev/null 2>&1 || { echo "etcdctl is not installed" >&2; exit 10; }
etcdctl --command-timeout=15s endpoint health >&2 || exit 10
umask 077
rm -rf -- "$1" && mkdir -p -- "$1" || exit 11
etcdctl snapshot save "$1/$2" >&2 || exit 12
if command -v etcdutl >/dev/null 2>&1; then
  etcdutl snapshot status -w json "$1/$2" || exit 13
else
  etcdctl snapshot status -w json "$1/$2" || exit 13
fi
sha256sum "$1/$2" || exit 14
chown -R -- "$4" "$1" || exit 15
"""


@dataclass(frozen=True)
class Snapshot:
    """A snapshot in the cluster's backups folder, with what was recorded when it was taken."""

    path: Path
    sha256: str
    meta: dict[str, Any]

    @property
    def taken_at(self) -> str:
        return str(self.meta.get("taken_at", "?"))


def backups_dir(ws: Workspace) -> Path:
    return ws.cluster_dir / BACKUPS_DIR


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def etcd_members(spec: ClusterSpec) -> list[Host]:
    """The etcd members, in inventory order; InputError when etcd is not Kubespray's host service."""
    deployment = spec.kubespray.extra_vars.get("etcd_deployment_type", "host")
    if deployment != "host":
        raise InputError(
            "etcd is not a host service here",
            f"kubespray.extra_vars sets etcd_deployment_type: {deployment}; kwizard backs up and restores "
            "the etcd Kubespray installs by default (a host service with its certificates in "
            "/etc/ssl/etcd/ssl).",
            "Back up this etcd with the tools of its deployment (for kubeadm: etcdctl with "
            "/etc/kubernetes/pki/etcd on a control plane node).",
        )
    members = spec.hosts_with("etcd")
    if not members:
        raise InputError(
            "The cluster has no etcd hosts",
            f"No host of {spec.name!r} has the etcd role, so there is no etcd member to snapshot.",
            "Give the etcd role to the hosts that run etcd (usually the control plane) in the preset.",
        )
    return members


def run_as_root(ctx: PhaseContext, conn: Connection, host: Host, argv: list[str], timeout: float) -> Any:
    from kwizard.ssh import run

    root = ctx.spec.ssh_user(host) == "root"
    return run(conn, argv, sudo=not root, sudo_password=ctx.secrets.become_password, timeout=timeout)


def snapshot_phase(ctx: PhaseContext) -> PhaseResult:
    """On the first healthy etcd member: `etcdctl snapshot save`, its status, its sha256."""
    from kwizard.protocol.outputs import SnapshotOutput
    from kwizard.protocol.phase import PhaseResult
    from kwizard.ssh import connect

    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    name = f"etcd-{ctx.ws.cluster}-{stamp}.db"
    folder = f"{REMOTE_DIR}-{stamp}"
    tried: list[str] = []
    for host in etcd_members(ctx.spec):
        if ctx.cancel.is_set():
            return PhaseResult("interrupted", "The backup was stopped.")
        try:
            with connect(ctx, host) as conn:
                argv = ["sh", "-c", SNAPSHOT_SCRIPT, "sh", folder, name, host.name, ctx.spec.ssh_user(host)]
                done = run_as_root(ctx, conn, host, argv, SNAPSHOT_SECONDS)
        except KwizardError as error:
            tried.append(f"{host.name}: {error.problem or error.title}")
            ctx.log(BACKUP, f"{host.name}: {error.problem or error.title}", host=host.name, level="warning")
            continue
        if done.exited == 10:
            reason = _last_line(done.stderr) or "etcd is not healthy"
            tried.append(f"{host.name}: {reason}")
            ctx.log(BACKUP, f"{host.name}: not healthy ({reason}); trying the next member", host=host.name)
            continue
        if not done.ok:
            raise KwizardError(
                "The etcd snapshot failed",
                f"On {host.name} (exit {done.exited}): {_last_line(done.stderr) or done.stdout.strip()}",
                "Check etcd on that host (its certificates in /etc/ssl/etcd/ssl and free disk space in "
                "/var/tmp), then run the backup again.",
            )
        status, sha256 = _parse(done.stdout, host.name)
        data = SnapshotOutput(
            host=host.name,
            remote_dir=folder,
            remote=f"{folder}/{name}",
            file=name,
            sha256=sha256,
            status=status,
            taken_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            time=now,
        ).to_data()
        summary = (
            f"snapshot of etcd taken on {host.name}: revision {status.get('revision', '?')}, "
            f"{status.get('totalKey', '?')} keys, {status.get('totalSize', '?')} bytes"
        )
        return PhaseResult("ok", summary, data)
    raise KwizardError(
        "No healthy etcd member",
        "kwizard found no etcd member that answered healthy: " + "; ".join(tried),
        "Bring etcd back on at least one member (or fix SSH to it), then run the backup again.",
    )


def _parse(stdout: str, host: str) -> tuple[dict[str, Any], str]:
    status: dict[str, Any] | None = None
    sha256 = ""
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                status = json.loads(line)
            except ValueError:
                status = None
        elif line and len(line.split()[0]) == 64:
            sha256 = line.split()[0]
    if status is None or not sha256:
        raise KwizardError(
            "The etcd snapshot could not be checked",
            f"On {host}, snapshot status or sha256sum gave no usable answer:\n{stdout.strip()[:500]}",
            "Check etcdctl / etcdutl on that host, then run the backup again.",
        )
    return status, sha256


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def fetch_phase(ctx: PhaseContext) -> PhaseResult:
    """The snapshot into backups/ (0600), its sha256 checked there, then removed from the member."""
    from kwizard.fsutil import atomic_write, ensure_private_dir
    from kwizard.protocol.outputs import SnapshotOutput
    from kwizard.protocol.phase import PhaseResult
    from kwizard.ssh import connect

    taken = SnapshotOutput.of(ctx.results)
    if taken is None:
        raise KwizardError(
            "No snapshot to fetch",
            "The run's record of the snapshot phase is missing or unreadable.",
            f"Take a new backup: kwizard backup {ctx.ws.cluster}",
        )
    host = ctx.spec.host(taken.host)
    folder = ensure_private_dir(backups_dir(ctx.ws))
    final = folder / taken.file
    partial = folder / f".{final.name}.partial"
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)  # private before a single byte arrives
    with connect(ctx, host) as conn:
        conn.get(taken.remote, local=str(partial))
        partial.chmod(0o600)
        got = sha256_of(partial)
        if got != taken.sha256:
            partial.unlink(missing_ok=True)
            raise KwizardError(
                "The fetched snapshot is damaged",
                f"Its sha256 here is {got}, on {host.name} it was {taken.sha256}.",
                "Run the backup again (the copy on the host is kept for a look).",
            )
        partial.rename(final)
        run_as_root(ctx, conn, host, ["rm", "-rf", "--", taken.remote_dir], 60.0)
    atomic_write(final.with_name(final.name + ".sha256"), f"{got}  {final.name}\n")
    meta = {
        "cluster": ctx.ws.cluster,
        "file": final.name,
        "sha256": got,
        "size": final.stat().st_size,
        "host": host.name,
        "taken_at": taken.taken_at,
        "time": taken.time,
        "status": taken.status,
        "run_id": ctx.run_id,
        "kube_version": ctx.spec.kubespray.extra_vars.get("kube_version", ctx.spec.kubespray.kube_version),
    }
    atomic_write(final.with_name(final.name + ".json"), json.dumps(meta, indent=1) + "\n")
    summary = f"{final} ({meta['size']} bytes, sha256 {got[:12]}…) taken on {host.name} at {meta['taken_at']}"
    return PhaseResult("ok", summary, {"path": str(final), **meta})


def list_snapshots(ws: Workspace) -> list[Snapshot]:
    """The snapshots in the cluster's backups folder, oldest first (a file without its record is left out)."""
    found = []
    for meta_file in sorted(backups_dir(ws).glob("*.db.json")):
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        path = meta_file.with_suffix("")
        if isinstance(meta, dict) and path.is_file():
            found.append(Snapshot(path, str(meta.get("sha256", "")), meta))
    return sorted(found, key=lambda snapshot: float(snapshot.meta.get("time", 0.0)))


def find_snapshot(ws: Workspace, name: str) -> Snapshot:
    """The snapshot `name` (a file in backups/, or a path), with its recorded sha256; InputError if not."""
    candidates = [Path(name).expanduser(), backups_dir(ws) / name]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        known = ", ".join(s.path.name for s in list_snapshots(ws)) or "none yet"
        raise InputError(
            "Snapshot not found",
            f"{name!r} is neither a file nor a snapshot of {ws.cluster!r} (its snapshots: {known}).",
            f"Name one listed by `kwizard backup {ws.cluster} --list`.",
        )
    path = path.resolve()
    meta: dict[str, Any] = {}
    try:
        meta = json.loads(path.with_name(path.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    try:
        recorded = path.with_name(path.name + ".sha256").read_text(encoding="utf-8").split()[0]
    except (OSError, IndexError):
        recorded = str(meta.get("sha256", ""))
    if not recorded:
        raise InputError(
            "The snapshot has no checksum",
            f"{path} has no {path.name}.sha256 beside it: kwizard cannot prove it reaches the hosts whole.",
            f"Write one (sha256sum {path.name} > {path.name}.sha256) if you trust the file, or take a new "
            "backup with kwizard backup.",
        )
    return Snapshot(path, recorded, meta if isinstance(meta, dict) else {})


PHASES = (
    ("etcd-snapshot", "Take an etcd snapshot", snapshot_phase),
    ("fetch-snapshot", "Fetch and check the snapshot", fetch_phase),
)
