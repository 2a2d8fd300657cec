"""Workspaces: one private folder per cluster, remembered for "continue where you left off"."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kwizard import preset as presets
from kwizard.paths import known_clusters, last_cluster, workspace
from kwizard.spec import ClusterSpec


def test_workspace_folders_are_0700(kwizard_root: Path):
    ws = workspace("demo").create()
    assert ws.root == kwizard_root.resolve()
    for folder in (ws.cluster_dir, ws.ssh_dir, ws.inventory_dir, ws.runs_dir, ws.artifacts_dir):
        assert folder.is_dir()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_last_and_known_clusters(kwizard_root: Path):
    assert last_cluster() is None and known_clusters() == []
    for name in ("beta", "alpha"):
        ws = workspace(name).create()
        presets.save(ClusterSpec(name=name), ws.preset_file)
    assert last_cluster() == "alpha"
    assert known_clusters() == ["alpha", "beta"]


def test_a_printed_command_names_the_workdir_option_the_shell_does_not_know(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kwizard.paths import ENV_SHELL_WORKDIR, workdir_option

    monkeypatch.delenv(ENV_SHELL_WORKDIR, raising=False)
    assert workdir_option(tmp_path / "any") == ""  # no --workdir given: kwizard finds it as it did
    monkeypatch.setenv(ENV_SHELL_WORKDIR, str(tmp_path / "usual"))
    assert workdir_option(tmp_path / "usual") == ""
    assert workdir_option(tmp_path / "other dir") == f" --workdir '{tmp_path / 'other dir'}'"
    # A run folder names the root of its workspace; a folder kept elsewhere names none.
    from kwizard.paths import run_workdir_option

    run = tmp_path / "other dir" / "clusters" / "lab" / "runs" / "20261207-1"
    assert run_workdir_option(run) == f" --workdir '{tmp_path / 'other dir'}'"
    assert run_workdir_option(tmp_path / "copied" / "20261207-1") == ""
