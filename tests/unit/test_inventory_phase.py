"""The inventory phase end to end: validate, write, and have the real ansible-inventory parse the result."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kwizard import preset, yamlout
from kwizard.errors import InputError
from kwizard.inventory import GENERATED_FILES, plan, run_phase
from kwizard.inventory.ansible_check import parse
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.protocol.phase import Event, PhaseContext
from kwizard.spec import ClusterSpec

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "presets").glob("*.yaml"))
# The shipped aws-3az preset creates its hosts; its inventory is checked with hosts that exist.
AWS_HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "presets" / "aws-3az-hosts.yaml"
PRESETS = [AWS_HOSTS if p.name == "aws-3az.yaml" else p for p in SHIPPED]


def _context(spec: ClusterSpec, root: Path, events: list[Event] | None = None) -> PhaseContext:
    sink = events if events is not None else []
    return PhaseContext(
        spec=spec, ws=workspace(spec.name, root).create(), options=RunOptions(), emit=sink.append
    )


@pytest.mark.parametrize("preset_file", PRESETS, ids=[p.stem for p in PRESETS])
def test_every_shipped_preset_passes_the_validator_and_ansible_inventory(
    preset_file: Path, tmp_path: Path
) -> None:
    spec = preset.load(preset_file)
    ctx = _context(spec, tmp_path)
    result = run_phase(ctx)
    assert result.status == "ok"
    assert result.data["files"] == dict.fromkeys(GENERATED_FILES, "new")
    hosts_file = ctx.ws.inventory_dir / "hosts.yaml"
    assert result.data["inventory"] == str(hosts_file)
    parsed = parse(hosts_file)  # parse the files as written, independently of the phase
    assert set(parsed.groups["kube_control_plane"]) == {h.name for h in spec.hosts_with("control_plane")}
    assert set(parsed.groups["etcd"]) == {h.name for h in spec.hosts_with("etcd")}
    for host in spec.hosts:
        assert parsed.hostvars[host.name]["ansible_host"] == host.address
    first_cp = spec.hosts_with("control_plane")[0].name
    assert parsed.hostvars[first_cp]["kube_version"] == spec.kubespray.kube_version  # group_vars applied
    assert parsed.hostvars[first_cp]["kubeconfig_localhost"] is True


def test_files_are_private_and_a_second_run_writes_nothing(tmp_path: Path) -> None:
    spec = preset.load(PRESETS[0])
    ctx = _context(spec, tmp_path)
    run_phase(ctx)
    files = [ctx.ws.inventory_dir / name for name in GENERATED_FILES]
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600
    assert (ctx.ws.inventory_dir / "group_vars" / "all").stat().st_mode & 0o777 == 0o700
    before = [p.stat().st_mtime_ns for p in files]
    again = run_phase(ctx)
    assert again.status == "ok"
    assert "already up to date" in again.summary
    assert set(again.data["files"].values()) == {"unchanged"}
    assert [p.stat().st_mtime_ns for p in files] == before
    assert not list(ctx.ws.cluster_dir.glob(".inventory-check-*"))  # the scratch copy is gone


def test_invalid_spec_writes_nothing_and_keeps_the_previous_inventory(tmp_path: Path) -> None:
    spec = preset.load(PRESETS[0])
    ctx = _context(spec, tmp_path)
    run_phase(ctx)
    hosts_file = ctx.ws.inventory_dir / "hosts.yaml"
    previous = hosts_file.read_text()
    events: list[Event] = []
    broken = spec.model_copy(
        update={"kubespray": spec.kubespray.model_copy(update={"kube_version": "1.29.0"})}
    )
    with pytest.raises(InputError) as raised:
        run_phase(_context(broken, tmp_path, events))
    assert raised.value.title == "Inventory is not valid: kubespray.kube_version"
    assert hosts_file.read_text() == previous
    assert "kubespray.kube_version: Kubernetes 1.29.0 is not supported" in raised.value.problem
    assert not [e for e in events if e.kind == "finding"]  # errors travel in the exception, once


def test_warnings_become_findings(tmp_path: Path) -> None:
    spec = preset.load(PRESETS[0])
    no_workers = [h.model_copy(update={"roles": ["control_plane", "etcd"]}) for h in spec.hosts[:3]]
    events: list[Event] = []
    small = spec.model_copy(
        update={"hosts": no_workers, "storage": spec.storage.model_copy(update={"type": "none"})}
    )
    result = run_phase(_context(small, tmp_path, events))
    assert result.status == "ok"
    findings = [e.data for e in events if e.kind == "finding"]
    assert [(f["id"], f["severity"]) for f in findings] == [("inventory:hosts[].roles", "warning")]
    assert "control plane hosts are put in kube_node" in findings[0]["title"]
    assert result.data["warnings"] == [f"hosts[].roles: {findings[0]['title']} — {findings[0]['fix']}"]


def test_diff_against_disk_shows_what_a_change_does(tmp_path: Path) -> None:
    spec = preset.load(PRESETS[0])
    ctx = _context(spec, tmp_path)
    run_phase(ctx)
    changed = spec.model_copy(
        update={"kubespray": spec.kubespray.model_copy(update={"kube_version": "1.34.7"})}
    )
    changes = {c.relative: c for c in plan(changed, ctx.ws)}
    assert changes["hosts.yaml"].status == "unchanged"
    assert changes["hosts.yaml"].diff() == ""
    k8s = changes["group_vars/k8s_cluster/kwizard.yml"]
    assert k8s.status == "changed"
    assert "-kube_version: 1.35.4\n+kube_version: 1.34.7\n" in k8s.diff()
    fresh = plan(spec, workspace(spec.name, tmp_path / "other"))
    assert {c.status for c in fresh} == {"new"}
    assert fresh[0].diff().startswith("--- /dev/null\n+++ b/hosts.yaml\n")


def test_preflight_findings_reach_the_inventory(tmp_path: Path) -> None:
    spec = next(preset.load(p) for p in PRESETS if p.stem == "lab")
    ctx = _context(spec, tmp_path)
    ctx.results["preflight"] = {"python_interpreters": {"lab2": "/usr/bin/python3.11"}}
    run_phase(ctx)
    inventory = yamlout.load((ctx.ws.inventory_dir / "hosts.yaml").read_text())
    assert inventory["all"]["hosts"]["lab2"]["ansible_python_interpreter"] == "/usr/bin/python3.11"


def test_ansible_inventory_failure_is_an_error_not_an_empty_inventory(tmp_path: Path) -> None:
    """Ansible's default is a warning and a localhost-only inventory; kwizard makes it fail."""
    broken = tmp_path / "hosts.yaml"
    broken.write_text("all:\n  hosts:\n    a: [unclosed\n")
    with pytest.raises(InputError) as raised:
        parse(broken)
    assert raised.value.title == "Ansible cannot parse the inventory"


