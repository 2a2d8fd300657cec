"""Headless runs as a user starts them (a real process): progress, --json, exit codes, --resume, full disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kwizard import preset
from kwizard.engine.journal import RunJournal, last_run
from kwizard.paths import Workspace
from tests.fixture_phases import local_spec

REPO = Path(__file__).resolve().parents[2]


def kwizard_fixture(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The kwizard command line with the fixture phase table (tests/fixture_phases.py)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.fixture_phases", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_preset(tmp_path: Path) -> Path:
    path = tmp_path / "fx.yaml"
    preset.save(local_spec(tmp_path), path)
    return path


def test_json_summary_failure_then_resume(tmp_path: Path) -> None:
    preset_file = write_preset(tmp_path)
    (tmp_path / "markers" / "kwizard-fail-w1").write_text("x")
    workdir = tmp_path / "work"
    env = {"KWIZARD_FIXTURE_PLAYBOOK": "quick.yml"}
    first = kwizard_fixture(
        "--preset", str(preset_file), "--yes", "--json", "--workdir", str(workdir), env=env
    )
    assert first.returncode == 1, first.stderr
    summary = json.loads(first.stdout)  # stdout holds only the JSON summary
    assert summary["status"] == "failed" and summary["failed_phase"] == "kubespray"
    assert [(p["name"], p["status"]) for p in summary["phases"]] == [
        ("inventory", "ok"),
        ("kubespray", "failed"),
        ("apps", "pending"),
    ]
    assert (
        summary["hosts"]["w1"]["failures"][0]["task"]
        == "kubernetes/preinstall : Stop if the node is not ready for Kubernetes"
    )
    assert summary["hosts"]["cp1"]["failures"] == []
    assert (
        "▶ Inventory" in first.stderr and "✗ [w1]" in first.stderr and "kwizard --resume fx" in first.stderr
    )
    assert Path(summary["report"]).is_file()

    (tmp_path / "markers" / "kwizard-fail-w1").unlink()
    second = kwizard_fixture("--resume", "fx", "--yes", "--workdir", str(workdir), env=env)
    assert second.returncode == 0, second.stderr
    assert "skip: succeeded before; spec unchanged" in second.stdout
    assert "run: failed last time" in second.stdout
    assert "Traceback" not in second.stdout + second.stderr
    ws = Workspace(root=workdir.resolve(), cluster="fx")
    record = RunJournal.load(last_run(ws)).record  # type: ignore[arg-type]
    assert record.status == "ok" and len(record.attempts) == 2

    third = kwizard_fixture("--resume", "fx", "--yes", "--json", "--workdir", str(workdir), env=env)
    assert third.returncode == 0
    assert json.loads(third.stdout.strip().splitlines()[-1])["resumed"] is False
    assert "Nothing to resume" in third.stderr


def test_a_run_killed_after_its_last_phase_is_closed_by_the_resume(tmp_path: Path) -> None:
    """Every phase ok, but no final status (SIGKILL between the last phase and the end of the run):
    `--resume` runs nothing again and the run is recorded as finished."""
    preset_file = write_preset(tmp_path)
    workdir = tmp_path / "work"
    env = {"KWIZARD_FIXTURE_PLAYBOOK": "quick.yml"}
    assert (
        kwizard_fixture("--preset", str(preset_file), "--yes", "--workdir", str(workdir), env=env).returncode
        == 0
    )
    ws = Workspace(root=workdir.resolve(), cluster="fx")
    directory = last_run(ws)
    assert directory is not None
    journal = RunJournal.load(directory)
    journal.update(status="interrupted")  # what the killed process left

    resumed = kwizard_fixture("--resume", "fx", "--yes", "--workdir", str(workdir), env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "Nothing to resume" not in resumed.stdout + resumed.stderr
    record = RunJournal.load(directory).record
    assert record.status == "ok" and all(record.phase(n).status == "ok" for n in record.selected)
    assert len(record.attempts) == 2


def test_resume_of_an_unknown_cluster_is_bad_input(tmp_path: Path) -> None:
    result = kwizard_fixture("--resume", "ghost", "--yes", "--workdir", str(tmp_path))
    assert result.returncode == 2
    assert "ghost" in result.stderr and "Traceback" not in result.stderr


needs_unshare = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare (a private tmpfs)"
)


@needs_unshare
def test_a_full_disk_is_a_clear_error_and_resume_works_after_freeing_space(tmp_path: Path) -> None:
    """The workspace on a tiny tmpfs (private mount namespace) that fills up during the run."""
    preset_file = write_preset(tmp_path)
    workdir = tmp_path / "small"
    workdir.mkdir()
    python = sys.executable
    run = f"KWIZARD_FIXTURE_PLAYBOOK=quick.yml {python} -m tests.fixture_phases"
    script = f"""
