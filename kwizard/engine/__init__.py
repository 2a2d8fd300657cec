"""Phase engine: runs the selected phases, journals them, resumes them.

Entry points used by the CLI: `run_headless(spec, ws, options)` and `resume_headless(ws, options)`. They
wire the engine (`pipeline.Engine`, UI-free) to the headless console (`kwizard.ui.console`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kwizard.engine.phase import Event, HostKeyPrompt, Secrets
from kwizard.errors import EXIT_OK, InputError
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.spec import ClusterSpec

if TYPE_CHECKING:
    from kwizard.engine.pipeline import Engine, PhaseDefinition


def secrets_from_environment(spec: ClusterSpec) -> tuple[Secrets, list[str]]:
    """Passwords from the environment variables the preset names, and warnings for unset ones."""
    from kwizard.service.secrets import resolve_secrets

    return resolve_secrets(spec)


def accepts_new_host_keys(spec: ClusterSpec, options: RunOptions) -> bool:
    """Headless trust on first use: --accept-new-host-keys or ssh.accept_new_host_keys in the preset."""
    return options.accept_new_host_keys or spec.ssh.accept_new_host_keys


def headless_engine(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions,
    observer: Callable[[Event], None],
    phases: Sequence[PhaseDefinition] | None = None,
    *,
    holds_lock: bool = False,
) -> tuple[Engine, list[str]]:
    """An Engine wired for headless use: secrets from env, host keys per --accept-new-host-keys."""
    from kwizard.engine.findings import default_diagnoser
    from kwizard.engine.pipeline import Engine

    secrets, warnings = secrets_from_environment(spec)
    accept = accepts_new_host_keys(spec, options)
    table: dict[str, Any] = {} if phases is None else {"phases": tuple(phases)}
    engine = Engine(
        spec,
        ws,
        options,
        secrets=secrets,
        observer=observer,
        diagnose=default_diagnoser(),
        holds_lock=holds_lock,
        **table,
    )

    def confirm(prompt: HostKeyPrompt) -> bool:
        word = "trusting" if accept else "refusing"
        hint = "" if accept else " (pass --accept-new-host-keys to trust keys seen for the first time)"
        engine.emit(
            Event(
                "log",
                "access",
                prompt.host,
                {
                    "text": f"{word} new {prompt.key_type} host key {prompt.fingerprint}{hint}",
                    "level": "warning",
                },
            )
        )
        return accept

    engine.confirm_host_key = confirm
    return engine, warnings


def run_headless(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions,
    *,
    phases: Sequence[PhaseDefinition] | None = None,
    holds_lock: bool = False,
) -> int:
    """Run the selected phases without a UI; returns the exit code."""
    from kwizard.ui.console import HeadlessConsole

    console = HeadlessConsole(json_mode=options.json)
    engine, warnings = headless_engine(spec, ws, options, console.observe, phases, holds_lock=holds_lock)
    for warning in warnings:
        console.console.print(f"[yellow]{warning}[/]")
    outcome = console.run(engine.start, engine.cancel, lambda: engine.state, engine.abandon)
    console.summary(outcome)
    _cluster_summary(spec, ws, outcome, options)
    return outcome.exit_code


def resume_headless(
    ws: Workspace, options: RunOptions, *, phases: Sequence[PhaseDefinition] | None = None
) -> int:
    """Continue the last run of a cluster without a UI."""
    from kwizard.engine.journal import cluster_lock

    # Before anything is read or written: --apply-fixes changes the preset and the hosts.
    with cluster_lock(ws):
        return _resume_headless(ws, options, phases)


def _resume_headless(ws: Workspace, options: RunOptions, phases: Sequence[PhaseDefinition] | None) -> int:
    from kwizard import preset as presets
    from kwizard.engine.journal import RunJournal, last_run
    from kwizard.engine.pipeline import recorded_options_note
    from kwizard.inventory.checks import preset_checks
    from kwizard.ui.console import HeadlessConsole

    directory = last_run(ws)
    if directory is None:
        raise InputError(
            "Nothing to resume",
            f"Cluster {ws.cluster!r} has no run yet.",
            f"Start one: kwizard --preset {ws.preset_file} --yes",
        )
    # The run's own --kubespray-dir / --ignore-preflight, unless given again: a resume continues that run.
    options, notes = options.with_recorded(RunJournal.load(directory).record.options)
    if phases is None and options.operation:  # a day-2 command's run continues with its own phases
        from kwizard.day2 import phase_table

        phases = phase_table(options.operation)
    spec = presets.load(ws.preset_file, check=preset_checks(options))
    console = HeadlessConsole(json_mode=options.json)
    if notes:
        console.console.print(recorded_options_note(notes).capitalize() + ".")
    if options.apply_fixes:
        spec = _apply_fixes(spec, ws, options, directory, console.console)
    engine, warnings = headless_engine(spec, ws, options, console.observe, phases, holds_lock=True)
    journal = RunJournal.load(directory)
    plan = engine.plan_resume(journal)
    console.show_plan(journal.record, plan)
    # Every phase done but no final status (killed right after the last phase): the resume only closes it.
    if not any(step.run for step in plan) and journal.record.status == "ok":
        console.console.print(
            f"Nothing to resume: every phase of run {journal.record.run_id} succeeded and the preset did not "
            "change since. Start a new run with --preset FILE --yes."
        )
        if options.json:
            payload = {
                "cluster": ws.cluster,
                "run_id": journal.record.run_id,
                "status": "ok",
                "resumed": False,
            }
            sys.stdout.write(json.dumps(payload) + "\n")
        return EXIT_OK
    for warning in warnings:
        console.console.print(f"[yellow]{warning}[/]")
    outcome = console.run(
        lambda: engine.resume(directory), engine.cancel, lambda: engine.state, engine.abandon
    )
    console.summary(outcome)
    _cluster_summary(spec, ws, outcome, options)
    return outcome.exit_code


def _apply_fixes(
    spec: ClusterSpec, ws: Workspace, options: RunOptions, directory: Any, out: Any
) -> ClusterSpec:
    """Apply what the last attempt can have fixed: its failed preflight's fixes, its findings' remedies."""
    from kwizard import preset as presets
    from kwizard.engine.journal import read_events
    from kwizard.engine.phase import PhaseContext
    from kwizard.service.fixes import apply_fix, pending_fixes

    fixes = pending_fixes(read_events(directory / "events.jsonl"))
    if not fixes:
        out.print(
            "[yellow]--apply-fixes: no failure of the last run has a fix kwizard can apply; "
            "resuming as it is.[/]"
        )
        return spec
    secrets, _ = secrets_from_environment(spec)
    accept = accepts_new_host_keys(spec, options)
    for fix in fixes:
        out.print(f"[bold]Applying:[/] {fix.describe()}")
        ctx = PhaseContext(spec, ws, options, secrets=secrets, confirm_host_key=lambda prompt: accept)
        result = apply_fix(ctx, fix)
        if result.spec != spec:
            spec = result.spec
            presets.save(spec, ws.preset_file)
        for host in result.hosts:
            out.print(f"  ✓ {host}")
    return spec


def _cluster_summary(spec: ClusterSpec, ws: Workspace, outcome: Any, options: RunOptions) -> None:
    """After a successful run that built or exposed the cluster, what to do next (stderr with --json)."""
    record = outcome.record
    from kwizard import summary

    if outcome.exit_code != EXIT_OK or not any(p in record.selected for p in summary.CLUSTER_PHASES):
        return
    from rich.console import Console

    from kwizard.ui.summary_view import print_summary

    print_summary(summary.from_record(spec, ws, record), Console(stderr=options.json, highlight=False))
