"""Real Kubespray (opt-in): its cluster.yml through kwizard against the lab, as far as the lab allows.

Skipped unless KWIZARD_KUBESPRAY_DIR points at a Kubespray checkout (e.g. tag v2.31.0); kwizard builds
that checkout's venv from its requirements.txt (through the package registry) on the first run. The lab
has no internet and no systemd, so cluster.yml cannot finish here. What this shows: Kubespray's own
inventory validation (`validate_inventory`: etcd count, kube_version, subnets, booleans given as
strings…) accepts the inventory kwizard writes — with every string that could be a template tagged
`!unsafe` and the extra vars carrying canaries — and every stop the lab makes the run reach is named with
its cause (measured with v2.31.0):

1. "Manage packages" (a loop): apt cannot resolve deb.debian.org → package_source_unreachable.
2. With the package step skipped (its tag): "Stop if non systemd OS type" → no_systemd, with preflight's
   finding as the reason (not "unsupported OS").
3. With ignore_assert_errors as well: "Ensure kubelet expected parameters are set" (a loop of sysctls,
   "permission denied on key") → sysctl_not_writable.
4. With kubelet_protect_kernel_defaults: false as well: "Increase sysctl value if lower than minimum"
   (inotify limits, a loop) → sysctl_not_writable. No Kubespray switch skips that step: the lab ends here,
   before any download.
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


def _run(
    lab: kwlab.Lab, tmp_path: Path, extra_vars: dict[str, Any], **env: str
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """cluster.yml through kwizard (headless) on the lab with `extra_vars`; its output and events."""
    preset = {
        "version": 1,
        "name": "realks",
        "ssh": {"user": "root", "key": str(lab.key_path)},
        "hosts": [{"name": h, "address": lab.host(h).address, "roles": r} for h, r in HOSTS.items()],
        "kubespray": {"extra_vars": extra_vars},
        "preflight": {"acknowledged": ["systemd", "ip_forward", "memory"]},
        "phases": ["discover", "access", "preflight", "inventory", "kubespray"],
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    preset_file = tmp_path / "realks.yaml"
    preset_file.write_text(yaml.safe_dump(preset, sort_keys=False))
    workdir = tmp_path / "work"
    run = subprocess.run(
        kwizard_command(
            "--preset", str(preset_file), "--yes", "--accept-new-host-keys", "--kubespray-dir", CHECKOUT
        ),
        env=kwizard_env(KWIZARD_WORKDIR=str(workdir), COLUMNS="200", **env),
        capture_output=True, text=True, timeout=3000, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "Traceback" not in run.stdout + run.stderr
    return run, _events(workdir)


def _stop(events: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """The task the run stopped at and, per failed host, the top finding's id there."""
    failed = [
        e for e in events if e["kind"] in ("host_failed", "host_unreachable") and e["phase"] == "kubespray"
    ]
    assert failed, "the run did not stop at a failed task"
    task = str(failed[0]["data"].get("task", ""))
    tops: list[str] = []
    for host in sorted({str(f["host"]) for f in failed}):
        found = [
            e["data"]
            for e in events
            if e["kind"] == "finding" and e["phase"] == "kubespray" and e["host"] == host
        ]
        if found:
            tops.append(max(found, key=lambda f: f["confidence"])["id"])
    return task, tops


def test_kubesprays_own_checks_accept_kwizards_inventory(lab: kwlab.Lab, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    values = canaries(markers)
    extra = {"kw_canary": values["jinja_expression"], "kw_shell": values["backticks"]}
    run, events = _run(lab, tmp_path, extra)
    output = run.stdout + run.stderr
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
    assert run.returncode != 0
    first = failed[0]["data"]
    assert f"{failed[0]['host']} — {first['task']}" in output
    # The lab has no package source (no DNS, no route out): "Manage packages" is a loop whose items
    # carry apt's own error; the stop is named with its cause, not only "One or more items failed",
    # and not as stale package lists (that is a 404, not a name that does not resolve).
    task, tops = _stop(events)
    assert task == "Manage packages", task
    assert tops and set(tops) == {"package_source_unreachable"}, (tops, output[-3000:])
    assert list(markers.iterdir()) == []  # no canary ran while Kubespray read the inventory


def test_next_stops_past_the_packages(lab: kwlab.Lab, tmp_path: Path) -> None:
    """Without the package step (skipped by its tag) the run reaches Kubespray's host checks.

    The lab's hosts are network namespaces of one machine: PID 1 is not systemd. Kubespray's "Stop if
    non systemd OS type" is named as that (with preflight's own finding as the reason), not as an
    unsupported OS: Debian 12 is supported, and allow_unsupported_distribution_setup does not help.
    """
    skip = {"ANSIBLE_SKIP_TAGS": "system-packages"}
    run, events = _run(lab, tmp_path / "one", {}, **skip)
    task, tops = _stop(events)
    assert task == "Stop if non systemd OS type", task
    assert tops and set(tops) == {"no_systemd"}, tops
    output = run.stdout + run.stderr
    assert "does not run systemd" in output and "allow_unsupported_distribution_setup" not in output

    # Past Kubespray's asserts (ignore_assert_errors), the next stop is a loop of sysctl items: the lab's
    # hosts share one machine's kernel and may not set its parameters. Named from the items' own words.
    run, events = _run(lab, tmp_path / "two", {"ignore_assert_errors": True}, **skip)
    task, tops = _stop(events)
    assert task == "Ensure kubelet expected parameters are set", task
    assert tops and set(tops) == {"sysctl_not_writable"}, tops
    assert "does not let Kubespray set kernel parameters" in run.stdout + run.stderr

    # Without the kubelet's kernel defaults (kubelet_protect_kernel_defaults: false) the run stops at the
    # next sysctl step (inotify limits): the same cause, named the same. The lab cannot go further.
    extra = {"ignore_assert_errors": True, "kubelet_protect_kernel_defaults": False}
    run, events = _run(lab, tmp_path / "three", extra, **skip)
    task, tops = _stop(events)
    assert task == "Increase sysctl value if lower than minimum", task
    assert tops and set(tops) == {"sysctl_not_writable"}, tops
