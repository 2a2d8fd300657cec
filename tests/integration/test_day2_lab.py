"""`kwizard remove-node` and `kwizard reset` end to end on the lab, with a Kubespray-shaped stand-in.

Kubespray's own playbooks need systemd and the internet, which the lab has not. The stand-in checkout
(tests/kubespray_standin.py) has remove-node.yml, reset.yml and playbooks/facts.yml that record how they
were invoked (extra vars, limit, the inventory they were given, ANSIBLE_CONFIG) and touch the hosts at the
edges the real ones do: a node that is reset loses the marker file kwizard's test put on it. kwizard runs
as a user runs it (a subprocess); the tests assert on the records, the hosts, the preset, the inventory
and the journal.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from kwizard import lab as kwlab
from kwizard import preset as presets
from kwizard.paths import Workspace
from kwizard.spec import Host
from tests.cli import run_kwizard
from tests.kubespray_standin import (
    ROLES,
    failing,
    has_marker,
    last_journal,
    records,
    saved_cluster,
)

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 900  # the first run builds the stand-in's venv with pip


def _kwizard(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_kwizard(root, *args, timeout=RUN_TIMEOUT)


def _inventory_hosts(ws: Workspace) -> set[str]:
    document = yaml.safe_load((ws.inventory_dir / "hosts.yaml").read_text())
    return set(document["all"]["hosts"])


def test_remove_node_runs_remove_node_yml_then_updates_preset_and_inventory(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = saved_cluster("day2-remove", lab, root, stand_in)
    done = _kwizard(root, "remove-node", "day2-remove", "lab4", "--yes")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [call] = records(stand_in, "remove-node")
    assert call["node"] == "lab4"
    assert call["skip_confirmation"] is True
    assert call["allow_ungraceful_removal"] is None and call["reset_nodes"] is None  # graceful
    assert call["play_hosts"] == ["lab4"]
    assert call["ansible_config"] == str(stand_in / "ansible.cfg")
    assert "lab4:" in call["inventory"]  # Kubespray needs the node in the inventory it removes
    assert records(stand_in, "facts") == []  # remove-node.yml gathers facts itself when graceful
    assert not has_marker(lab, "lab4")
    assert all(has_marker(lab, host) for host in ("lab1", "lab2", "lab5"))
    assert [h.name for h in presets.load(ws.preset_file).hosts] == ["lab1", "lab2", "lab5"]
    assert _inventory_hosts(ws) == {"lab1", "lab2", "lab5"}
    journal = last_journal(ws)
    assert journal["status"] == "ok"
    assert list(journal["phases"]) == ["remove-node", "update-preset"]
    assert journal["options"]["operation"]["nodes"] == ["lab4"]
    command = json.loads(
        next(Path(journal["phases"]["remove-node"]["data"]["artifact_dir"]).glob("command")).read_text()
    )
    assert "--become" in command["command"]


def test_a_failed_removal_changes_nothing_and_resume_finishes_it(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = saved_cluster("day2-resume", lab, root, stand_in)
    preset_before = ws.preset_file.read_text()
    with failing(stand_in, "remove-node"):
        failed = _kwizard(root, "remove-node", "day2-resume", "lab5", "--yes")

    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "remove-node stand-in told to fail" in failed.stdout + failed.stderr
    assert "Continue with: kwizard --resume day2-resume --yes" in failed.stdout + failed.stderr
    assert ws.preset_file.read_text() == preset_before
    assert "lab5" in _inventory_hosts(ws)
    assert has_marker(lab, "lab5")
    assert last_journal(ws)["phases"]["update-preset"]["status"] == "pending"

    resumed = _kwizard(root, "--resume", "day2-resume", "--yes")

    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert [call["node"] for call in records(stand_in, "remove-node")] == ["lab5", "lab5"]
    assert not has_marker(lab, "lab5")
    assert "lab5" not in {h.name for h in presets.load(ws.preset_file).hosts}
    assert "lab5" not in _inventory_hosts(ws)
    assert last_journal(ws)["status"] == "ok"


def test_an_unreachable_node_needs_ungraceful_and_skips_its_reset(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    gone = Host(
        name="gone1", address=str(lab.host("lab1").address).rsplit(".", 1)[0] + ".250", roles=["worker"]
    )
    ws = saved_cluster("day2-gone", lab, root, stand_in, extra=[gone])

    refused = _kwizard(root, "remove-node", "day2-gone", "gone1", "--yes")
    assert refused.returncode == 2, refused.stdout[-3000:] + refused.stderr[-3000:]
    assert "--ungraceful" in refused.stderr
    assert records(stand_in, "remove-node") == []
    assert "gone1" in {h.name for h in presets.load(ws.preset_file).hosts}

    done = _kwizard(root, "remove-node", "day2-gone", "gone1", "--yes", "--ungraceful")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [facts] = records(stand_in, "facts")
    assert facts["limit"] == "all:!gone1"
    assert sorted(facts["play_hosts"]) == ["lab1", "lab2", "lab4", "lab5"]
    [call] = records(stand_in, "remove-node")
    assert call["node"] == "gone1"
    assert call["allow_ungraceful_removal"] is True and call["reset_nodes"] is False
    assert all(has_marker(lab, host) for host in ROLES)
    assert "gone1" not in _inventory_hosts(ws)
    assert list(last_journal(ws)["phases"]) == ["facts", "remove-node", "update-preset"]


def test_reset_needs_the_name_then_resets_every_node_and_marks_the_folder(
    lab: kwlab.Lab, stand_in: Path, root: Path
) -> None:
    ws = saved_cluster("day2-reset", lab, root, stand_in)

    refused = _kwizard(root, "reset", "day2-reset", "--confirm", "day2-other")
    assert refused.returncode == 2
    assert "Not confirmed" in refused.stderr
    assert records(stand_in, "reset") == []

    done = _kwizard(root, "reset", "day2-reset", "--confirm", "day2-reset")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [call] = records(stand_in, "reset")
    assert call["reset_confirmation"] is True
    assert sorted(call["play_hosts"]) == sorted(ROLES)
    assert not any(has_marker(lab, host) for host in ROLES)
    marker = json.loads((ws.cluster_dir / "reset.json").read_text())
    journal = last_journal(ws)
    assert marker["run_id"] == journal["run_id"]
    assert marker["cluster"] == "day2-reset"
    assert ws.preset_file.is_file() and (ws.inventory_dir / "hosts.yaml").is_file()  # kept

    again = _kwizard(root, "remove-node", "day2-reset", "lab4", "--yes")
    assert again.returncode == 2
    assert "was reset" in again.stderr
