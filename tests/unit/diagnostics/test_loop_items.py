"""A failed loop (Kubespray's "Manage packages") is read item by item: diagnosed, and named in the message.

The events come from a real ansible-runner run of a looped task against `ansible_connection: local`, each
item failing with apt's own text for a host without internet (kubernetes-sigs/kubespray#3606).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from diagnostics_support import ansible_env

from kwizard.diagnostics import diagnose_events
from kwizard.engine.findings import default_diagnoser
from kwizard.engine.state import failure_message
from kwizard.runner.events import translate

pytestmark = pytest.mark.slow

APT_ERROR = (
    "W: Failed to fetch http://nova.clouds.archive.ubuntu.com/ubuntu/dists/xenial/InRelease  "
    "Temporary failure resolving 'nova.clouds.archive.ubuntu.com'"
)
# The shape of Kubespray v2.31.0's roles/system_packages "Manage packages": two items, labelled.
PLAYBOOK = f"""\
- hosts: all
  gather_facts: false
  tasks:
    - name: Manage packages
      ansible.builtin.shell: "echo 'Reading package lists...'; echo \\"{APT_ERROR}\\" >&2; exit 100"
      loop:
        - {{packages: [], state: absent, action_label: remove}}
        - {{packages: [curl, socat], state: present, action_label: install}}
      loop_control:
        label: "{{{{ item.action_label }}}}"
"""


@pytest.fixture(scope="module")
def loop_failure(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The raw `runner_on_failed` event of the looped task."""
    import ansible_runner

    home = tmp_path_factory.mktemp("loop")
    private = home / "private"
    (private / "project").mkdir(parents=True)
    (private / "project" / "site.yml").write_text(PLAYBOOK, encoding="utf-8")
    inventory = home / "hosts.ini"
    inventory.write_text(
        f"[all]\nnode1 ansible_connection=local ansible_python_interpreter={sys.executable}\n",
        encoding="utf-8",
    )
    events: list[dict[str, Any]] = []
    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook="site.yml",
        inventory=str(inventory),
        envvars={k: v for k, v in ansible_env(home).items() if k.startswith("ANSIBLE_") or k == "PATH"},
        event_handler=lambda event: events.append(event) or True,
        quiet=True,
        timeout=120,
    )
    assert result.status == "failed"
    (failed,) = [e for e in events if e["event"] == "runner_on_failed"]
    assert failed["event_data"]["res"]["msg"] == "One or more items failed"
    return failed


def test_translation_keeps_every_failed_item(loop_failure: dict[str, Any]) -> None:
    event = translate(loop_failure, "kubespray")
    assert event is not None and event.kind == "host_failed"
    items = event.data["res"]["results"]
    assert [(i["item"], i["failed"], i["rc"]) for i in items] == [
        ("remove", True, 100),
        ("install", True, 100),
    ]
    assert all(i["stderr"] == APT_ERROR for i in items)


def test_live_diagnosis_reads_the_items(loop_failure: dict[str, Any]) -> None:
    event = translate(loop_failure, "kubespray")
    assert event is not None
    (finding, *_) = diagnose_events([event])
    assert finding.id == "package_source_unreachable"
    assert finding.hosts == ("node1",)
    # What the run journals: the engine's own diagnoser on the same translated event.
    assert default_diagnoser()(event, {})[0]["id"] == "package_source_unreachable"


def test_failure_message_names_the_items_and_apts_error(loop_failure: dict[str, Any]) -> None:
    event = translate(loop_failure, "kubespray")
    assert event is not None
    message = failure_message(event.data["res"])
    assert message.startswith(f"remove: {APT_ERROR[:60]}")
    assert "; install: W: Failed to fetch" in message
    assert "One or more items failed" not in message


def test_runs_journalled_before_keep_their_first_item_readable(tmp_path: Path) -> None:
    """Journals written before every item was kept hold the first failed item under `item`."""
    from kwizard.protocol.phase import Event

    res = {
        "msg": "One or more items failed",
        "item": {"label": "install", "msg": "non-zero return code", "stderr": APT_ERROR},
    }
    event = Event("host_failed", "kubespray", "node1", {"task": "Manage packages", "res": res})
    assert [f.id for f in diagnose_events([event])][:1] == ["package_source_unreachable"]
    assert failure_message(res).startswith("install: W: Failed to fetch")