set -u
mount -t tmpfs -o size=2m tmpfs {workdir}
mkdir -p {workdir}/clusters
# Fill the disk, then give back a little: enough for the preset and the first journal writes.
dd if=/dev/zero of={workdir}/filler bs=4k 2>/dev/null
truncate -s -64k {workdir}/filler
{run} --preset {preset_file} --yes --workdir {workdir} >{tmp_path}/run1.out 2>{tmp_path}/run1.err
echo "first=$?"
cat {workdir}/clusters/fx/runs/*/state.json > {tmp_path}/state-after-full.json
rm {workdir}/filler
{run} --resume fx --yes --workdir {workdir} >{tmp_path}/run2.out 2>{tmp_path}/run2.err
echo "second=$?"
cp {workdir}/clusters/fx/runs/*/state.json {tmp_path}/state-final.json
"""
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    names = ("run1.out", "run1.err", "run2.out", "run2.err")
    outputs = {name: (tmp_path / name).read_text() for name in names}
    assert "first=1" in result.stdout, (result.stdout, result.stderr, outputs)
    first_output = outputs["run1.out"] + outputs["run1.err"]
    assert "Disk full" in first_output and "Traceback" not in first_output
    json.loads((tmp_path / "state-after-full.json").read_text())  # never half-written
    assert "second=0" in result.stdout, outputs
    final = json.loads((tmp_path / "state-final.json").read_text())
    assert final["status"] == "ok"
    assert all(phase["status"] == "ok" for phase in final["phases"].values())


def test_resume_reuses_the_kubespray_dir_and_ignored_checks_of_the_first_run(tmp_path: Path) -> None:
    """The real command line: `--resume` without the first run's --kubespray-dir and --ignore-preflight
    uses the recorded ones (and says so) instead of cloning Kubespray; given again, the new one wins."""
    from tests.conftest import kwizard_command, kwizard_env

    workdir = tmp_path / "work"
    mine, other = tmp_path / "my-kubespray", tmp_path / "other-kubespray"
    mine.mkdir()
    other.mkdir()  # neither is a checkout: the inventory phase stops naming the folder it was given
    preset_file = tmp_path / "ks.yaml"
    preset_file.write_text(
        "name: ks\n"
        "phases: [inventory, kubespray]\n"
        # Nothing to clone from: a run that forgot --kubespray-dir would try this repository.
        f"kubespray: {{repo_url: 'file://{tmp_path}/no-such-repo'}}\n"
        "hosts:\n"
        "  - {name: cp1, address: 10.0.0.1, roles: [control_plane, etcd, worker]}\n"
    )

    def kwizard(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            kwizard_command(*args, "--workdir", str(workdir)),
            cwd=REPO,
            env=kwizard_env(COLUMNS="400"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = kwizard(
        "--preset",
        str(preset_file),
        "--yes",
        "--kubespray-dir",
        str(mine),
        "--ignore-preflight",
        "ip_forward",
    )
    assert first.returncode == 2, first.stdout + first.stderr
    assert f"{mine} has no cluster.yml" in first.stdout + first.stderr

    resumed = kwizard("--resume", "ks", "--yes")
    output = resumed.stdout + resumed.stderr
    assert resumed.returncode == 2, output
    assert f"{mine} has no cluster.yml" in output
    assert "cloning kubespray" not in output.lower() and "could not clone" not in output.lower()
    assert f"--kubespray-dir {mine} and --ignore-preflight ip_forward as recorded with the run" in output
    ws = Workspace(root=workdir.resolve(), cluster="ks")
    directory = last_run(ws)
    assert directory is not None
    assert RunJournal.load(directory).record.options == {
        "kubespray_dir": str(mine),
        "ignore_preflight": ["ip_forward"],
    }

    again = kwizard("--resume", "ks", "--yes", "--kubespray-dir", str(other))
    output = again.stdout + again.stderr
    assert f"{other} has no cluster.yml" in output and f"{mine} has" not in output
    assert "--kubespray-dir" not in output.split("as recorded")[0].split("using")[-1]
    assert RunJournal.load(directory).record.options["kubespray_dir"] == str(other)
