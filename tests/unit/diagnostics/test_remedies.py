"""remedy_for(finding): what the dashboard's "apply fix and retry" does, as data."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kwizard.diagnostics import diagnose_text, remedy_for
from kwizard.diagnostics.loader import load_ruleset
from kwizard.diagnostics.model import RemedyAction
from kwizard.hostfixes import ENABLE_IP_FORWARD, INSTALL_PYTHON3


def test_inventory_var_remedy_for_the_failed_hosts() -> None:
    log = (
        'fatal: [n1]: FAILED! => {"module_stdout": "/bin/sh: 1: /usr/bin/python: not found", '
        '"msg": "MODULE FAILURE", "rc": 127}\n'
    )
    plan = remedy_for(diagnose_text(log)[0])
    assert plan is not None
    assert plan.inventory_vars() == {"n1": {"ansible_python_interpreter": "/usr/bin/python3"}}
    assert plan.extra_vars() == {}
    assert plan.describe() == "Set ansible_python_interpreter=/usr/bin/python3 on n1, then retry."


def test_run_wide_remedies() -> None:
    reset = remedy_for(diagnose_text('fatal: [n1]: FAILED! => {"msg": "Reset confirmation failed"}\n')[0])
    assert reset is not None and reset.extra_vars() == {"reset_confirmation": "yes"} and reset.hosts == ()
    facts = remedy_for(
        diagnose_text(
            'fatal: [n2]: FAILED! => {"msg": "Kubespray does not support \'--limit\' '
            'without a populated facts cache"}\n'
        )[0]
    )
    assert (
        facts is not None
        and facts.action.kind == "run_playbook_first"
        and facts.action.name == "playbooks/facts.yml"
    )


def test_host_commands_are_fixed_strings() -> None:
    ip_forward = remedy_for(
        diagnose_text(
            "[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: "
            "/proc/sys/net/ipv4/ip_forward contents are not set to 1\n"
        )[0]
    )
    assert ip_forward is not None and ip_forward.action.kind == "host_command"
    assert "net.ipv4.ip_forward=1" in (ip_forward.action.command or "")
    # The same repair as the Preflight step's fix, text for text.
    assert ip_forward.action.command == ENABLE_IP_FORWARD
    assert load_ruleset().remedies["install_python3"].action.command == INSTALL_PYTHON3
    assert ip_forward.describe() == "Enable IPv4 forwarding (as root), then retry."  # no host in this log


def test_a_remedy_names_a_known_script_or_gives_a_command_never_both() -> None:
    with pytest.raises(ValidationError, match="unknown script 'reboot'"):
        RemedyAction.model_validate({"kind": "host_command", "script": "reboot"})
    with pytest.raises(ValidationError, match="either a command or a script"):
        RemedyAction.model_validate({"kind": "host_command", "script": "install_python3", "command": "true"})
    with pytest.raises(ValidationError, match="needs a command"):
        RemedyAction.model_validate({"kind": "host_command"})


def test_no_automatic_remedy_for_a_changed_host_key() -> None:
    log = (
        'fatal: [n1]: UNREACHABLE! => {"msg": "Failed to connect to the host via ssh: '
        'Host key verification failed.", "unreachable": true}\n'
    )
    assert remedy_for(diagnose_text(log)[0]) is None


def test_every_remedy_is_described() -> None:
    for remedy in load_ruleset().remedies.values():
        assert remedy.title and remedy.description
