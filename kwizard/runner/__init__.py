"""ansible-runner adapter.

`run_playbook` runs one playbook through ansible_runner with the right ansible binary and ANSIBLE_CONFIG,
the workspace's known_hosts and ssh key, the become password through runner `passwords` (never env
vars), translates runner events into `kwizard.protocol.phase.Event`s passed to `ctx.emit`, honours
`ctx.cancel`, and returns a PlaybookResult.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext


@dataclass(frozen=True)
class PlaybookResult:
    status: str  # "successful" | "failed" | "canceled" | "timeout"
    rc: int
    artifact_dir: Path | None = None
    # host -> {"ok": n, "changed": n, "failures": n, "unreachable": n, "skipped": n}
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    # failed / unreachable results: {"host", "task", "action", "res": {...}, "event": "..."}
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0


def run_playbook(
    ctx: PhaseContext,
    phase: str,
    playbook: Path,
    inventory: Path,
    *,
    extravars: dict[str, Any] | None = None,
    limit: str | None = None,
    ansible_cfg: Path | None = None,
    ansible_bin_dir: Path | None = None,
    cwd: Path | None = None,
    become: bool = True,
    count_tasks: bool = False,
) -> PlaybookResult:
    """Run `playbook` against `inventory`; events go to ctx.emit under `phase`.

    Blocks until the playbook ends; ansible-runner works on its own thread, so a Ctrl-C (or `ctx.cancel`)
    stops ansible-playbook's whole process group and returns status "canceled". The private data dir is
    `ws.artifacts_dir/<phase>-<timestamp>`; its files never contain a password. With `count_tasks`,
    `--list-tasks` runs first and a `task_total` event gives the dashboard a progress total (useful on
    a phase's first run; later runs get the total from the journal).
    """
    from kwizard.runner.adapter import run

    if count_tasks:
        import time

        from kwizard.protocol.events import EventKind
        from kwizard.protocol.phase import Event
        from kwizard.runner.listing import count_tasks as list_count

        total = list_count(
            ctx,
            playbook,
            inventory,
            ansible_cfg=ansible_cfg,
            ansible_bin_dir=ansible_bin_dir,
            cwd=cwd,
            limit=limit,
        )
        if total:
            ctx.emit(
                Event(
                    EventKind.TASK_TOTAL, phase, None, {"tasks": total, "source": "--list-tasks"}, time.time()
                )
            )

    return run(
        ctx,
        phase,
        playbook,
        inventory,
        extravars=extravars,
        limit=limit,
        ansible_cfg=ansible_cfg,
        ansible_bin_dir=ansible_bin_dir,
        cwd=cwd,
        become=become,
    )
