"""Count a playbook's tasks with `ansible-playbook --list-tasks`, for the progress bar of a first run.

Static tasks only: tasks of dynamic includes are not listed, so the count is a lower bound (the
dashboard caps progress at 100 %; the next run uses the real count from the journal instead).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from kwizard.childenv import child_environment
from kwizard.runner import guard, settings

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext

LIST_TIMEOUT_SECONDS = 120.0


def parse_task_list(output: str) -> int:
    """Number of task lines in `--list-tasks` output (lines under `tasks:` carrying `TAGS:`)."""
    count, in_tasks = 0, False
    for line in output.splitlines():
        stripped = line.strip()
        if stripped == "tasks:":
            in_tasks = True
        elif stripped.startswith("play #") or not stripped:
            in_tasks = False if stripped.startswith("play #") else in_tasks
        elif in_tasks and "\tTAGS:" in line:
            count += 1
    return count


def count_tasks(
    ctx: PhaseContext,
    playbook: Path,
    inventory: Path,
    *,
    ansible_cfg: Path | None = None,
    ansible_bin_dir: Path | None = None,
    cwd: Path | None = None,
    limit: str | None = None,
) -> int | None:
    """The playbook's static task count, or None when ansible-playbook cannot list it."""
    binary = settings.ansible_playbook(ansible_bin_dir)
    named = [n for n in (ctx.spec.ssh.password_env, ctx.spec.ssh.become_password_env) if n]
    env = child_environment(
        settings.ansible_environment(
            ctx.ws, private_key=None, remote_user=ctx.spec.ssh.user, ansible_cfg=ansible_cfg
        ),
        named=named,
        secrets=ctx.secrets.all_values(),
    )
    argv = [str(binary), str(Path(playbook).resolve()), "-i", str(Path(inventory).resolve()), "--list-tasks"]
    if limit:
        argv += ["--limit", limit]
    try:
        listed = subprocess.run(
            guard.guarded(argv),  # a kwizard killed while it lists must not leave ansible-playbook behind
            cwd=cwd or Path(playbook).resolve().parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=LIST_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    return parse_task_list(listed.stdout) or None
