"""UNREACHABLE results: ssh's own reason decides, and a reason no rule knows is still named and quoted.

The messages have the shapes ansible-core's ssh connection plugin raises: "Failed to connect to the host
via ssh: <ssh stderr>" and 'Data could not be sent to remote host "<host>". Make sure this host can be
reached over ssh: <ssh stderr>'.
"""

from __future__ import annotations

from kwizard.diagnostics import Evidence, HostFacts, diagnose_events
from kwizard.protocol.phase import Event

DATA_NOT_SENT = (
    'Data could not be sent to remote host "10.96.0.11". Make sure this host can be reached over ssh: '
)


def unreachable(msg: str) -> Event:
    res = {"msg": msg, "unreachable": True, "changed": False}
    return Event("host_unreachable", "kubespray", "node1", {"task": "Gathering Facts", "res": res})


def test_a_reason_no_rule_knows_gets_a_generic_ssh_finding_quoting_it() -> None:
    reason = "kex_exchange_identification: read: Connection reset by peer"
    (finding,) = diagnose_events([unreachable(f"Failed to connect to the host via ssh: {reason}\r\n")])
    assert (finding.id, finding.category, finding.hosts) == ("ssh_failed", "ssh_unreachable", ("node1",))
    assert f"ssh said: {reason}" in finding.evidence


def test_a_known_reason_is_not_also_reported_as_unknown() -> None:
    msg = "Failed to connect to the host via ssh: root@10.96.0.11: Permission denied (publickey,password)."
    assert [f.id for f in diagnose_events([unreachable(msg)])] == ["ssh_auth_failed"]


def test_sshs_reason_after_data_could_not_be_sent_decides() -> None:
    event = unreachable(DATA_NOT_SENT + "ssh: connect to host 10.96.0.11 port 22: Connection refused\r\n")
    # Even a host measured without python3 is not a python problem when ssh itself was refused.
    no_python = Evidence({"node1": HostFacts(python3=False)})
    findings = diagnose_events([event], no_python)
    assert [f.id for f in findings] == ["ssh_unreachable"]
    assert "ssh said: ssh: connect to host 10.96.0.11 port 22: Connection refused" in findings[0].evidence


def test_an_unknown_reason_after_data_could_not_be_sent_is_quoted() -> None:
    reason = "mux_client_request_session: session request failed: Session open refused by peer"
    findings = diagnose_events([unreachable(DATA_NOT_SENT + reason)])
    assert [f.id for f in findings] == ["ssh_failed"]
    assert f"ssh said: {reason}" in findings[0].evidence


def test_data_could_not_be_sent_without_a_reason_keeps_its_own_finding() -> None:
    for tail in ("", "Warning: Permanently added '10.96.0.11' (ED25519) to the list of known hosts.\r\n"):
        findings = diagnose_events([unreachable(DATA_NOT_SENT + tail)])
        assert [f.id for f in findings][:1] == ["ssh_data_not_sent"], tail
        assert not any(line.startswith("ssh said:") for line in findings[0].evidence)


def test_the_text_log_of_an_unknown_reason_is_quoted_too() -> None:
    from kwizard.diagnostics import diagnose_text

    log = (
        "TASK [Gathering Facts] *********************************************************\n"
        'fatal: [node1]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: '
        'Connection closed by 10.96.0.11 port 22\\r\\n", "unreachable": true}\n'
    )
    (finding,) = diagnose_text(log)
    assert finding.id == "ssh_failed"
    assert "ssh said: Connection closed by 10.96.0.11 port 22" in finding.evidence
