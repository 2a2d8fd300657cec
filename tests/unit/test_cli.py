"""The command line as a user meets it: help, version, bad presets, no terminal."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kwizard.cli import SUBCOMMANDS, build_parser
from tests.conftest import REPO, kwizard_command, kwizard_env


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kwizard_command(*args),
        capture_output=True,
        text=True,
        env=kwizard_env(COLUMNS="400", **env),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_help_lists_every_option_and_command():
    result = run("--help")
    assert result.returncode == 0
    for option in [
        "--preset",
        "--yes",
        "--resume",
        "--plain",
        "--until",
        "--only",
        "--skip",
        "--json",
        "--workdir",
        "--version",
        "--ignore-preflight",
        "--accept-new-host-keys",
        "--kubespray-dir",
    ]:
        assert option in result.stdout, option
    for command in ["lab", "diagnose", "runs", "kubeconfig", "expose"]:
        assert command in result.stdout, command


def test_version_prints_the_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("kwizard ")


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["lab", "--help"]])
def test_version_and_help_do_not_import_heavy_libraries(args: list[str]):
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['kwizard', *{args!r}]\n"
        "try:\n    runpy.run_module('kwizard', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = [m for m in ('textual', 'fabric', 'ansible_runner', 'paramiko', 'questionary', 'pydantic')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [*kwizard_command()[:1], "-c", probe],
        capture_output=True,
        text=True,
        env=kwizard_env(),
        cwd=REPO,
        timeout=60,
    )
    assert "HEAVY []" in result.stderr


def test_invalid_preset_exits_2_with_a_panel_and_overwrites_nothing(tmp_path: Path, kwizard_root: Path):
    preset = tmp_path / "bad.yaml"
    preset.write_text("version: 1\nname: demo\nhosts:\n  - {name: a, address: 10.0.0.300, roles: [etcd]}\n")
    before = preset.read_bytes()
    result = run("--preset", str(preset), "--yes")
    assert result.returncode == 2
    assert "Invalid preset" in result.stderr
    assert f"{preset}:4: hosts[0].address: '10.0.0.300' is not a valid IP address" in result.stderr
    assert "Traceback" not in result.stderr
    assert preset.read_bytes() == before
    assert not (kwizard_root / "clusters").exists()


def test_headless_reports_every_host_free_problem_before_contacting_any_host(
    tmp_path: Path, kwizard_root: Path
):
    """Three problems of the preset, one run: exit 2 before the first phase (nothing listens on port 1)."""
    preset = tmp_path / "three.yaml"
    preset.write_text(
        "version: 1\n"
        "name: demo\n"
        "ssh: {port: 1}\n"
        "kubespray:\n"
        "  kube_version: 1.20.0\n"  # 5
        "  extra_vars:\n"
        "    kubelet_static_pod_path: /etc/kubernetes/manifests\n"  # 7
        "    download_run_once: 'true'\n"  # 8
        "hosts:\n"
        "  - {name: a, address: 127.0.0.1, roles: [control_plane, etcd, worker]}\n"
    )
    result = run("--preset", str(preset), "--yes")
    assert result.returncode == 2, result.stdout + result.stderr
    for line, key in [
        (5, "kubespray.kube_version"),
        (7, "kubespray.extra_vars.kubelet_static_pod_path"),
        (8, "kubespray.extra_vars.download_run_once"),
    ]:
        assert f"{preset}:{line}: {key}: " in result.stderr
    assert "Traceback" not in result.stderr
    assert not (kwizard_root / "clusters").exists()  # no workspace, no run, no host contacted


def test_without_a_terminal_the_wizard_says_what_to_do():
    result = run()
    assert result.returncode == 2
    assert "No terminal" in result.stderr and "--yes" in result.stderr
    with_preset = run("--preset", "presets/lab.yaml")
    assert with_preset.returncode == 2
    assert "kwizard --preset presets/lab.yaml --yes" in with_preset.stderr  # this invocation, headless


def test_yes_without_preset_is_bad_input():
    result = run("--yes")
    assert result.returncode == 2 and "--yes needs a preset" in result.stderr


def test_until_and_only_together_are_refused(tmp_path: Path):
    preset = tmp_path / "p.yaml"
    preset.write_text("version: 1\nname: demo\n")
    result = run("--preset", str(preset), "--yes", "--until", "inventory", "--only", "access")
    assert result.returncode == 2 and "Conflicting options" in result.stderr


@pytest.mark.parametrize(
    ("extra", "title", "fix"),
    [
        (("--skip", "access,ssh"), "Unknown phase", "Name phases among: provision, discover, access"),
        (("--skip", "access", "--only", "inventory"), "Conflicting options", "--skip PHASE,..."),
    ],
)
def test_bad_skip_options_are_refused_with_the_fix(
    tmp_path: Path, extra: tuple[str, ...], title: str, fix: str
):
    preset = tmp_path / "p.yaml"
    preset.write_text("version: 1\nname: demo\n")
    result = run("--preset", str(preset), "--yes", *extra)
    assert result.returncode == 2 and title in result.stderr and fix in result.stderr, result.stderr
    assert "'ssh'" in result.stderr if title == "Unknown phase" else "Traceback" not in result.stderr


def test_apply_fixes_only_with_a_headless_resume(tmp_path):
    preset = tmp_path / "p.yaml"
    preset.write_text((REPO / "presets" / "lab.yaml").read_text())
    for extra in (("--preset", str(preset), "--yes"), ("--resume", "lab")):
        result = run(*extra, "--apply-fixes")
        assert result.returncode == 2, result.stderr
        assert "--apply-fixes needs --resume and --yes" in result.stderr
        assert "Traceback" not in result.stderr


def test_apply_fixes_hint_names_the_workdir_given(tmp_path: Path):
    """The command the refusal prints finds the same clusters: it names the --workdir this run was given."""
    other = tmp_path / "other dir"
    result = run(
        "--resume", "lab", "--apply-fixes", "--workdir", str(other), KWIZARD_WORKDIR=str(tmp_path / "usual")
    )
    assert result.returncode == 2, result.stderr
    assert f"kwizard --resume CLUSTER --yes --apply-fixes --workdir '{other}'" in result.stderr


def test_resume_of_an_unknown_cluster_is_bad_input():
    result = run("--resume", "ghost", "--yes")
    assert result.returncode == 2 and "Unknown cluster" in result.stderr


def test_unknown_phase_is_refused_by_the_parser():
    result = run("--until", "everything")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_every_subcommand_is_registered():
    parser = build_parser()
    args = parser.parse_args([])
    assert args.command is None
    expected = {
        "lab",
        "diagnose",
        "runs",
        "kubeconfig",
        "expose",
        "remove-node",
        "reset",
        "add-node",
        "clusters",
    }
    assert set(SUBCOMMANDS) == expected | {"upgrade", "backup", "restore", "aws"}


def test_lab_status_that_finds_no_lab_says_where_it_looked(tmp_path: Path):
    """KWIZARD_WORKDIR set elsewhere than where the lab was started: the answer names the folder it read."""
    result = run("lab", "status", "--name", "kwnone", KWIZARD_WORKDIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "No lab named kwnone is up" in result.stdout
    assert str(tmp_path.resolve() / "lab" / "kwnone") in result.stdout
    assert f"KWIZARD_WORKDIR={tmp_path}" in result.stdout
