"""The Kubespray checkout a run uses: the user's own (--kubespray-dir / kubespray.dir) or a pinned clone.

Pinned clones live in the shared cache, one folder per tag, made with `git clone --depth 1 --branch <tag>`
into a temporary folder and renamed into place only once verified, so an interrupted clone never leaves
a half checkout that a later run would trust.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from kwizard.childenv import child_environment
from kwizard.errors import EnvironmentProblem, InputError, KwizardError
from kwizard.kubespray.process import OnLine, run_streaming
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.spec import ClusterSpec
from kwizard.spec_values import VERSION_NAME

CLONE_TIMEOUT_SECONDS = 900.0
GIT_TIMEOUT_SECONDS = 30.0
REQUIRED_FILES = ("cluster.yml", "ansible.cfg", "requirements.txt")


@dataclass(frozen=True)
class Checkout:
    """A verified Kubespray tree."""

    path: Path
    version: str  # the tag, or the tag/commit a user's checkout is at
    user_supplied: bool

    @property
    def playbook(self) -> Path:
        return self.path / "cluster.yml"

    @property
    def ansible_cfg(self) -> Path:
        return self.path / "ansible.cfg"

    @property
    def requirements(self) -> Path:
        return self.path / "requirements.txt"


def user_dir(spec: ClusterSpec, options: RunOptions | None) -> Path | None:
    """The user's own checkout, if one was named (the command line wins over the preset)."""
    chosen = (options.kubespray_dir if options else None) or spec.kubespray.dir
    return Path(chosen).expanduser().resolve() if chosen else None


def check_version_name(version: str) -> str:
    """`version` if it is usable as a tag and a folder name, else InputError."""
    if not VERSION_NAME.match(version) or ".." in version:
        raise InputError(
            "Invalid Kubespray version",
            f"kubespray.version {version!r} is not a tag name.",
            "Use a release tag such as v2.31.0, or kubespray.dir / --kubespray-dir for another checkout.",
        )
    return version


def clone_dir(ws: Workspace, version: str) -> Path:
    return ws.kubespray_cache / check_version_name(version)


def planned_dir(spec: ClusterSpec, ws: Workspace, options: RunOptions | None) -> Path:
    """Where the checkout is or will be, without touching the disk or the network."""
    return user_dir(spec, options) or clone_dir(ws, spec.kubespray.version)


def find(spec: ClusterSpec, ws: Workspace, options: RunOptions | None) -> Checkout | None:
    """The checkout if it is already usable, else None (nothing is cloned)."""
    mine = user_dir(spec, options)
    if mine is not None:
        return use_existing(mine) if mine.is_dir() else None
    if not VERSION_NAME.match(spec.kubespray.version):
        return None  # the inventory checks report it, naming the field
    path = clone_dir(ws, spec.kubespray.version)
    if path.is_dir() and _verify_clone(path, spec.kubespray.version) is None:
        return Checkout(path, spec.kubespray.version, user_supplied=False)
    return None


def ensure(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions | None,
    on_line: OnLine,
    cancel: threading.Event | None = None,
) -> Checkout:
    """A usable checkout: the user's (verified) or the pinned tag, cloned into the cache if needed."""
    mine = user_dir(spec, options)
    if mine is not None:
        return use_existing(mine)
    version = spec.kubespray.version
    final = clone_dir(ws, version)
    if final.is_dir():
        problem = _verify_clone(final, version)
        if problem is None:
            return Checkout(final, version, user_supplied=False)
        on_line(f"cached Kubespray {version} is not usable ({problem}); cloning it again")
        _remove(final)
    return clone(spec.kubespray.repo_url, version, final, on_line, cancel)


