"""backup and restore without hosts: phase lists, the snapshot's record, the confirmation's text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kwizard import cli
from kwizard import preset as presets
from kwizard.day2 import phase_table
from kwizard.day2.backup import _parse, backups_dir, etcd_members, find_snapshot, list_snapshots, sha256_of
from kwizard.day2.restore import operation, what_is_lost
from kwizard.errors import InputError, KwizardError
from kwizard.paths import Workspace, workspace
from kwizard.spec import ClusterSpec, Host


def _spec() -> ClusterSpec:
    roles = {
        "cp1": ["control_plane", "etcd"],
        "cp2": ["control_plane", "etcd"],
        "cp3": ["control_plane", "etcd"],
    }
    hosts = [Host(name=n, address=f"10.0.0.{i + 1}", roles=r) for i, (n, r) in enumerate(roles.items())]  # type: ignore[arg-type]
    return ClusterSpec(name="c1", hosts=hosts)


def _snapshot(ws: Workspace, name: str, when: float, body: bytes = b"etcd") -> Path:
    folder = backups_dir(ws)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(body)
    Path(f"{path}.sha256").write_text(f"{sha256_of(path)}  {name}\n")
    meta = {"taken_at": f"t{when:.0f}", "time": when, "host": "cp1", "status": {"revision": 7, "totalKey": 3}}
    Path(f"{path}.json").write_text(json.dumps(meta))
    return path


def test_the_phase_lists() -> None:
    assert [d.name for d in phase_table({"command": "backup"})] == ["etcd-snapshot", "fetch-snapshot"]
    assert [d.name for d in phase_table({"command": "restore"})] == ["stage-snapshot", "restore-etcd"]


def test_snapshots_are_listed_oldest_first_and_found_by_name_or_path(kwizard_root: Path) -> None:
    ws = workspace("c1", kwizard_root).create()
    newer = _snapshot(ws, "etcd-c1-2.db", 200.0)
    older = _snapshot(ws, "etcd-c1-1.db", 100.0)
    assert [s.path for s in list_snapshots(ws)] == [older, newer]
    by_name = find_snapshot(ws, "etcd-c1-2.db")
    assert by_name.path == newer.resolve() and by_name.sha256 == sha256_of(newer)
    assert find_snapshot(ws, str(older)).taken_at == "t100"
    with pytest.raises(InputError) as caught:
        find_snapshot(ws, "etcd-c1-9.db")
    assert "etcd-c1-1.db, etcd-c1-2.db" in caught.value.problem


def test_a_snapshot_without_a_checksum_is_refused(tmp_path: Path, kwizard_root: Path) -> None:
    bare = tmp_path / "copy.db"
    bare.write_bytes(b"etcd")
    with pytest.raises(InputError) as caught:
        find_snapshot(workspace("c1", kwizard_root), str(bare))
    assert caught.value.title == "The snapshot has no checksum"


def test_the_confirmation_names_the_time_and_what_is_lost(kwizard_root: Path) -> None:
    ws = workspace("c1", kwizard_root).create()
    snapshot = find_snapshot(ws, str(_snapshot(ws, "etcd-c1-1.db", 100.0)))
    text = what_is_lost(_spec(), snapshot)
    assert "(t100, etcd revision 7)" in text
    assert "Everything written to the cluster after that time is lost" in text
    assert "cp1, cp2, cp3" in text
    assert operation(snapshot, "S")["sha256"] == snapshot.sha256


def test_status_and_checksum_are_read_from_the_members_answer() -> None:
    sha = "a" * 64
    status, digest = _parse(
        '{"hash":1,"revision":5,"totalKey":2,"totalSize":20480}\n' + f"{sha}  /x.db\n", "cp1"
    )
    assert status["revision"] == 5 and digest == sha
    with pytest.raises(KwizardError):
        _parse("Error: no such file\n", "cp1")


def test_restore_without_a_terminal_needs_yes_and_changes_nothing(
    kwizard_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace("c1", kwizard_root).create()
    presets.save(_spec(), ws.preset_file)
    _snapshot(ws, "etcd-c1-1.db", 100.0)
    assert cli.main(["restore", "c1", "etcd-c1-1.db"]) == 2
    captured = capsys.readouterr()
    assert "is lost" in captured.out and "--yes" in captured.err
    assert not any(ws.runs_dir.glob("2*"))  # no run was started


def test_an_etcd_that_is_not_a_host_service_is_refused() -> None:
    spec = _spec()
    assert [h.name for h in etcd_members(spec)] == ["cp1", "cp2", "cp3"]
    kubeadm = spec.updated(
        kubespray=spec.kubespray.model_copy(update={"extra_vars": {"etcd_deployment_type": "kubeadm"}})
    )
    with pytest.raises(InputError) as caught:
        etcd_members(kubeadm)
    assert caught.value.title == "etcd is not a host service here"


def test_the_list_never_cuts_a_snapshots_name_or_time(
    kwizard_root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kwizard backup CLUSTER --list` at 80 columns: the name restore takes and the time stay whole."""
    from kwizard.commands.backup import _list

    ws = workspace("c1", kwizard_root).create()
    path = _snapshot(ws, "etcd-production-20261206T214723Z.db", 100.0)
    record = json.loads(Path(f"{path}.json").read_text())
    Path(f"{path}.json").write_text(json.dumps({**record, "taken_at": "2026-12-06T21:47:23Z"}))
    monkeypatch.setenv("COLUMNS", "80")

    assert _list(ws) == 0

    out = capsys.readouterr().out
    assert "etcd-production-20261206T214723Z.db" in out and "2026-12-06T21:47:23Z" in out
    assert max(len(line) for line in out.splitlines()) <= 80
