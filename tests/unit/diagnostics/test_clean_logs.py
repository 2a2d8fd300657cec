"""No guessing on clean logs: real successful runs give no finding, in every output format."""

from __future__ import annotations

import pytest

from kwizard.diagnostics import diagnose_path, diagnose_text, load_ruleset
from kwizard.diagnostics.scanner import scan_bytes

pytestmark = pytest.mark.slow

FORMATS = ("verbose", "vvv_yaml", "log_path", "runner_stdout")


@pytest.mark.parametrize("name", FORMATS)
def test_clean_run_has_no_findings(clean_runs, name: str) -> None:
    log = clean_runs.logs[name]
    # The run really exercised the risky parts: retries that succeeded, an ignored failure, asserts.
    assert b"FAILED - RETRYING" in log and b"wait for kube-scheduler" in log
    assert b"etcd cluster is unavailable or misconfigured" in log
    assert b"Stop if memory is too small for control plane nodes" in log
    assert diagnose_text(log) == []


def test_clean_run_ignored_failure_is_not_a_record(clean_runs) -> None:
    scanned = scan_bytes(clean_runs.logs["verbose"], load_ruleset())
    assert [r for r in scanned.records if r.kind != "text"] == []


def test_clean_runner_artifacts_have_no_findings(clean_runs) -> None:
    diagnosis = diagnose_path(clean_runs.artifacts)
    assert diagnosis.findings == []
    assert diagnosis.failures == 0
    assert str(clean_runs.artifacts) in diagnosis.source


def test_clean_log_repeated_and_concatenated_stays_clean(clean_runs) -> None:
    big = b"".join(clean_runs.logs[name] for name in FORMATS) * 20
    assert diagnose_text(big) == []