def test_inventory_parse_ignores_a_stray_ansible_cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ANSIBLE_CONFIG in kwizard's own environment (e.g. one disabling the yaml plugin) is not used."""
    config = tmp_path / "hostile.cfg"
    config.write_text("[inventory]\nenable_plugins = ini\n")
    monkeypatch.setenv("ANSIBLE_CONFIG", str(config))
    spec = preset.load(PRESETS[0])
    ctx = _context(spec, tmp_path)
    assert run_phase(ctx).status == "ok"
    assert os.environ["ANSIBLE_CONFIG"] == str(config)


def test_scratch_folders_of_a_killed_check_are_removed_by_the_next_run(tmp_path: Path) -> None:
    """A kwizard SIGKILLed while ansible-inventory checked the files leaves its scratch copy behind."""
    import signal
    import subprocess
    import sys

    spec = preset.load(PRESETS[0])
    ctx = _context(spec, tmp_path)
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    dead = ctx.ws.cluster_dir / f".inventory-check-{killed.pid}-abcd1234"
    older = ctx.ws.cluster_dir / ".inventory-check-k2j3h4g5"  # named before the pid was part of it
    for leftover in (dead, older):
        (leftover / "group_vars").mkdir(parents=True)
        (leftover / "hosts.yaml").write_text("all: {}\n")
    assert run_phase(ctx).status == "ok"
    assert not list(ctx.ws.cluster_dir.glob(".inventory-check-*"))


def test_a_preset_whose_hosts_are_not_created_yet_has_no_inventory(tmp_path: Path) -> None:
    spec = preset.load(next(p for p in SHIPPED if p.name == "aws-3az.yaml"))
    assert spec.provision is not None and not spec.hosts
    with pytest.raises(InputError) as refused:
        run_phase(_context(spec, tmp_path))
    assert "hosts: the spec has no hosts" in refused.value.problem
