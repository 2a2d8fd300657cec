"""The lab refuses clearly where it cannot run: not Linux, not root, no namespaces, missing tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from kwizard import cli
from kwizard import lab as kwlab
from kwizard.errors import EXIT_BAD_INPUT, EnvironmentProblem
from kwizard.lab import checks


def test_not_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks.os, "geteuid", lambda: 1000)
    with pytest.raises(EnvironmentProblem) as caught:
        kwlab.up()
    assert caught.value.title == "The lab needs root" and "sudo" in caught.value.fix
    with pytest.raises(EnvironmentProblem):
        kwlab.down()


def test_not_root_through_the_cli_exits_2_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(checks.os, "geteuid", lambda: 1000)
    assert cli.main(["lab", "up", "--name", "kwunit"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "The lab needs root" in err and "Traceback" not in err


def test_not_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks.sys, "platform", "darwin")
    with pytest.raises(EnvironmentProblem, match="needs Linux"):
        checks.check_platform()


def test_no_namespaces(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(checks.os, "geteuid", lambda: 0)
    monkeypatch.setattr(checks.sys, "platform", "linux")
    monkeypatch.setattr(checks, "PROC_NS", tmp_path)
    with pytest.raises(EnvironmentProblem, match="No namespace support"):
        checks.check_machine()


def test_no_overlayfs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(checks.os, "geteuid", lambda: 0)
    monkeypatch.setattr(checks.sys, "platform", "linux")
    for kind in ("net", "pid", "mnt", "uts", "ipc"):
        (tmp_path / kind).touch()
    monkeypatch.setattr(checks, "PROC_NS", tmp_path)
    filesystems = tmp_path / "filesystems"
    filesystems.write_text("nodev\tproc\n\text4\n")
    monkeypatch.setattr(checks, "PROC_FILESYSTEMS", filesystems)
    with pytest.raises(EnvironmentProblem, match="No overlayfs"):
        checks.check_machine()


def test_missing_tools_name_the_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(checks.os, "geteuid", lambda: 0)
    monkeypatch.setattr(checks.sys, "platform", "linux")
    monkeypatch.setattr(checks.shutil, "which", lambda tool: None if tool in ("ip", "nsenter") else "/bin/x")
    monkeypatch.setattr(checks, "SSHD", tmp_path / "no-sshd")
    with pytest.raises(EnvironmentProblem) as caught:
        checks.check_machine()
    assert "ip, nsenter, sshd" in caught.value.problem
    assert "apt install iproute2 openssh-server util-linux" in caught.value.fix


@pytest.mark.parametrize("place", ["/var/lib/kwizard", "/etc/kw", "/usr/local/kw", "/opt/kw"])
def test_state_folder_under_an_overlaid_folder_is_refused(place: str) -> None:
    with pytest.raises(EnvironmentProblem, match="unusable place"):
        checks.check_state_root(Path(place) / "lab" / "kwlab")


@pytest.mark.parametrize("hosts", ["0", "100"])
def test_cli_refuses_a_bad_host_count_before_creating_anything(
    hosts: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(checks.os, "geteuid", lambda: 0)
    monkeypatch.setattr(checks.sys, "platform", "linux")
    monkeypatch.setattr(kwlab, "up", lambda *a, **k: pytest.fail("up must not be reached"))
    assert cli.main(["lab", "up", "--name", "kwunit", "--hosts", hosts]) == EXIT_BAD_INPUT
    assert f"{hosts} hosts were asked for" in capsys.readouterr().err
