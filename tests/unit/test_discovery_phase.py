"""The discover phase: checks the spec's host list and reports one row per host."""

from __future__ import annotations

from pathlib import Path

from kwizard.discovery import role_summary, run_phase
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import Event, PhaseContext
from kwizard.roles import default_roles
from kwizard.spec import ClusterSpec, Host


def ctx_for(spec: ClusterSpec, tmp_path: Path, events: list[Event]) -> PhaseContext:
    return PhaseContext(
        spec=spec, ws=Workspace(tmp_path, spec.name), options=RunOptions(), emit=events.append
    )


def test_hosts_are_reported_with_their_roles(tmp_path: Path) -> None:
    hosts = default_roles([Host(name=f"n{i}", address=f"10.0.0.{i}") for i in range(1, 6)])
    events: list[Event] = []
    result = run_phase(ctx_for(ClusterSpec(name="c", hosts=hosts), tmp_path, events))
    assert result.status == "ok"
    assert result.summary == "5 hosts: 3 control_plane, 3 etcd, 2 worker, 2 loadbalancer"
    assert [(e.host, e.data["status"]) for e in events] == [(f"n{i}", "ok") for i in range(1, 6)]
    assert result.data["hosts"][0] == {
        "name": "n1",
        "address": "10.0.0.1",
        "roles": ["control_plane", "etcd"],
    }


def test_names_that_do_not_resolve_fail_with_a_fix(tmp_path: Path) -> None:
    hosts = default_roles([Host(name="a", address="127.0.0.1"), Host(name="b", address="nosuchhost.invalid")])
    events: list[Event] = []
    result = run_phase(ctx_for(ClusterSpec(name="c", hosts=hosts), tmp_path, events))
    assert result.status == "failed"
    assert "nosuchhost.invalid does not resolve" in result.summary
    failed = [e for e in events if e.data["status"] == "failed"]
    assert [e.host for e in failed] == ["b"] and "/etc/hosts" in failed[0].data["fix"]


def test_no_hosts_is_a_failed_phase(tmp_path: Path) -> None:
    result = run_phase(ctx_for(ClusterSpec(name="c"), tmp_path, []))
    assert result.status == "failed" and "No hosts" in result.summary


def test_role_summary_singular() -> None:
    assert (
        role_summary([Host(name="a", address="10.0.0.1", roles=["control_plane"])])
        == "1 host: 1 control_plane"
    )


def test_access_and_discovery_core_never_import_the_ui() -> None:
    import subprocess
    import sys

    from tests.conftest import REPO, kwizard_env

    modules = [
        "kwizard.ssh",
        "kwizard.hostkeys",
        "kwizard.access",
        "kwizard.discovery",
        "kwizard.discovery.scan",
        "kwizard.discovery.sshconfig",
        "kwizard.discovery.terraform",
        "kwizard.discovery.aws",
    ]
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n    importlib.import_module(name)\n"
        "ui = ('textual', 'questionary', 'rich', 'kwizard.ui', 'boto3')\n"
        "print(sorted(m for m in ui if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=kwizard_env(), cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"  # boto3 too: it loads only when EC2 discovery runs
