"""`kwizard upgrade`, `kwizard backup` and `kwizard restore` end to end on the lab.

upgrade runs against the Kubespray-shaped stand-in (tests/kubespray_standin.py) whose upgrade-cluster.yml
records how it was invoked (kube_version, the inventory, ANSIBLE_CONFIG) and writes the version it was
given on every host, as the real one leaves new binaries there. The tests assert on the records, the
hosts, the preset and the journal.

backup and restore run against a real etcd (Debian's etcd-server) on lab1, with TLS certificates at
Kubespray's paths (tests/etcd_lab.py; the `etcd` fixture of tests/integration/conftest.py); the fetched
snapshot is read by etcdctl here, and the restored data dir is served by a freshly started etcd whose keys
the test reads back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kwizard import lab as kwlab
from kwizard import preset as presets
from kwizard.paths import Workspace
from kwizard.spec import Host
from tests.etcd_lab import (
    etcdctl,
    fail_next_start,
    install_systemctl,
    start_etcd_cluster,
    stop_etcd,
    systemctl_calls,
    wait_healthy,
)
from tests.kubespray_standin import ROLES, VERSION_FILE, failing, last_journal, records, saved_cluster
from tests.kubespray_standin import kwizard as _kwizard

pytestmark = pytest.mark.slow


def _pinned(ws: Workspace, kube: str, kubespray: str) -> None:
    spec = presets.load(ws.preset_file)
    options = spec.kubespray.model_copy(update={"kube_version": kube, "version": kubespray})
    presets.save(spec.updated(kubespray=options), ws.preset_file)


def _versions(ws: Workspace) -> tuple[str, str]:
    spec = presets.load(ws.preset_file)
    return spec.kubespray.kube_version, spec.kubespray.version


def _host_versions(lab: kwlab.Lab) -> dict[str, str]:
    found = {}
    for host in ROLES:
        done = lab.host(host).exec(["cat", VERSION_FILE])
        found[host] = done.stdout.strip() if done.returncode == 0 else ""
    return found


def _group_vars_kube_version(ws: Workspace) -> Any:
    for path in (ws.inventory_dir / "group_vars").rglob("*.y*ml"):
        text = path.read_text()
        for line in text.splitlines():
            if line.startswith("kube_version:"):
                return line.split(":", 1)[1].strip().strip("'\"")
    return None


def test_upgrade_runs_upgrade_cluster_yml_then_pins_the_versions(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = saved_cluster("life-upgrade", lab, root, stand_in)
    _pinned(ws, "1.34.3", "v2.30.0")
    for host in ROLES:
        lab.host(host).exec(["rm", "-f", VERSION_FILE])

    done = _kwizard(
        root, "upgrade", "life-upgrade", "--kube-version", "1.35.4", "--kubespray-version", "v2.31.0", "--yes"
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [call] = records(stand_in, "upgrade-cluster")
    assert call["kube_version"] == "1.35.4"
    assert sorted(call["play_hosts"]) == sorted(ROLES)
    assert call["ansible_config"] == str(stand_in / "ansible.cfg")
    assert _host_versions(lab) == dict.fromkeys(ROLES, "1.35.4")
    assert _versions(ws) == ("1.35.4", "v2.31.0")
    assert _group_vars_kube_version(ws) == "1.35.4"
    journal = last_journal(ws)
    assert journal["status"] == "ok"
    assert list(journal["phases"]) == ["upgrade", "pin-versions"]
    assert journal["options"]["operation"]["from_kube_version"] == "1.34.3"
    artifacts = Path(journal["phases"]["upgrade"]["data"]["artifact_dir"])
    command = json.loads((artifacts / "command").read_text())["command"]
    assert "--become" in command
    # kube_version reaches Ansible from kwizard's extra-vars file, whose strings are !unsafe.
    [extra] = [arg for arg in command if arg.startswith("@")]
    assert Path(extra[1:]).name == "kwizard-extravars.yml"
    assert "kube_version:" in Path(extra[1:]).read_text() and "1.35.4" in Path(extra[1:]).read_text()


def test_a_failed_upgrade_keeps_the_old_versions_and_resume_finishes_it(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = saved_cluster("life-upg-fail", lab, root, stand_in)
    _pinned(ws, "1.34.3", "v2.31.0")
    preset_before = ws.preset_file.read_text()
    with failing(stand_in, "upgrade-cluster"):
        failed = _kwizard(root, "upgrade", "life-upg-fail", "--kube-version", "1.35.4", "--yes")

    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "upgrade-cluster stand-in told to fail" in failed.stdout + failed.stderr
    assert "kwizard --resume life-upg-fail --yes" in failed.stdout + failed.stderr
    assert ws.preset_file.read_text() == preset_before
    assert _versions(ws) == ("1.34.3", "v2.31.0")
    assert last_journal(ws)["phases"]["pin-versions"]["status"] == "pending"

    resumed = _kwizard(root, "--resume", "life-upg-fail", "--yes")

    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert [call["kube_version"] for call in records(stand_in, "upgrade-cluster")] == ["1.35.4", "1.35.4"]
    assert _versions(ws) == ("1.35.4", "v2.31.0")
    assert _host_versions(lab) == dict.fromkeys(ROLES, "1.35.4")
    assert last_journal(ws)["status"] == "ok"


def test_unsupported_upgrades_are_refused_before_any_host(lab: kwlab.Lab, stand_in: Path, root: Path) -> None:
    ws = saved_cluster("life-upg-no", lab, root, stand_in)
    _pinned(ws, "1.33.11", "v2.31.0")
    before = ws.preset_file.read_text()
    cases = {
        ("--kube-version", "1.35.4"): "One Kubernetes minor at a time",
        ("--kube-version", "1.34.99"): "Unsupported Kubernetes version",
        ("--kube-version", "1.32.5"): "Kubernetes cannot be downgraded",
    }
    for args, title in cases.items():
        refused = _kwizard(root, "upgrade", "life-upg-no", *args, "--yes")
        assert refused.returncode == 2, refused.stdout[-3000:] + refused.stderr[-3000:]
        assert title in refused.stderr
        assert "Traceback" not in refused.stderr
    assert records(stand_in, "upgrade-cluster") == []
    assert ws.preset_file.read_text() == before


def _snapshot_status(path: Path) -> dict[str, Any]:
    """etcd's own reading of a snapshot file (etcdutl where installed, else etcdctl)."""
    tool = ["etcdutl"] if shutil.which("etcdutl") else ["etcdctl"]
    env = {**os.environ, "ETCDCTL_API": "3"}
    done = subprocess.run(
        [*tool, "snapshot", "status", "-w", "json", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _backup(root: Path, cluster: str) -> Path:
    done = _kwizard(root, "backup", cluster)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [snapshot] = sorted((root / "clusters" / cluster / "backups").glob("*.db"))
    return snapshot


def test_backup_takes_an_etcd_snapshot_over_ssh_and_fetches_it_private_and_checked(
    lab: kwlab.Lab, stand_in: Path, root: Path, etcd: kwlab.LabHost
) -> None:
    ws = saved_cluster("life-backup", lab, root, stand_in)

    snapshot = _backup(root, "life-backup")

    assert stat.S_IMODE(snapshot.parent.stat().st_mode) == 0o700
    for path in (snapshot, Path(f"{snapshot}.sha256"), Path(f"{snapshot}.json")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    digest = hashlib.sha256(snapshot.read_bytes()).hexdigest()
    assert Path(f"{snapshot}.sha256").read_text() == f"{digest}  {snapshot.name}\n"
    status = _snapshot_status(snapshot)
    assert status["totalKey"] >= 1 and status["revision"] >= 2
    meta = json.loads(Path(f"{snapshot}.json").read_text())
    assert (
        meta["host"] == "lab1"
        and meta["sha256"] == digest
        and meta["status"]["revision"] == status["revision"]
    )
    # Nothing of the snapshot stays on the member.
    assert etcd.exec(["sh", "-c", "ls -d /var/tmp/kwizard-etcd-backup* 2>/dev/null"]).stdout == ""
    journal = last_journal(ws)
    assert list(journal["phases"]) == ["etcd-snapshot", "fetch-snapshot"] and journal["status"] == "ok"
    listed = _kwizard(root, "backup", "life-backup", "--list")
    assert listed.returncode == 0 and snapshot.name in listed.stdout
    runs = _kwizard(root, "runs", "--cluster", "life-backup")
    assert "etcd-snapshot:ok" in runs.stdout and "fetch-snapshot:ok" in runs.stdout


def test_restore_names_what_is_lost_then_brings_the_snapshot_back_on_the_member(
    lab: kwlab.Lab, stand_in: Path, root: Path, etcd: kwlab.LabHost
) -> None:
    ws = saved_cluster("life-restore", lab, root, stand_in)
    snapshot = _backup(root, "life-restore")
    taken_at = json.loads(Path(f"{snapshot}.json").read_text())["taken_at"]
    etcdctl(etcd, "put", "/registry/kwizard/state", "after-backup")
    etcdctl(etcd, "put", "/registry/kwizard/written-later", "lost")
    manifests = "mkdir -p /etc/kubernetes/manifests && cd /etc/kubernetes/manifests && "
    manifests += "for n in kube-apiserver kube-scheduler; do echo $n > $n.yaml; done"
    assert etcd.exec(["sh", "-c", manifests]).returncode == 0

    unconfirmed = _kwizard(root, "restore", "life-restore", snapshot.name)
    assert unconfirmed.returncode == 2, unconfirmed.stdout[-3000:] + unconfirmed.stderr[-3000:]
    assert "Everything written to the cluster after that time is lost" in unconfirmed.stdout
    assert taken_at in unconfirmed.stdout and "--yes" in unconfirmed.stderr
    assert etcdctl(etcd, "get", "/registry/kwizard/state").split()[-1] == "after-backup"

    done = _kwizard(root, "restore", "life-restore", snapshot.name, "--yes")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = etcdctl(etcd, "get", "--prefix", "/registry/kwizard/").split()
    assert found == ["/registry/kwizard/state", "before-backup"]
    kept = etcd.exec(["sh", "-c", "ls -d /var/lib/etcd.before-restore-*"]).stdout.split()
    assert len(kept) == 1  # the data before the restore is kept beside it
    assert etcd.exec(["sh", "-c", "ls -d /var/tmp/kwizard-etcd-restore* 2>/dev/null"]).stdout == ""
    # The control plane was stopped around the restore (its manifests left kubelet's folder and came back)
    # and every kubelet restarted.
    assert etcd.exec(["cat", "/etc/kubernetes/manifests/kube-apiserver.yaml"]).stdout == "kube-apiserver\n"
    assert etcd.exec(["sh", "-c", "ls /etc/kubernetes/manifests; ls /etc/kubernetes"]).stdout.split() == [
        "kube-apiserver.yaml",
        "kube-scheduler.yaml",
        "manifests",
    ]
    assert systemctl_calls(etcd) == ["start etcd", "stop etcd", "start etcd", "restart kubelet"]
    assert all(systemctl_calls(lab.host(name)) == ["restart kubelet"] for name in ("lab2", "lab4", "lab5"))
    journal = last_journal(ws)
    assert list(journal["phases"]) == ["stage-snapshot", "restore-etcd"] and journal["status"] == "ok"
    assert journal["options"]["operation"]["sha256"] == hashlib.sha256(snapshot.read_bytes()).hexdigest()


def test_restore_refuses_a_damaged_snapshot_before_any_host(
    lab: kwlab.Lab, stand_in: Path, root: Path, tmp_path: Path
) -> None:
    saved_cluster("life-damaged", lab, root, stand_in)
    damaged = tmp_path / "etcd-copy.db"
    damaged.write_bytes(b"not a snapshot")
    Path(f"{damaged}.sha256").write_text(f"{'0' * 64}  {damaged.name}\n")

    refused = _kwizard(root, "restore", "life-damaged", str(damaged), "--yes")

    assert refused.returncode == 2, refused.stdout[-3000:] + refused.stderr[-3000:]
    assert "The snapshot is damaged" in refused.stderr and "Traceback" not in refused.stderr
    missing = _kwizard(root, "restore", "life-damaged", "nope.db", "--yes")
    assert missing.returncode == 2 and "Snapshot not found" in missing.stderr


def test_a_failed_restore_is_continued_by_resume_keeping_the_first_data_dir(
    lab: kwlab.Lab, stand_in: Path, root: Path, etcd: kwlab.LabHost
) -> None:
    ws = saved_cluster("life-restore-resume", lab, root, stand_in)
    snapshot = _backup(root, "life-restore-resume")
    etcdctl(etcd, "put", "/registry/kwizard/state", "after-backup")
    fail_next_start(etcd)

    failed = _kwizard(root, "restore", "life-restore-resume", snapshot.name, "--yes")

    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "etcd did not start" in failed.stdout + failed.stderr
    assert "kwizard --resume life-restore-resume --yes" in failed.stdout + failed.stderr
    assert last_journal(ws)["phases"]["restore-etcd"]["status"] == "failed"

    resumed = _kwizard(root, "--resume", "life-restore-resume", "--yes")

    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert etcdctl(etcd, "get", "/registry/kwizard/state").split()[-1] == "before-backup"
    [kept] = etcd.exec(["sh", "-c", "ls -d /var/lib/etcd.before-restore-*"]).stdout.split()
    assert etcd.exec(["ls", kept]).stdout.split() == ["member"]  # the data from before, not a later attempt
    assert last_journal(ws)["status"] == "ok"


THREE_ETCD = {
    "lab1": ["control_plane", "etcd"],
    "lab2": ["control_plane", "etcd"],
    "lab4": ["worker", "etcd"],
}


@pytest.fixture
def etcd3(lab: kwlab.Lab) -> Iterator[list[kwlab.LabHost]]:
    """A real three-member etcd on lab1, lab2 and lab4 (one CA, Kubespray's paths), holding one key."""
    members = [lab.host(name) for name in THREE_ETCD]
    for name in ROLES:
        install_systemctl(lab.host(name))
    start_etcd_cluster(members)
    etcdctl(members[0], "put", "/registry/kwizard/state", "before-backup")
    try:
        yield members
    finally:
        for host in members:
            stop_etcd(host)


def test_three_members_backup_on_a_healthy_one_and_restore_every_member(
    lab: kwlab.Lab, stand_in: Path, root: Path, etcd3: list[kwlab.LabHost]
) -> None:
    ws = saved_cluster("life-etcd3", lab, root, stand_in)
    spec = presets.load(ws.preset_file)
    hosts = [h.model_copy(update={"roles": THREE_ETCD.get(h.name, ["worker"])}) for h in spec.hosts]
    presets.save(spec.updated(hosts=[Host.model_validate(h.model_dump()) for h in hosts]), ws.preset_file)
    first, second, third = etcd3
    assert first.exec(["systemctl", "stop", "etcd"]).returncode == 0  # the first member is down

    snapshot = _backup(root, "life-etcd3")

    assert json.loads(Path(f"{snapshot}.json").read_text())["host"] == "lab2"  # the first healthy one
    assert first.exec(["systemctl", "start", "etcd"]).returncode == 0
    wait_healthy(first)
    etcdctl(second, "put", "/registry/kwizard/state", "after-backup")

    done = _kwizard(root, "restore", "life-etcd3", snapshot.name, "--yes")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for member in etcd3:
        assert etcdctl(member, "get", "/registry/kwizard/state").split()[-1] == "before-backup", member.name
    listed = etcdctl(third, "member", "list", "-w", "json")
    assert sorted(m["name"] for m in json.loads(listed)["members"]) == ["lab1", "lab2", "lab4"]
