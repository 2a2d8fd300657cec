"""`kwizard diagnose` on a log with a huge number of failed hosts: bounded, and it says where it stopped."""

from __future__ import annotations

import pytest

from kwizard.diagnostics import diagnose_text, scanner
from kwizard.diagnostics.diagnose import diagnose_stream
from kwizard.diagnostics.ranking import MAX_EVIDENCE_LINES


def _unreachable_log(hosts: int) -> bytes:
    lines = ["PLAY [all] *****", "", "TASK [Gathering Facts] *****"]
    lines += [
        f'fatal: [host{i}]: UNREACHABLE! => {{"changed": false, '
        f'"msg": "Failed to connect to the host via ssh: ssh: connect to host 10.0.{i // 256}.{i % 256} '
        'port 22: Connection refused", "unreachable": true}'
        for i in range(hosts)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_the_scan_stops_at_the_record_bound_and_says_where(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(scanner, "MAX_RECORDS", 300)
    log = _unreachable_log(1000)
    diagnosis = diagnose_stream(io.BytesIO(log))
    assert diagnosis.failures == 300
    assert diagnosis.cut_at is not None and 0 < diagnosis.cut_at < len(log)
    (finding,) = [f for f in diagnosis.findings if f.id == "ssh_unreachable"]
    assert len(finding.hosts) == 300 and finding.hosts[:2] == ("host0", "host1")
    assert len(finding.evidence) <= MAX_EVIDENCE_LINES


def test_below_the_bound_every_host_is_named_once() -> None:
    import io

    diagnosis = diagnose_stream(io.BytesIO(_unreachable_log(2000) + _unreachable_log(2000)))
    assert diagnosis.cut_at is None
    (finding,) = [f for f in diagnosis.findings if f.id == "ssh_unreachable"]
    assert len(finding.hosts) == 2000  # each host once, in order, though it failed twice
    assert finding.hosts[-1] == "host1999"


def test_a_long_pasted_journal_is_traced_to_its_result_once() -> None:
    """100k error lines with no result around them: each is traced up once, not 400 lines each."""
    import time

    line = "Mar 01 12:00:00 n1 kubelet[44]: failed to run Kubelet: running with swap on is not supported\n"
    # more lines than MAX_RECORDS: the bound stops the scan, the finding stays
    started = time.process_time()
    findings = diagnose_text(line * 100_000)
    assert [f.id for f in findings] == ["swap_enabled"]
    assert time.process_time() - started < 10  # 2.7 s here; 14 s when each line is traced up again
