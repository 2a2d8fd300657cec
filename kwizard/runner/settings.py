"""How ansible-playbook is started: which binary, which environment, which prompts get a password.

Everything here is about keeping Ansible honest and secrets off disk:
- host keys are verified against the workspace's known_hosts (ansible-runner's own default would turn
  checking off, and Kubespray's ansible.cfg points UserKnownHostsFile at /dev/null — both overridden);
- the become password is answered on Ansible's prompt through the pty, never put in a variable;
- ansible-runner copies the whole parent environment into the child and into `artifacts/*/command`, so
  anything that looks like, or equals, a secret is removed from that environment first.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from kwizard.errors import EnvironmentProblem
from kwizard.fsutil import ensure_private_dir
from kwizard.paths import Workspace

# Ansible asks "BECOME password: " (any become method) when run with --ask-become-pass.
BECOME_PROMPT = r"BECOME password.*:\s*?$"
# ssh adds ".<16 random chars>" to the socket name while it sets a master up; sun_path holds 107 bytes
# and Ansible's %C socket name is 40 hex characters.
MAX_CONTROL_DIR_CHARS = 107 - 1 - 40 - 17


def ansible_playbook(ansible_bin_dir: Path | None) -> Path:
    """The ansible-playbook to run: from `ansible_bin_dir` (Kubespray's venv) or next to this Python."""
    candidates = (
        [ansible_bin_dir / "ansible-playbook"]
        if ansible_bin_dir
        else [Path(sys.executable).parent / "ansible-playbook", Path(shutil.which("ansible-playbook") or "")]
    )
    for candidate in candidates:
        if candidate.name and candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = str(ansible_bin_dir) if ansible_bin_dir else f"{Path(sys.executable).parent} or PATH"
    raise EnvironmentProblem(
        "ansible-playbook not found",
        f"There is no executable ansible-playbook in {where}.",
        "Re-create the Kubespray virtualenv (delete it from kwizard's cache; the next run rebuilds it), "
        "or install ansible-core in the environment kwizard runs from.",
    )


def control_path_dir(ws: Workspace) -> Path:
    """A private folder for ssh ControlMaster sockets, short enough for a Unix socket path."""
    digest = hashlib.sha256(str(ws.cluster_dir).encode()).hexdigest()[:10]
    candidates = [
        ws.cluster_dir / "cp",
        ws.root / "cp" / digest,
        Path(tempfile.gettempdir()) / f"kwizard-cp-{os.getuid()}" / digest,
    ]
    for candidate in candidates:
        if len(str(candidate)) <= MAX_CONTROL_DIR_CHARS:
            ensure_private_dir(candidate.parent)
            return ensure_private_dir(candidate)
    raise EnvironmentProblem(
        "Workspace path too long for ssh",
        f"ssh control sockets need a folder path of at most {MAX_CONTROL_DIR_CHARS} characters.",
        "Use a shorter --workdir.",
    )


def ssh_args(known_hosts: Path) -> str:
    """The ssh options every Ansible connection uses (replaces ansible.cfg's ssh_args entirely)."""
    return " ".join(
        [
            "-C",
            "-o ControlMaster=auto",
            "-o ControlPersist=60s",
            "-o ConnectionAttempts=3",
            # A host that drops off the network is reported unreachable after ~15 s, not hang the run.
            "-o ServerAliveInterval=5",
            "-o ServerAliveCountMax=3",
            f"-o UserKnownHostsFile={known_hosts}",
            "-o StrictHostKeyChecking=yes",
            "-o HashKnownHosts=no",
        ]
    )


def ansible_environment(
    ws: Workspace,
    *,
    private_key: Path | None,
    remote_user: str | None,
    ansible_cfg: Path | None,
) -> dict[str, str]:
    """Environment variables for ansible-playbook (none of them secret)."""
    env = {
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_ARGS": ssh_args(ws.known_hosts),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_path_dir(ws)),
        "ANSIBLE_FORCE_COLOR": "False",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
    }
    if private_key:
        env["ANSIBLE_PRIVATE_KEY_FILE"] = str(private_key)
    if remote_user:
        env["ANSIBLE_REMOTE_USER"] = remote_user
    if ansible_cfg:
        env["ANSIBLE_CONFIG"] = str(ansible_cfg)
    else:
        # One ssh round trip per task instead of three (Kubespray's own ansible.cfg does the same).
        env["ANSIBLE_PIPELINING"] = "True"
    return env


def scrub_environment(env: dict[str, str], secrets: list[str], named: list[str]) -> dict[str, str]:
    """`env` without variables holding a secret, named in the preset, or named like a secret.

    ansible-runner builds ansible-playbook's environment itself (its own variables included), so this one
    removes rather than allows; what counts as a secret is the same rule as for every other child.
    """
    from kwizard.childenv import holds_secret

    refused = set(named)
    return {key: value for key, value in env.items() if not holds_secret(key, value, refused, secrets)}


def private_key(path_text: str | None) -> Path | None:
    """The private key file to use, if it exists (an ssh-agent may hold the key instead)."""
    if not path_text:
        return None
    path = Path(path_text).expanduser()
    return path if path.is_file() else None
