"""remedy_for(finding): what the dashboard's "apply fix and retry" does, as data."""

from __future__ import annotations

from kwizard.diagnostics import diagnose_text, remedy_for
from kwizard.diagnostics.loader import load_ruleset


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


def test_no_automatic_remedy_for_a_changed_host_key() -> None:
    log = (
        'fatal: [n1]: UNREACHABLE! => {"msg": "Failed to connect to the host via ssh: '
        'Host key verification failed.", "unreachable": true}\n'
    )
    assert remedy_for(diagnose_text(log)[0]) is None


def test_every_remedy_is_described() -> None:
    for remedy in load_ruleset().remedies.values():
        assert remedy.title and remedy.description
