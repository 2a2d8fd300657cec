"""A Python virtualenv per Kubespray version, built from that version's requirements.txt.

Kubespray pins its own ansible (v2.31: ansible 11.13 → ansible-core 2.18), which need not be kwizard's.
A venv is reused while the hash of its requirements (and the Python that built it) is unchanged; the
marker file holding that hash is written last, so a venv whose install was interrupted is rebuilt.
Venvs cannot be moved once made (their scripts name their own path), hence built in place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from kwizard.childenv import child_environment
from kwizard.errors import EnvironmentProblem, KwizardError
from kwizard.fsutil import atomic_write
from kwizard.kubespray.checkout import Checkout
from kwizard.kubespray.process import OnLine, run_streaming
from kwizard.kubespray.releases import release, version_key
from kwizard.paths import Workspace

MARKER = ".kwizard-requirements.sha256"
ENV_PYTHON = "KWIZARD_KUBESPRAY_PYTHON"  # build Kubespray's venv with another interpreter
CREATE_TIMEOUT_SECONDS = 300.0
INSTALL_TIMEOUT_SECONDS = 1800.0


@dataclass(frozen=True)
class Venv:
    path: Path
    reused: bool

    @property
    def bin_dir(self) -> Path:
        return self.path / "bin"

    def has(self, program: str) -> bool:
        return (self.bin_dir / program).is_file()


def venv_dir(ws: Workspace, checkout_path: Path, version: str, user_supplied: bool) -> Path:
    """One venv per pinned version; a user's checkout gets its own, keyed by its path."""
    if user_supplied:
        digest = hashlib.sha256(str(checkout_path).encode()).hexdigest()[:12]
        return ws.kubespray_cache / "venvs" / f"checkout-{digest}"
    return ws.kubespray_cache / "venvs" / version


def base_python() -> str:
    return os.environ.get(ENV_PYTHON) or sys.executable


def requirements_hash(requirements: Path, python: str) -> str:
    """What the venv depends on: the requirements text and the interpreter's version."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(b"\0" + _python_version(python).encode())
    return digest.hexdigest()


def ensure(checkout: Checkout, ws: Workspace, on_line: OnLine, cancel: threading.Event | None = None) -> Venv:
    """Kubespray's venv for `checkout`: reused when its requirements hash matches, else (re)built."""
    python = base_python()
    _check_python(checkout, python)
    path = venv_dir(ws, checkout.path, checkout.version, checkout.user_supplied)
    wanted = requirements_hash(checkout.requirements, python)
    marker = path / MARKER
    if marker.is_file() and marker.read_text().strip() == wanted and (path / "bin" / "python").exists():
        on_line(f"reusing the Kubespray environment {path}")
        return Venv(path, reused=True)
    if path.exists():
        on_line(f"requirements changed (or the last install was interrupted): rebuilding {path}")
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    on_line(f"creating a Python environment for Kubespray {checkout.version} in {path}")
    _step([python, "-m", "venv", str(path)], on_line, CREATE_TIMEOUT_SECONDS, cancel, checkout, "create")
    on_line(f"installing {checkout.requirements.name} (this takes a minute or two the first time)")
    _step(
        [
            str(path / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-input",
            "-r",
            str(checkout.requirements),
        ],
        on_line,
        INSTALL_TIMEOUT_SECONDS,
        cancel,
        checkout,
        "install",
    )
    atomic_write(marker, wanted + "\n", mode=0o644)
    return Venv(path, reused=False)


def _step(
    command: list[str],
    on_line: OnLine,
    timeout: float,
    cancel: threading.Event | None,
    checkout: Checkout,
    what: str,
) -> None:
    # Neither kwizard's own import path and venv nor a password in its environment reach pip.
    env = child_environment({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"})
    outcome = run_streaming(
        command, on_line=on_line, timeout=timeout, cancel=cancel, cwd=checkout.path, env=env
    )
    if outcome.cancelled:
        raise KwizardError(
            "Cancelled", f"Building Kubespray's environment was cancelled during {what}.", "Run again."
        )
    if outcome.returncode != 0 or outcome.timed_out:
        late = f" (stopped after {timeout:.0f} s)" if outcome.timed_out else ""
        raise KwizardError(
            "Could not build Kubespray's Python environment",
            f"{' '.join(command[:4])} … failed{late}:\n{outcome.tail}",
            "Check the network (or a pip proxy via PIP_INDEX_URL), or install the requirements yourself and "
            "pass --kubespray-dir.",
        )


def _python_version(python: str) -> str:
    try:
        completed = subprocess.run(
            [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise EnvironmentProblem(
            "Python for Kubespray not usable",
            f"{python} could not be run: {exc}",
            f"Set {ENV_PYTHON} to a Python 3 interpreter.",
        ) from None
    return completed.stdout.strip()


def _check_python(checkout: Checkout, python: str) -> None:
    known = release(checkout.version)
    if known is None or not known.python[0]:
        return
    version = _python_version(python)
    low, high = known.python
    minor = version_key(version)[:2]
    if not version_key(low)[:2] <= minor <= version_key(high)[:2]:
        raise EnvironmentProblem(
            "Python version not supported by Kubespray",
            f"Kubespray {checkout.version} needs Python {low}-{high} on this machine; {python} is {version}.",
            f"Install a Python in that range and point {ENV_PYTHON} at it "
            f"(e.g. {ENV_PYTHON}=/usr/bin/python3.12).",
        )
