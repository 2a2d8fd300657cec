"""A real run of Kubespray's systemd check on a host whose PID 1 is not systemd (this test's machine).

Kubespray v2.31 stops with "Stop if non systemd OS type" (assert ansible_service_mgr == "systemd")
on any distribution when systemd is not PID 1. The diagnosis must name that, not "unsupported
distribution" with a flag that does not affect the check, and say "likely because" when preflight
measured it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from diagnostics_support import ansible_env, ansible_playbook

from kwizard.diagnostics import Evidence, diagnose_text

pytestmark = pytest.mark.slow

# The check as Kubespray's preinstall role has it (task name and assertion).
PLAYBOOK = """\
- hosts: all
  gather_facts: true
  gather_subset: [min]
  tasks:
    - name: Stop if non systemd OS type
      ansible.builtin.assert:
        that: ansible_service_mgr == "systemd"
"""


def _pid1() -> str:
    return Path("/proc/1/comm").read_text(encoding="utf-8").strip()


@pytest.mark.skipif(_pid1() == "systemd", reason="this machine runs systemd: the check would pass")
def test_real_non_systemd_stop_is_named_no_systemd(tmp_path: Path) -> None:
    (tmp_path / "site.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "hosts.ini").write_text(
        f"[all]\nlab1 ansible_connection=local ansible_python_interpreter={sys.executable}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(ansible_playbook()), "-i", str(tmp_path / "hosts.ini"), str(tmp_path / "site.yml")],
        env=ansible_env(tmp_path),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stdout.decode()[-2000:]
    assert b"Stop if non systemd OS type" in done.stdout and b"PLAY RECAP" in done.stdout

    top = diagnose_text(done.stdout)[0]
    assert (top.id, top.category, top.hosts) == ("no_systemd", "unsupported_os", ("lab1",))
    assert not any("allow_unsupported_distribution_setup" in step for step in top.fix)

    measured = Evidence.from_mapping({"hosts": {"lab1": {"systemd": False, "os_supported": True}}})
    top = diagnose_text(done.stdout, measured)[0]
    assert top.id == "no_systemd" and top.confidence > 0.95
    assert top.evidence[0] == "likely because preflight found that lab1 does not run systemd"
