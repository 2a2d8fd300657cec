"""Headless mode: a run shown on the terminal (rich, or JSON lines) instead of the wizard's dashboard.

`run_headless(spec, ws, options)` and `resume_headless(ws, options)` are what `kwizard --yes`,
`kwizard --resume` and the day-2 commands call. The engine comes from `kwizard.service.runs`, as the
wizard's does; this package only shows it (`console`), and prints the summary and the preflight table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kwizard.errors import EXIT_OK
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.spec import ClusterSpec

if TYPE_CHECKING:
    from kwizard.engine.pipeline import PhaseDefinition


def run_headless(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions,
    *,
    phases: Sequence[PhaseDefinition] | None = None,
    holds_lock: bool = False,
) -> int:
    """Run the selected phases without a UI; returns the exit code."""
    from kwizard.headless.console import HeadlessConsole
    from kwizard.service.runs import build_engine

    console = HeadlessConsole(json_mode=options.json)
    engine, warnings = build_engine(spec, ws, options, console.observe, phases=phases, holds_lock=holds_lock)
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
    from kwizard.engine.journal import RunJournal, run_to_resume
    from kwizard.engine.pipeline import recorded_options_note
    from kwizard.headless.console import HeadlessConsole
    from kwizard.inventory.checks import preset_checks
    from kwizard.service.runs import apply_pending_fixes, build_engine

    directory = run_to_resume(ws)
    # The run's own --kubespray-dir / --ignore-preflight, unless given again: a resume continues that run.
    options, notes = options.with_recorded(RunJournal.load(directory).record.options)
    if phases is None and options.operation:  # a day-2 command's run continues with its own phases
        from kwizard.day2 import phase_table

        phases = phase_table(options.operation)
    spec = presets.load(ws.preset_file, check=preset_checks(options))
    console = HeadlessConsole(json_mode=options.json)
    out = console.console
    if notes:
        out.print(recorded_options_note(notes).capitalize() + ".")
    if options.apply_fixes:
        fixed = apply_pending_fixes(spec, ws, options, directory, lambda text: out.print(text, markup=False))
        if fixed is None:
            out.print(
                "[yellow]--apply-fixes: no failure of the last run has a fix kwizard can apply; "
                "resuming as it is.[/]"
            )
        spec = fixed or spec
    engine, warnings = build_engine(spec, ws, options, console.observe, phases=phases, holds_lock=True)
    journal = RunJournal.load(directory)
    plan = engine.plan_resume(journal)
    console.show_plan(journal.record, plan)
    # Every phase done but no final status (killed right after the last phase): the resume only closes it.
    if not any(step.run for step in plan) and journal.record.status == "ok":
        out.print(
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
        out.print(f"[yellow]{warning}[/]")
    outcome = console.run(
        lambda: engine.resume(directory), engine.cancel, lambda: engine.state, engine.abandon
    )
    console.summary(outcome)
    _cluster_summary(spec, ws, outcome, options)
    return outcome.exit_code


def _cluster_summary(spec: ClusterSpec, ws: Workspace, outcome: Any, options: RunOptions) -> None:
    """After a successful run that built or exposed the cluster, what to do next (stderr with --json)."""
    record = outcome.record
    from kwizard import summary

    if outcome.exit_code != EXIT_OK or not any(p in record.selected for p in summary.CLUSTER_PHASES):
        return
    from rich.console import Console

    from kwizard.headless.summary_view import print_summary

    print_summary(summary.from_record(spec, ws, record), Console(stderr=options.json, highlight=False))
