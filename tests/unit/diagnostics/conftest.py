"""Fixtures for the diagnostics tests: real, successful Ansible runs in several output formats."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from diagnostics_support import PLAYBOOKS, ansible_env, ansible_playbook


@dataclass(frozen=True)
class CleanRuns:
    """Logs of one real, successful run of the Kubespray-like playbook, in several output formats."""

    logs: dict[str, bytes]
    artifacts: Path


def _run_playbook(home: Path, workdir: Path, flags: list[str], extra_env: dict[str, str]) -> bytes:
    result = subprocess.run(
        [
            str(ansible_playbook()),
            "-i",
            str(PLAYBOOKS / "clean_inventory.ini"),
            str(PLAYBOOKS / "clean_run.yml"),
            "-e",
            f"workdir={workdir}",
            *flags,
        ],
        env={**ansible_env(home), **extra_env},
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout.decode()[-3000:] + result.stderr.decode()[-3000:]
    return result.stdout


def _run_with_runner(home: Path, workdir: Path) -> Path:
    import ansible_runner

    private = home / "runner"
    private.mkdir()
    runner = ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(PLAYBOOKS / "clean_run.yml"),
        inventory=str(PLAYBOOKS / "clean_inventory.ini"),
        extravars={"workdir": str(workdir)},
        envvars={k: v for k, v in ansible_env(home).items() if k.startswith("ANSIBLE_") or k == "PATH"},
        quiet=True,
        timeout=600,
    )
    assert runner.status == "successful", runner.stdout.read()[-3000:]
    return Path(runner.config.artifact_dir)


@pytest.fixture(scope="session")
def clean_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CleanRuns]:
    """The same real playbook run three ways at once: -v (+ log_path), -vvv with YAML results, runner."""
    home = tmp_path_factory.mktemp("clean-ansible")
    work = home / "work"
    log_path = home / "log_path.log"
    with ThreadPoolExecutor(max_workers=3) as pool:
        verbose = pool.submit(_run_playbook, home, work / "v", ["-v"], {"ANSIBLE_LOG_PATH": str(log_path)})
        vvv = pool.submit(
            _run_playbook, home, work / "vvv", ["-vvv"], {"ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"}
        )
        runner = pool.submit(_run_with_runner, home, work / "runner")
        artifacts = runner.result()
        logs = {"verbose": verbose.result(), "vvv_yaml": vvv.result()}
    logs["log_path"] = log_path.read_bytes()
    logs["runner_stdout"] = (artifacts / "stdout").read_bytes()
    yield CleanRuns(logs, artifacts)
