"""`kwizard add-node` end to end on the lab, with a Kubespray-shaped stand-in checkout.

The stand-in's (tests/kubespray_standin.py) playbooks/facts.yml, scale.yml, cluster.yml and
upgrade-cluster.yml record how they were invoked (limit, extra vars, the inventory they were given, a
group_vars value, ANSIBLE_CONFIG) and mark the hosts they join, as the real ones leave a node configured.
Each lab host gets a `crictl` stand-in that lists one nginx-proxy container and records what it is asked
to stop. kwizard runs as a user runs it (a subprocess); the tests assert on the records, the hosts, the
preset, the inventory and the journal.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kwizard import lab as kwlab
from kwizard import preset as presets
from kwizard.paths import Workspace
from tests.cli import run_kwizard
from tests.kubespray_standin import JOINED, failing, last_journal, records, saved_cluster

pytestmark = pytest.mark.slow

CRICTL_CALLS = "/root/crictl-calls"
RUN_TIMEOUT = 900  # the first run builds the stand-in's venv with pip
CRICTL = """#!/bin/sh
# crictl stand-in: one running nginx-proxy container; `stop` is recorded.
case "$1" in
  ps) echo 0123abcd ;;
  stop) shift; echo "stop $*" >> {calls} ;;
esac
"""
BASE: dict[str, list[str]] = {"lab1": ["control_plane", "etcd"], "lab2": ["worker"]}


def _cluster(name: str, lab: kwlab.Lab, root: Path, checkout: Path) -> Workspace:
    """A saved cluster as a build leaves it (preset, inventory, known_hosts without the new hosts)."""
    ws = saved_cluster(name, lab, root, checkout, roles=BASE)
    known = [line for line in lab.known_hosts.read_text().splitlines() if _known_line_of(lab, line) in BASE]
    ws.known_hosts.write_text("\n".join(known) + "\n")  # the access phase of the build knew these only
    for host in lab.hosts:
        script = CRICTL.format(calls=CRICTL_CALLS)
        command = (
            f"rm -f {JOINED} {CRICTL_CALLS}; cat > /usr/local/bin/crictl && chmod 755 /usr/local/bin/crictl"
        )
        assert host.exec(["sh", "-c", command], input=script).returncode == 0
    return ws


def _known_line_of(lab: kwlab.Lab, line: str) -> str | None:
    for host in lab.hosts:
        if line.split(" ", 1)[0] in (host.address, f"[{host.address}]:{host.port}"):
            return host.name
    return None


def _entry(lab: kwlab.Lab, name: str, roles: str = "") -> str:
    host = lab.host(name)
    address = f"{host.address}:{host.port}" if host.port != 22 else host.address
    return f"{name} {address} {roles}".strip() if roles else f"{name}={address}"


def _kwizard(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_kwizard(root, *args, timeout=RUN_TIMEOUT)


def _joined(lab: kwlab.Lab, host: str) -> list[str]:
    done = lab.host(host).exec(["cat", JOINED])
    return done.stdout.split() if done.returncode == 0 else []


def _crictl_calls(lab: kwlab.Lab, host: str) -> list[str]:
    done = lab.host(host).exec(["cat", CRICTL_CALLS])
    return done.stdout.splitlines() if done.returncode == 0 else []


def _inventory(ws: Workspace) -> dict[str, Any]:
    return dict(yaml.safe_load((ws.inventory_dir / "hosts.yaml").read_text())["all"])


def _preset_hosts(ws: Workspace) -> list[str]:
    return [h.name for h in presets.load(ws.preset_file).hosts]


def _no_staged_file(ws: Workspace) -> bool:
    return not any(p.name.startswith(".add-node") for p in ws.inventory_dir.iterdir())


def _out(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout[-4000:] + done.stderr[-4000:]


def test_a_worker_joins_with_facts_then_scale_limited_to_it(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = _cluster("add-worker", lab, root, stand_in)
    kube_version = presets.load(ws.preset_file).kubespray.kube_version

    done = _kwizard(
        root, "add-node", "add-worker", _entry(lab, "lab5"), "--yes", "--accept-new-host-keys",
        "--ignore-preflight", "ip_forward,systemd",
    )  # fmt: skip

    assert done.returncode == 0, _out(done)
    [facts] = records(stand_in, "facts")
    assert facts["limit"] is None
    assert sorted(facts["play_hosts"]) == ["lab1", "lab2", "lab5"]
    [scale] = records(stand_in, "scale")
    assert scale["limit"] == "lab5"
    assert scale["play_hosts"] == ["lab5"]
    assert scale["ignore_assert_errors"] is None and scale["etcd_retries"] is None
    assert scale["kube_version"] == kube_version  # the inventory's group_vars apply to the staged hosts
    assert scale["ansible_config"] == str(stand_in / "ansible.cfg")
    assert "lab5:" in scale["inventory"] and Path(scale["inventory_file"]).parent == ws.inventory_dir
    assert records(stand_in, "cluster") == [] and records(stand_in, "upgrade-cluster") == []
    assert _joined(lab, "lab5") == ["scale"] and _joined(lab, "lab1") == []
    assert all(_crictl_calls(lab, host) == [] for host in ("lab1", "lab2", "lab5"))  # no new API server
    assert _preset_hosts(ws) == ["lab1", "lab2", "lab5"]
    assert presets.load(ws.preset_file).host("lab5").roles == ["worker"]
    inventory = _inventory(ws)
    assert set(inventory["hosts"]) == {"lab1", "lab2", "lab5"}
    assert set(inventory["children"]["kube_node"]["hosts"]) == {"lab2", "lab5"}
    assert _no_staged_file(ws)
    assert lab.host("lab5").address in ws.known_hosts.read_text()  # trusted on first use
    journal = last_journal(ws)
    assert journal["status"] == "ok"
    assert list(journal["phases"]) == ["access", "preflight", "facts", "scale", "update-preset"]
    assert journal["options"]["operation"]["hosts"][0]["name"] == "lab5"


def test_a_failed_addition_changes_nothing_and_resume_finishes_it(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = _cluster("add-resume", lab, root, stand_in)
    preset_before = ws.preset_file.read_text()
    with failing(stand_in, "scale"):
        failed = _kwizard(
            root, "add-node", "add-resume", _entry(lab, "lab5"), "--yes", "--accept-new-host-keys",
            "--ignore-preflight", "ip_forward,systemd",
        )  # fmt: skip

    assert failed.returncode == 1, _out(failed)
    assert "scale stand-in told to fail" in _out(failed)
    assert "Continue with: kwizard --resume add-resume --yes" in _out(failed)
    assert ws.preset_file.read_text() == preset_before
    assert "lab5" not in _inventory(ws)["hosts"]
    assert _no_staged_file(ws)
    assert last_journal(ws)["phases"]["update-preset"]["status"] == "pending"

    resumed = _kwizard(root, "--resume", "add-resume", "--yes")

    assert resumed.returncode == 0, _out(resumed)
    assert [call["limit"] for call in records(stand_in, "scale")] == ["lab5", "lab5"]
    assert _joined(lab, "lab5") == ["scale"]
    assert _preset_hosts(ws) == ["lab1", "lab2", "lab5"]
    assert "lab5" in _inventory(ws)["hosts"]
    journal = last_journal(ws)
    assert journal["status"] == "ok"
    assert journal["phases"]["access"]["attempts"] == 1  # reused, not run again


def test_control_plane_and_etcd_join_by_the_documented_procedure(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = _cluster("add-planes", lab, root, stand_in)
    shutil.copy(lab.known_hosts, ws.known_hosts)

    done = _kwizard(
        root, "add-node", "add-planes", _entry(lab, "lab4"), _entry(lab, "lab5"), "--role", "cp,etcd",
        "--yes", "--ignore-preflight", "ip_forward,systemd,memory,cpus",
    )  # fmt: skip

    assert done.returncode == 0, _out(done)
    [facts] = records(stand_in, "facts")
    assert facts["limit"] is None
    join, config = records(stand_in, "cluster")[0], records(stand_in, "upgrade-cluster")[0]
    for call in (join, config):
        assert call["limit"] == "etcd,kube_control_plane"
        assert call["ignore_assert_errors"] is True
        assert call["etcd_retries"] == 10  # two members join in one run
        assert sorted(call["play_hosts"]) == ["lab1", "lab4", "lab5"]
        assert call["control_planes"] == ["lab1", "lab4", "lab5"]  # new ones appended, never first
        assert call["etcd"] == ["lab1", "lab4", "lab5"]
    [_, full] = records(stand_in, "cluster")
    assert full["limit"] is None and full["ignore_assert_errors"] is None
    assert sorted(full["play_hosts"]) == ["lab1", "lab2", "lab4", "lab5"]
    assert records(stand_in, "scale") == []
    for host in ("lab1", "lab2", "lab4", "lab5"):
        assert _crictl_calls(lab, host) == ["stop 0123abcd"], host
    assert _preset_hosts(ws) == ["lab1", "lab2", "lab4", "lab5"]
    children = _inventory(ws)["children"]
    assert list(children["kube_control_plane"]["hosts"]) == ["lab1", "lab4", "lab5"]
    assert list(children["etcd"]["hosts"]) == ["lab1", "lab4", "lab5"]
    phases = list(last_journal(ws)["phases"])
    assert phases == [
        "access", "preflight", "facts", "etcd-join", "etcd-config", "cluster", "api-proxy", "update-preset"
    ]  # fmt: skip


def test_refusals_are_clear_errors_and_change_nothing(lab: kwlab.Lab, stand_in: Path, root: Path) -> None:
    ws = _cluster("add-refused", lab, root, stand_in)
    before = ws.preset_file.read_text()

    even = _kwizard(root, "add-node", "add-refused", _entry(lab, "lab4"), "--role", "control_plane,etcd")
    assert even.returncode == 2, _out(even)
    assert "even number of etcd members" in even.stderr
    assert "add one more etcd host" in even.stderr.lower().replace("\n", " ").replace("│", "")

    mixed = _kwizard(
        root, "add-node", "add-refused", _entry(lab, "lab4", "cp,etcd"), _entry(lab, "lab5"), "--yes"
    )
    assert mixed.returncode == 2, _out(mixed)
    assert "give the etcd role to lab5" in " ".join(mixed.stderr.replace("│", "").split()).lower()

    taken = _kwizard(root, "add-node", "add-refused", f"lab9={lab.host('lab2').address}", "--yes")
    assert taken.returncode == 2, _out(taken)
    assert "already host 'lab2'" in taken.stderr

    role = _kwizard(root, "add-node", "add-refused", _entry(lab, "lab5"), "--role", "storage", "--yes")
    assert role.returncode == 2, _out(role)
    assert "Role not supported by add-node" in role.stderr

    unasked = _kwizard(root, "add-node", "add-refused", _entry(lab, "lab5"))
    assert unasked.returncode == 2, _out(unasked)
    assert "--yes" in unasked.stderr

    assert ws.preset_file.read_text() == before
    assert not ws.runs_dir.exists() or not any(p.is_dir() for p in ws.runs_dir.iterdir())
    assert all(records(stand_in, name) == [] for name in ("facts", "scale", "cluster"))


def test_a_new_host_failing_preflight_stops_before_kubespray(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = _cluster("add-preflight", lab, root, stand_in)
    shutil.copy(lab.known_hosts, ws.known_hosts)
    before = ws.preset_file.read_text()

    done = _kwizard(root, "add-node", "add-preflight", _entry(lab, "lab3"), "--yes")

    assert done.returncode == 3, _out(done)
    assert "lab3" in _out(done) and "python" in _out(done).lower()
    assert records(stand_in, "facts") == [] and records(stand_in, "scale") == []
    assert ws.preset_file.read_text() == before
    assert "lab3" not in _inventory_or_empty(ws)
    journal = last_journal(ws)
    assert journal["phases"]["preflight"]["status"] == "failed"
    assert journal["phases"]["facts"]["status"] == "pending"


def _inventory_or_empty(ws: Workspace) -> dict[str, Any]:
    path = ws.inventory_dir / "hosts.yaml"
    return _inventory(ws)["hosts"] if path.is_file() else {}


async def test_add_nodes_from_the_clusters_home_screen(lab: kwlab.Lab, stand_in: Path, root: Path) -> None:
    """The wizard's home screen runs the same add-node engine: same playbooks, same preset update."""
    import asyncio

    from textual.widgets import DataTable

    from kwizard.options import RunOptions
    from kwizard.ui.app import WizardApp
    from kwizard.ui.modals import ChoiceModal
    from kwizard.ui.screens.day2_run import Day2RunScreen
    from kwizard.ui.screens.home import ClusterHome

    ws = _cluster("add-home", lab, root, stand_in)
    shutil.copy(lab.known_hosts, ws.known_hosts)
    options = RunOptions(ignore_preflight=frozenset({"ip_forward", "systemd"}))
    app = WizardApp(root=root, options=options)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # Continue 'add-home'
        await pilot.pause()
        assert isinstance(app.screen, ClusterHome)
        await pilot.click("#action-add-node")
        await pilot.pause()
        await pilot.press(*_entry(lab, "lab5"), "enter")
        await pilot.pause()
        await pilot.press("enter")  # roles: worker
        await pilot.pause()
        assert isinstance(app.screen, ChoiceModal)
        await pilot.click("#add")
        await pilot.pause()
        run = app.screen
        assert isinstance(run, Day2RunScreen)
        for _ in range(600 * 5):  # bounded: the stand-in's venv exists by now or is built in this time
            if run.outcome is not None and not run.running:
                break
            await asyncio.sleep(0.2)
        assert run.outcome is not None and run.outcome.status == "ok", run.outcome
        await pilot.click("#day2-back")
        await pilot.pause()
        home = app.screen
        assert isinstance(home, ClusterHome)
        hosts = home.query_one("#home-hosts", DataTable)
        assert [hosts.get_row_at(i)[0] for i in range(hosts.row_count)] == ["lab1", "lab2", "lab5"]
        runs = home.query_one("#home-runs", DataTable)
        assert runs.get_row_at(0)[1] == "add-node" and "ok" in str(runs.get_row_at(0)[2])

    [scale] = records(stand_in, "scale")
    assert scale["limit"] == "lab5" and scale["play_hosts"] == ["lab5"]
    assert _joined(lab, "lab5") == ["scale"]
    assert _preset_hosts(ws) == ["lab1", "lab2", "lab5"]
    assert "lab5" in _inventory(ws)["hosts"]
    assert list(last_journal(ws)["phases"]) == ["access", "preflight", "facts", "scale", "update-preset"]
