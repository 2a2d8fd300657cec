"""Run one playbook through ansible-runner on a worker thread, streaming kwizard Events."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kwizard import yamlout
from kwizard.fsutil import atomic_write, ensure_private_dir
from kwizard.protocol.events import EventKind
from kwizard.protocol.outputs import AccessOutput
from kwizard.runner import guard, orphans, settings
from kwizard.runner.events import translate

if TYPE_CHECKING:
    from kwizard.protocol.phase import Event, PhaseContext
    from kwizard.runner import PlaybookResult

# How often the runner loop wakes to look at the cancel flag (ansible-runner's default is 5 s).
CANCEL_POLL_SECONDS = 0.5
# After a cancel, how long to wait for ansible-runner to kill the process group and return.
CANCEL_GRACE_SECONDS = 30.0
# After a cancel, how long the guard may take to stop ansible-playbook and its ssh processes before
# ansible-runner kills the whole process group itself.
GUARD_STOP_SECONDS = guard.FORWARD_GRACE_SECONDS + guard.STOP_BOUND_SECONDS + 1.0
# Only failures and the final stats are kept as job_events files: the journal's events file already
# holds every event, and a 100-node Kubespray run would otherwise leave ~10⁵ small files.
_KEEP_EVENT_FILES = {"runner_on_failed", "runner_on_unreachable", "playbook_on_stats", "error"}


def private_data_dir(artifacts_dir: Path, phase: str) -> Path:
    """A fresh `<artifacts>/<phase>-<timestamp>` folder (0700) for one ansible-runner invocation."""
    ensure_private_dir(artifacts_dir)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        candidate = artifacts_dir / (f"{phase}-{stamp}" + (f"-{attempt}" if attempt else ""))
        try:
            candidate.mkdir(mode=0o700)
        except FileExistsError:
            continue
        # ansible-runner makes these with the umask's mode (0755): made first, they stay private.
        for folder in ("env", "artifacts"):
            (candidate / folder).mkdir(mode=0o700)
        return candidate
    raise FileExistsError(f"no free artifact folder for {phase} in {artifacts_dir}")


def run(
    ctx: PhaseContext,
    phase: str,
    playbook: Path,
    inventory: Path,
    *,
    extravars: dict[str, Any] | None,
    limit: str | None,
    ansible_cfg: Path | None,
    ansible_bin_dir: Path | None,
    cwd: Path | None,
    become: bool,
) -> PlaybookResult:
    """Implementation of `kwizard.runner.run_playbook`."""
    from ansible_runner.config.runner import RunnerConfig
    from ansible_runner.runner import Runner

    from kwizard.runner import PlaybookResult

    data_dir = private_data_dir(ctx.ws.artifacts_dir, phase)
    # ansible-runner wants one executable: a script that runs ansible-playbook under the guard, so that
    # nothing it starts (ssh ControlPersist masters included) outlives this run or this process.
    binary = guard.wrapper_script(
        data_dir / "ansible-playbook", [str(settings.ansible_playbook(ansible_bin_dir))]
    )
    # ansible-runner reads its settings from this file only (a `settings=` argument is dropped when the
    # file is absent). Nothing secret in it.
    runner_settings = {"pexpect_timeout": CANCEL_POLL_SECONDS, "suppress_ansible_output": True}
    atomic_write(data_dir / "env" / "settings", json.dumps(runner_settings))
    arguments = [str(Path(playbook).resolve())]
    if extravars:
        # Not ansible-runner's `extravars` (JSON, which Ansible templates): a YAML file whose strings carry
        # !unsafe, so a value from a preset reaches the playbook as text and never runs as Jinja.
        variables_file = data_dir / "env" / "kwizard-extravars.yml"
        atomic_write(variables_file, "---\n" + yamlout.dump(extravars, unsafe=True))
        arguments += ["--extra-vars", f"@{variables_file}"]
    passwords: dict[str, str] = {}
    if become:
        arguments.append("--become")
        if ctx.secrets.become_password:
            arguments.append("--ask-become-pass")
            passwords[settings.BECOME_PROMPT] = ctx.secrets.become_password
    envvars = settings.ansible_environment(
        ctx.ws,
        # The key the access phase installed (it may have generated it); else the preset's.
        private_key=settings.private_key(
            access.key if (access := AccessOutput.of(ctx.results)) else ctx.spec.ssh.key
        ),
        remote_user=ctx.spec.ssh.user,
        ansible_cfg=ansible_cfg,
    )
    config = RunnerConfig(
        private_data_dir=str(data_dir),
        project_dir=str(cwd or Path(playbook).resolve().parent),
        inventory=str(Path(inventory).resolve()),
        binary=str(binary),
        cmdline=shlex.join(arguments),
        limit=limit,
        envvars=envvars,
        # In memory only: ansible-runner turns these into pexpect prompt answers; nothing is written.
        passwords=passwords,
        ident="run",
        quiet=True,
        suppress_env_files=True,
    )
    config.prepare()
    # Said before the playbook starts, so the raw output can be followed (tail -f) or read after a crash.
    raw = Path(config.artifact_dir)
    ctx.emit(_artifacts_event(phase, raw))
    named = [n for n in (ctx.spec.ssh.password_env, ctx.spec.ssh.become_password_env) if n]
    config.env = settings.scrub_environment(config.env, ctx.secrets.all_values(), named)

    collector = _Collector(ctx.emit, phase)
    cancel = _GuardedCancel(ctx.cancel, data_dir)
    runner = Runner(config=config, event_handler=collector.handle, cancel_callback=cancel)
    try:
        status, rc = _run_on_thread(runner.run, ctx.cancel)
    finally:
        # Normally the guard has already stopped everything; this catches what a guard killed by
        # ansible-runner's own process-group kill could not (e.g. a daemonised ssh master).
        orphans.kill_orphans(data_dir)
    if cancel.requested is not None:
        status, rc = "canceled", 254  # the guard stopped the playbook on our request: not a failure
    return PlaybookResult(
        status=str(status),
        rc=int(rc if rc is not None else 1),
        artifact_dir=Path(config.artifact_dir),
        stats=collector.stats,
        failures=collector.failures,
    )


class _Collector:
    """Receives raw runner events (on the runner thread), forwards Events, remembers failures/stats."""

    def __init__(self, emit: Callable[[Event], None], phase: str) -> None:
        self.emit = emit
        self.phase = phase
        self.stats: dict[str, dict[str, int]] = {}
        self.failures: list[dict[str, Any]] = []

    def handle(self, raw: dict[str, Any]) -> bool:
        event = translate(raw, self.phase)
        if event is not None:
            if event.kind in ("host_failed", "host_unreachable") and not event.data.get("ignored"):
                self.failures.append(
                    {
                        "host": event.host,
                        "task": event.data.get("task", ""),
                        "action": event.data.get("action", ""),
                        "res": event.data.get("res", {}),
                        "event": raw.get("event", ""),
                    }
                )
            elif event.kind == "stats":
                self.stats = event.data["hosts"]
            self.emit(event)
        return raw.get("event") in _KEEP_EVENT_FILES


class _GuardedCancel:
    """ansible-runner's cancel callback: a cancel first asks the guard to stop the playbook gracefully.

    ansible-runner's own cancel SIGKILLs the guard's process group, which would kill the guard before it
    could stop the ssh masters that left the group; so the guard gets SIGINT first (forwarded to
    ansible-playbook, which ends its workers), and ansible-runner's kill is only the fallback when the
    guard has not ended within GUARD_STOP_SECONDS. The runner's output loop keeps running meanwhile.
    """

    def __init__(self, flag: threading.Event, data_dir: Path) -> None:
        self.flag = flag
        self.data_dir = data_dir
        self.requested: float | None = None

    def __call__(self) -> bool:
        if not self.flag.is_set():
            return False
        if self.requested is None:
            self.requested = time.monotonic()
            for pid in orphans.children_of_run(self.data_dir):  # the guard: a child with the run's marker
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)
            return False
        return time.monotonic() - self.requested > GUARD_STOP_SECONDS


def _run_on_thread(target: Callable[[], tuple[str, int]], cancel: threading.Event) -> tuple[str, int | None]:
    """Run ansible-runner on its own thread so Ctrl-C on the caller's thread becomes a clean cancel."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = target()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="ansible-runner", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        # The runner's loop sees the flag within CANCEL_POLL_SECONDS and kills the process group.
        cancel.set()
        thread.join(CANCEL_GRACE_SECONDS)
        return "canceled", 254
    if "error" in outcome:
        raise outcome["error"]
    status, rc = outcome["value"]
    return status, rc


def _artifacts_event(phase: str, artifact_dir: Path) -> Event:
    """The log line naming where ansible-runner keeps this playbook's raw output."""
    from kwizard.protocol.phase import Event

    text = f"Ansible output: {artifact_dir / 'stdout'}"
    data = {"text": text, "level": "info", "artifacts": str(artifact_dir)}
    return Event(EventKind.LOG, phase, None, data, time.time())
