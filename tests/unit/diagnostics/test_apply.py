"""Applying a remedy before a retry: the preset changes it makes and the commands it runs on hosts."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from kwizard.diagnostics.apply import (
    apply_on_hosts,
    apply_to_spec,
    can_apply,
    changes_spec,
    host_argv,
    plan_from_finding,
)
from kwizard.diagnostics.loader import load_ruleset
from kwizard.errors import InputError, KwizardError
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.protocol.phase import PhaseContext
from kwizard.spec import ClusterSpec
from kwizard.ssh_errors import HostUnreachable


def _spec(**extra: object) -> ClusterSpec:
    return ClusterSpec.model_validate(
        {
            "name": "fx",
            "hosts": [
                {"name": "lab1", "address": "127.0.0.1", "roles": ["control_plane", "etcd", "worker"]},
                {"name": "lab3", "address": "127.0.0.3", "roles": ["worker"]},
            ],
            **extra,
        }
    )


def _finding(remedy: str | None, finding_id: str = "python_interpreter_missing") -> dict[str, object]:
    return {"id": finding_id, "category": finding_id, "title": "t", "confidence": 0.9, "remedy": remedy}


def test_python_interpreter_is_set_for_the_failed_host_only() -> None:
    plan = plan_from_finding(_finding("set_python_interpreter"), "lab3")
    assert plan is not None and plan.hosts == ("lab3",) and changes_spec(plan)
    updated = apply_to_spec(plan, _spec())
    assert updated.host("lab3").python_interpreter == "/usr/bin/python3"
    assert updated.host("lab1").python_interpreter is None


def test_extra_var_remedy_keeps_the_other_extra_vars() -> None:
    plan = plan_from_finding(_finding("add_reset_confirmation", "reset_confirmation"), "lab1")
    assert plan is not None and plan.hosts == ()  # a run-wide remedy
    updated = apply_to_spec(plan, _spec(kubespray={"extra_vars": {"foo": 1}}))
    assert updated.kubespray.extra_vars == {"foo": 1, "reset_confirmation": "yes"}


def test_host_command_is_one_quoted_sh_argument() -> None:
    plan = plan_from_finding(_finding("install_python3"), "lab3")
    assert plan is not None and can_apply(plan) and not changes_spec(plan)
    command = load_ruleset().remedies["install_python3"].action.command
    assert host_argv(plan) == ["sh", "-c", command]
    assert apply_to_spec(plan, _spec()) == _spec()  # nothing in the preset changes


@pytest.mark.parametrize("remedy", [None, "no_such_remedy", "ask_become_password", "run_facts_before_limit"])
def test_remedies_kwizard_does_not_apply_offer_no_button(remedy: str | None) -> None:
    assert plan_from_finding(_finding(remedy), "lab3") is None


def test_host_remedy_without_a_host_is_not_offered() -> None:
    assert plan_from_finding(_finding("install_python3"), None) is None


def test_a_host_the_preset_lost_is_a_clear_error(tmp_path: Path) -> None:
    plan = plan_from_finding(_finding("set_python_interpreter"), "lab9")
    assert plan is not None
    with pytest.raises(InputError, match="lab9"):
        apply_to_spec(plan, _spec())
    ctx = PhaseContext(_spec(), workspace("fx", tmp_path), RunOptions())
    with pytest.raises(InputError, match="lab9"):
        apply_on_hosts(ctx, plan_from_finding(_finding("install_python3"), "lab9"))  # type: ignore[arg-type]


def test_an_unreachable_host_is_a_kwizard_error_naming_it(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    spec = _spec(ssh={"key": str(key)}).updated(
        hosts=[
            {
                "name": "lab3",
                "address": "127.0.0.1",
                "port": port,
                "roles": ["control_plane", "etcd", "worker"],
            }
        ]
    )
    ws = workspace("fx", tmp_path).create()
    plan = plan_from_finding(_finding("install_python3"), "lab3")
    assert plan is not None
    with pytest.raises(KwizardError) as caught:
        apply_on_hosts(PhaseContext(spec, ws, RunOptions()), plan, timeout=10)
    assert isinstance(caught.value, HostUnreachable) and "lab3" in caught.value.problem