def use_existing(path: Path) -> Checkout:
    """Verify a user's Kubespray checkout."""
    if not path.is_dir():
        raise InputError(
            "Kubespray checkout not found",
            f"{path} does not exist or is not a directory.",
            "Point --kubespray-dir (or kubespray.dir in the preset) at a Kubespray clone, or drop it to "
            "let kwizard clone the pinned version.",
        )
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise InputError(
            "Not a Kubespray checkout",
            f"{path} has no {', '.join(missing)}.",
            "Point --kubespray-dir at the top folder of a Kubespray clone (the one with cluster.yml).",
        )
    version = _git(path, "describe", "--tags", "--always") or "unknown"
    return Checkout(path, version, user_supplied=True)


def clone(
    url: str, version: str, final: Path, on_line: OnLine, cancel: threading.Event | None = None
) -> Checkout:
    """git clone --depth 1 --branch <version> into the cache, verified, then moved into place."""
    if shutil.which("git") is None:
        raise EnvironmentProblem(
            "git is not installed",
            "kwizard clones Kubespray with git, and git is not on PATH.",
            "Install git (e.g. apt-get install git), or pass --kubespray-dir with an existing checkout.",
        )
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = final.parent / f".{final.name}.partial-{os.getpid()}"
    _remove(partial)
    on_line(f"cloning Kubespray {version} from {url}")
    outcome = run_streaming(
        ["git", "clone", "--progress", "--depth", "1", "--branch", version, "--single-branch",
         "-c", "advice.detachedHead=false", "--", url, str(partial)],
        on_line=on_line,
        timeout=CLONE_TIMEOUT_SECONDS,
        cancel=cancel,
        env=_git_env(),
    )  # fmt: skip
    if outcome.returncode != 0 or outcome.cancelled or outcome.timed_out:
        _remove(partial)
        raise _clone_error(url, version, outcome.tail, outcome.cancelled, outcome.timed_out)
    problem = _verify_clone(partial, version)
    if problem is not None:
        _remove(partial)
        raise KwizardError(
            "Kubespray clone is not usable",
            f"The clone of {version} from {url} failed verification: {problem}.",
            "Check kubespray.repo_url points at Kubespray, or pass --kubespray-dir with a checkout.",
        )
    try:
        partial.rename(final)
    except OSError:
        # Another kwizard finished the same clone first: keep theirs once it verifies.
        _remove(partial)
        if _verify_clone(final, version) is not None:
            raise
    on_line(f"Kubespray {version} is at {final}")
    return Checkout(final, version, user_supplied=False)


def _verify_clone(path: Path, version: str) -> str | None:
    """None when `path` is a checkout of tag `version` with Kubespray's files, else what is wrong."""
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        return f"{', '.join(missing)} missing"
    tagged = _git(path, "rev-parse", "-q", "--verify", f"refs/tags/{version}^{{commit}}")
    if not tagged:
        return f"tag {version} is not present"
    head = _git(path, "rev-parse", "-q", "--verify", "HEAD")
    if head != tagged:
        return f"HEAD {head or '?'} is not tag {version} ({tagged})"
    return None


def _git(path: Path, *args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(path), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            env=_git_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def _git_env() -> dict[str, str]:
    # Never let git wait for a password on a terminal nobody is watching.
    return child_environment({"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""})


def _clone_error(url: str, version: str, tail: str, cancelled: bool, timed_out: bool) -> KwizardError:
    if cancelled:
        return KwizardError(
            "Clone cancelled", f"Cloning Kubespray {version} was cancelled.", "Run again to retry."
        )
    if timed_out:
        return KwizardError(
            "Clone took too long",
            f"Cloning Kubespray {version} from {url} did not finish within {CLONE_TIMEOUT_SECONDS:.0f} s.",
            "Check the network (or proxy), or clone it yourself and pass --kubespray-dir.",
        )
    if "not found in upstream" in tail or "Could not find remote branch" in tail:
        return InputError(
            "Kubespray version not found",
            f"{url} has no tag {version!r}:\n{tail}",
            "Set kubespray.version to a released tag such as v2.31.0.",
        )
    return KwizardError(
        "Could not clone Kubespray",
        f"git clone of {version} from {url} failed:\n{tail}",
        "Check the network (or proxy) and kubespray.repo_url, or clone it yourself and pass --kubespray-dir.",
    )


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)
