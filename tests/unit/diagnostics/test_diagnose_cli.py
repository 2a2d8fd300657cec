"""`kwizard diagnose PATH|-` as a user runs it: a file, stdin, a runner folder, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from diagnostics_support import CORPUS

ROOT = Path(__file__).resolve().parents[3]
MEMORY_LOG = (
    "TASK [kubernetes/preinstall : Stop if memory is too small for masters] ****\n"
    'fatal: [infra-k8s-master-01]: FAILED! => {\n    "assertion": "ansible_memtotal_mb >= 1500",\n'
    '    "changed": false,\n    "evaluated_to": false\n}\n'
)


def kwizard(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kwizard", "diagnose", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_json_on_a_file_is_best_first(tmp_path: Path) -> None:
    log = tmp_path / "cluster.log"
    log.write_text(MEMORY_LOG + (CORPUS / "swap-website-18945.yaml").read_text())
    done = kwizard("--json", str(log))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [f["category"] for f in result][:2] == ["insufficient_memory", "swap_enabled"]
    assert set(result[0]) == {"id", "category", "title", "confidence", "evidence", "fix", "hosts", "remedy"}
    assert "  → ansible_memtotal_mb >= 1500" in result[0]["evidence"]


def test_rich_report_from_stdin_shows_evidence_fix_and_remedy() -> None:
    done = kwizard("-", stdin='fatal: [n1]: FAILED! => {"msg": "Reset confirmation failed"}\n')
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "1 known error in standard input" in out
    assert "reset.yml needs its confirmation" in out and "confirmation_required" in out
    assert 'fatal: [n1]: FAILED! => {"msg": "Reset confirmation failed"}' in out
    assert "-e reset_confirmation=yes" in out
    assert "kwizard can fix this: Re-run with -e reset_confirmation=yes." in out


def test_evidence_file_changes_the_answer(tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    log.write_text(
        "RUNNING HANDLER [kubernetes/master : Master | wait for kube-scheduler] ***\n"
        'fatal: [m1]: FAILED! => {"msg": "Status code was not [200]: Request failed: '
        '<urlopen error [Errno 111] Connection refused>", "url": "http://localhost:10251/healthz"}\n'
    )
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"hosts": {"m1": {"memory_mb": 1024}}}))
    without = json.loads(kwizard("--json", str(log)).stdout)
    with_facts = json.loads(kwizard("--json", "--evidence", str(facts), str(log)).stdout)
    assert without[0]["category"] == "control_plane_unhealthy"
    assert with_facts[0]["category"] == "insufficient_memory"


def test_clean_input_is_analysed_and_says_so() -> None:
    done = kwizard("-", stdin="PLAY RECAP ***\nn1 : ok=3 changed=1 unreachable=0 failed=0\n")
    assert done.returncode == 0
    assert "No known error found in standard input." in done.stdout
    assert json.loads(kwizard("--json", "-", stdin="ok: [n1]\n").stdout) == []


def test_unknown_failure_is_reported_as_unknown() -> None:
    done = kwizard("-", stdin='fatal: [n1]: FAILED! => {"msg": "something nobody has seen"}\n')
    assert done.returncode == 0
    assert "1 failed result(s) match no known error" in done.stdout


def test_unreadable_input_exits_2_with_a_fix(tmp_path: Path) -> None:
    missing = kwizard(str(tmp_path / "nope.log"))
    assert missing.returncode == 2 and "Log not found" in missing.stderr and "Traceback" not in missing.stderr
    folder = kwizard(str(tmp_path))
    assert folder.returncode == 2 and "Not an ansible-runner artifacts folder" in folder.stderr
    bad_facts = tmp_path / "facts.json"
    bad_facts.write_text("{nope")
    invalid = kwizard("--evidence", str(bad_facts), "-", stdin="")
    assert invalid.returncode == 2 and "Invalid evidence file" in invalid.stderr


def _refused(done: subprocess.CompletedProcess[str], title: str) -> None:
    assert done.returncode == 2, done.stderr
    assert title in done.stderr and "Fix:" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_empty_and_binary_input_are_refused_quickly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    _refused(kwizard(str(empty)), "Empty log")
    _refused(kwizard("-", stdin=""), "Empty log")
    garbage = tmp_path / "core"
    garbage.write_bytes(bytes(range(256)) * 64)
    _refused(kwizard(str(garbage)), "Not a text log")


def test_huge_sparse_files_and_dev_zero_stop_at_once(tmp_path: Path) -> None:
    sparse = tmp_path / "disk.img"
    with sparse.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # 2 GB of holes: used to be read to the end
    for target in (str(sparse), "/dev/zero"):  # /dev/zero never ends: it used to hang
        started = time.monotonic()
        _refused(kwizard(target), "Not a text log")
        assert time.monotonic() - started < 10


def test_text_before_binary_data_is_still_diagnosed(tmp_path: Path) -> None:
    log = tmp_path / "cut.log"
    log.write_bytes(MEMORY_LOG.encode() + b"\0" * (20 * 1024 * 1024))
    done = kwizard(str(log))
    assert done.returncode == 0, done.stderr
    assert "Binary data from byte" in done.stdout and "1 known error" in done.stdout


def test_a_folder_of_ten_thousand_files_is_refused_and_odd_events_skipped(tmp_path: Path) -> None:
    many = tmp_path / "many"
    many.mkdir()
    for number in range(10_000):
        (many / f"f{number}").write_bytes(b"x")
    _refused(kwizard(str(many)), "Not an ansible-runner artifacts folder")
    events = tmp_path / "artifacts" / "r1" / "job_events"
    events.mkdir(parents=True)
    with (events / "1-huge.json").open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # not an event: skipped without being read
    (events / "2-deep.json").write_text("[" * 100_000 + "]" * 100_000)
    done = kwizard(str(tmp_path / "artifacts"))
    assert done.returncode == 0, done.stderr
    assert "2 unreadable event files skipped" in done.stdout
