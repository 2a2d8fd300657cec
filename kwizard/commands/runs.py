"""`kwizard runs`: list a cluster's runs; `kwizard runs show RUN` reopens a run's dashboard or report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kwizard.errors import EXIT_OK, EnvironmentProblem, InputError

if TYPE_CHECKING:
    from kwizard.engine.journal import RunJournal
    from kwizard.paths import Workspace
    from kwizard.protocol.phase import Event


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", nargs="?", choices=("list", "show"), default="list", help="list (default) or show"
    )
    parser.add_argument(
        "run", nargs="?", default="last", help="with show: the run id (default: the last run)"
    )
    parser.add_argument("--cluster", "-c", help="the cluster (default: the one opened last)")
    parser.add_argument("--report", action="store_true", help="with show: print the run's Markdown report")
    parser.epilog = (
        "examples:\n  kwizard runs\n  kwizard runs show            (the last run's dashboard, replayed)\n"
        "  kwizard runs show 20260501-101500 --report"
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def run(args: argparse.Namespace) -> int:
    from kwizard.paths import known_clusters, last_cluster, workspace

    cluster = args.cluster or last_cluster()
    if not cluster:
        raise InputError(
            "Which cluster?",
            "No cluster was named and none was opened before.",
            f"Name one with --cluster (known: {', '.join(known_clusters()) or 'none yet'}).",
        )
    ws = workspace(cluster)
    if not ws.cluster_dir.is_dir():
        raise InputError(
            "Unknown cluster",
            f"There is no cluster {cluster!r} under {ws.root}.",
            f"Known clusters: {', '.join(known_clusters()) or 'none yet'}.",
        )
    if args.action == "list":
        return _list(ws)
    return _show(ws, args.run, report=args.report)


def _list(ws: Workspace) -> int:
    from rich.table import Table

    from kwizard.day2.overview import BUILD
    from kwizard.engine.journal import RunJournal, list_runs
    from kwizard.engine.report import duration_text
    from kwizard.errors import KwizardError
    from kwizard.headless.output import output_console

    runs = list_runs(ws)
    console = output_console()
    if not runs:
        console.print(f"Cluster {ws.cluster} has no runs yet.")
        return EXIT_OK
    table = Table(title=f"Runs of {ws.cluster}", title_justify="left")
    for column in ("Run", "What", "Status", "Attempts", "Time in phases", "Phases"):
        table.add_column(column)
    for directory in runs:
        try:
            record = RunJournal.load(directory).record
        except KwizardError as error:
            table.add_row(directory.name, "", "[red]unreadable[/]", "", "", error.problem)
            continue
        phases = " ".join(f"{name}:{record.phase(name).status}" for name in record.selected)
        total = sum(record.phase(name).duration or 0.0 for name in record.selected)
        operation = record.options.get("operation")
        what = str((operation.get("command") if isinstance(operation, dict) else None) or BUILD)
        table.add_row(
            record.run_id, what, record.status, str(len(record.attempts)), duration_text(total), phases
        )
    console.print(table)
    console.print("Open one: kwizard runs show RUN  (or --report for its Markdown report)")
    return EXIT_OK


def _show(ws: Workspace, run_id: str, *, report: bool) -> int:
    from kwizard.engine.journal import RunJournal, last_run

    directory = last_run(ws) if run_id == "last" else ws.runs_dir / run_id
    if directory is None or not (directory / "state.json").is_file():
        raise InputError(
            "Run not found",
            f"Cluster {ws.cluster} has no run {run_id!r}.",
            "List the runs with `kwizard runs`.",
        )
    journal = RunJournal.load(directory)
    if report:
        if journal.report_file.is_file():
            sys.stdout.write(journal.report_file.read_text(encoding="utf-8"))
        else:  # a run killed before it could write its report: build it from the journal
            from kwizard.engine.report import render_report
            from kwizard.engine.state import RunState

            state = RunState().apply_all(_events(journal))
            sys.stdout.write(render_report(journal.record, state))
        return EXIT_OK
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise EnvironmentProblem(
            "No terminal",
            "The dashboard needs an interactive terminal.",
            f"Print the report instead: kwizard runs show {journal.record.run_id} --report",
        )
    from kwizard.ui.dashboard import replay_feed
    from kwizard.ui.dashboard.app import DashboardApp

    app = DashboardApp(replay_feed(journal.events_file), title=f"{ws.cluster} · run {journal.record.run_id}")
    app.run()
    return EXIT_OK


def _events(journal: RunJournal) -> Iterator[Event]:
    from kwizard.engine.journal import read_events

    return read_events(journal.events_file)
