"""The core never imports the UI toolkits (STYLE.md): checked in a clean interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, kwizard_env

CORE = [
    "kwizard.spec",
    "kwizard.preset",
    "kwizard.paths",
    "kwizard.fsutil",
    "kwizard.errors",
    "kwizard.options",
    "kwizard.roles",
    "kwizard.protocol.phase",
    "kwizard.resources",
    # The engine and the services both front ends call: a run is built and continued without a UI.
    "kwizard.engine",
    "kwizard.engine.pipeline",
    "kwizard.service.runs",
    "kwizard.service.fixes",
    "kwizard.service.secrets",
    "kwizard.preflight.phase",
    "kwizard.day2",
]


def test_core_modules_do_not_import_ui_libraries():
    probe = (
        "import importlib, sys\n"
        f"for name in {CORE!r}:\n    importlib.import_module(name)\n"
        "print(sorted(m for m in ('textual', 'questionary', 'rich', 'kwizard.ui') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=kwizard_env(), cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_run_is_built_without_loading_any_presentation(tmp_path: Path):
    """Building the engine (as headless and the wizard do) loads no UI toolkit and no presentation."""
    probe = (
        "import sys\n"
        "from kwizard.service.runs import build_engine\n"
        "from kwizard.spec import ClusterSpec\n"
        "from pathlib import Path\n"
        "from kwizard.paths import workspace\n"
        "from kwizard.options import RunOptions\n"
        "spec = ClusterSpec(name='probe')\n"
        "ws = workspace('probe', Path(sys.argv[1]))\n"
        "engine, _ = build_engine(spec, ws, RunOptions(), lambda e: None)\n"
        "print(sorted(m for m in ('textual', 'questionary', 'rich', 'kwizard.ui', 'kwizard.headless')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)],
        capture_output=True,
        text=True,
        env=kwizard_env(),
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_import_linter_contracts_hold():
    """pyproject.toml's import-linter contracts, checked by import-linter itself."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache"], capture_output=True, text=True, env=kwizard_env(), cwd=REPO, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_one_phase_context_for_work_outside_a_run(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The Access step, preflight fixes, remedies and day-2 checks get their context from one builder:
    passwords typed first, then the preset's variables; the wizard's dialogs, or the unattended policy."""
    from kwizard.options import RunOptions
    from kwizard.paths import Workspace
    from kwizard.protocol.phase import HostKeyPrompt, Secrets
    from kwizard.service.runs import HostKeyTrust, phase_context
    from kwizard.spec import ClusterSpec

    spec = ClusterSpec.model_validate(
        {
            "name": "c1",
            "hosts": [{"name": "n1", "address": "10.0.0.1", "roles": ["control_plane", "etcd", "worker"]}],
            "ssh": {"password_env": "KW_TEST_SSH_PW", "become_password_env": "KW_TEST_BECOME_PW"},
        }
    )
    monkeypatch.setenv("KW_TEST_SSH_PW", "from-env")
    monkeypatch.setenv("KW_TEST_BECOME_PW", "become-from-env")
    ws = Workspace(root=tmp_path, cluster="c1").create()
    ctx = phase_context(spec, ws, RunOptions(), secrets=Secrets(ssh_password="typed"))
    assert (ctx.secrets.ssh_password, ctx.secrets.become_password) == ("typed", "become-from-env")
    # No way to ask: the SSH layer's unattended policy decides, as in a headless run.
    assert ctx.confirm_host_key is None and ctx.confirm_host_keys is None
    assert not RunOptions().trusts_new_host_keys(spec)
    assert RunOptions(accept_new_host_keys=True).trusts_new_host_keys(spec)
    asked: list[str] = []
    trust = HostKeyTrust(one=lambda prompt: asked.append(prompt.host) or True)
    seen: list[object] = []
    ctx = phase_context(spec, ws, RunOptions(), trust=trust, emit=seen.append)
    assert ctx.confirm_host_key is not None
    assert ctx.confirm_host_key(HostKeyPrompt("n1", "10.0.0.1", 22, "ssh-ed25519", "SHA256:x")) is True
    ctx.log("access", "hello")
    assert asked == ["n1"] and len(seen) == 1


def _tool(name: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / name), *args],
        capture_output=True,
        text=True,
        env=kwizard_env(),
        cwd=REPO,
        timeout=timeout,
    )


def test_ruff_lint_and_format_are_clean():
    checked = _tool("ruff", "check", "kwizard", "tests")
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]
    formatted = _tool("ruff", "format", "--check", "kwizard", "tests")
    assert formatted.returncode == 0, formatted.stdout[-3000:] + formatted.stderr[-2000:]


def test_mypy_is_clean():
    result = _tool("mypy", "kwizard", timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_bench_scripts_import_what_exists():
    """bench/ scripts are not run by the suite (they measure); what they import from kwizard must exist."""
    import ast
    import importlib
    import importlib.util

    checked = 0
    for script in sorted((REPO / "bench").iterdir()):
        if not script.is_file() or not script.read_text().startswith("#!"):
            continue
        for node in ast.walk(ast.parse(script.read_text(), filename=str(script))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kwizard"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}"
                    ), f"{script.name}: {node.module}.{alias.name}"
                    checked += 1
    assert checked > 20
