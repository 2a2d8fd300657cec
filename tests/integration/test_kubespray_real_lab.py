"""Real Kubespray (opt-in): its cluster.yml through kwizard against the lab, as far as the lab allows.

Skipped unless KWIZARD_KUBESPRAY_DIR points at a Kubespray checkout (e.g. tag v2.31.0); kwizard builds
that checkout's venv from its requirements.txt (through the package registry) on the first run. The lab
has no internet and no systemd, so cluster.yml cannot finish here. What this shows: Kubespray's own
inventory validation (`validate_inventory`: etcd count, kube_version, subnets, booleans given as
strings…) accepts the inventory kwizard writes — with every string that could be a template tagged
`!unsafe` and the extra vars carrying canaries — and the run gets past the bootstrap into installing
packages, where the lab's missing internet stops it; kwizard names the host and the task.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kwizard import lab as kwlab
from kwizard.engine.journal import list_runs
from kwizard.paths import workspace
from tests.conftest import kwizard_command, kwizard_env
from tests.unit.test_preset_canaries import canaries

CHECKOUT = os.environ.get("KWIZARD_KUBESPRAY_DIR", "")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHECKOUT and (Path(CHECKOUT) / "cluster.yml").is_file()),
        reason="set KWIZARD_KUBESPRAY_DIR to a Kubespray checkout to run Kubespray itself",
    ),
]
HOSTS = {
    "lab1": ["control_plane", "etcd"],
    "lab2": ["control_plane", "etcd"],
    "lab4": ["worker", "etcd"],
    "lab5": ["worker"],
}
# Tasks of Kubespray's inventory validation and preinstall checks (its own words).
VALIDATION = ("Stop if", "Check that", "Guarantee that", "Fail if removed variables")


def _events(workdir: Path) -> list[dict[str, Any]]:
    (run,) = list_runs(workspace("realks", workdir))
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()[1:]]


def test_kubesprays_own_checks_accept_kwizards_inventory(lab: kwlab.Lab, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    values = canaries(markers)
    preset = {
        "version": 1,
        "name": "realks",
        "ssh": {"user": "root", "key": str(lab.key_path)},
        "hosts": [{"name": h, "address": lab.host(h).address, "roles": r} for h, r in HOSTS.items()],
        "kubespray": {
            "extra_vars": {"kw_canary": values["jinja_expression"], "kw_shell": values["backticks"]}
        },
        "preflight": {"acknowledged": ["systemd", "ip_forward", "memory"]},
        "phases": ["discover", "access", "preflight", "inventory", "kubespray"],
    }
    preset_file = tmp_path / "realks.yaml"
    preset_file.write_text(yaml.safe_dump(preset, sort_keys=False))
    workdir = tmp_path / "work"
    run = subprocess.run(
        kwizard_command(
            "--preset", str(preset_file), "--yes", "--accept-new-host-keys", "--kubespray-dir", CHECKOUT
        ),
        env=kwizard_env(KWIZARD_WORKDIR=str(workdir), COLUMNS="200"),
        capture_output=True, text=True, timeout=3000, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert "Traceback" not in output

    events = _events(workdir)
    tasks = [
        e["data"].get("task", "") for e in events if e["kind"] == "task_start" and e["phase"] == "kubespray"
    ]
    failed = [
        e for e in events if e["kind"] in ("host_failed", "host_unreachable") and e["phase"] == "kubespray"
    ]
    checks = [t for t in tasks if t.startswith(VALIDATION)]
    assert (
        "Stop if even number of etcd hosts" in checks
        and "Stop if unsupported version of Kubernetes" in checks
    )
    assert not [f for f in failed if str(f["data"].get("task", "")).startswith(VALIDATION)], failed
    # Past the validation, into the bootstrap and beyond: the lab has no internet, so whatever stops the
    # run comes after the checks, and kwizard names the task and the host.
    assert tasks.index("Stop if even number of etcd hosts") < len(tasks) - 1
    if run.returncode != 0:
        first = failed[0]["data"]
        assert f"{failed[0]['host']} — {first['task']}" in output
        # The lab has no package source: that stop is named, with its cause, not only "items failed".
        findings = [e["data"]["id"] for e in events if e["kind"] == "finding" and e["phase"] == "kubespray"]
        if first["task"] == "Manage packages":
            assert "package_source_unreachable" in findings, (findings, output[-3000:])
    assert list(markers.iterdir()) == []  # no canary ran while Kubespray read the inventory
