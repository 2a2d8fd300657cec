"""`kwizard diagnose PATH|-`: explain a failed Ansible/Kubespray run — the real cause and the fix."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from kwizard.errors import EXIT_OK, InputError

if TYPE_CHECKING:
    from kwizard.diagnostics import Diagnosis, Evidence, Finding


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        metavar="RUN|PATH|-",
        help="a kwizard run: its folder or CLUSTER/RUN_ID (as `kwizard runs` lists them); or a log file "
        "(ansible stdout, -vvv, kubeadm output, a pasted block), an ansible-runner artifacts folder, "
        "or - to read standard input",
    )
    parser.add_argument(
        "--last", action="store_true", help="the last run of the cluster opened last (instead of RUN|PATH)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print [{"id","category","title","confidence","evidence","fix","hosts","remedy"}], best first',
    )
    parser.add_argument(
        "--evidence",
        metavar="FILE",
        help='JSON facts that sharpen the diagnosis: {"hosts": {"node1": {"memory_mb": 1024}}, '
        '"settings": {"proxy": true}} (preflight results are accepted as they are)',
    )


def _load_evidence(path: str | None) -> Evidence | None:
    from kwizard.diagnostics import Evidence

    if not path:
        return None
    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            "Cannot read the evidence file", f"{path}: {exc.strerror or exc}", "Check the path."
        ) from exc
    except ValueError as exc:
        raise InputError(
            "Invalid evidence file", f"{path} is not valid JSON: {exc}", "Fix the JSON."
        ) from exc
    if not isinstance(data, dict):
        raise InputError("Invalid evidence file", f"{path} must hold a JSON object", 'Use {"hosts": {...}}.')
    return Evidence.from_mapping(data)


def run(args: argparse.Namespace) -> int:
    run_folder = _run_folder(args)
    if run_folder is not None:
        from kwizard.engine.findings import diagnose_run

        if args.evidence:
            raise InputError(
                "--evidence is not used for a run",
                "A run is diagnosed with the facts its own preflight measured, as it was when it failed.",
                "Leave out --evidence, or give the run's log file instead of the run.",
            )
        diagnosis = diagnose_run(run_folder)
    else:
        from kwizard.diagnostics import diagnose_path

        diagnosis = diagnose_path(args.path, _load_evidence(args.evidence))
    if args.json:
        print(json.dumps([f.to_json() for f in diagnosis.findings], indent=2, ensure_ascii=False))
    else:
        _print_report(diagnosis)
    return EXIT_OK


def _run_folder(args: argparse.Namespace) -> Path | None:
    """The run folder `args` name (its folder, its events.jsonl, CLUSTER/RUN_ID or --last); None for a log."""
    from kwizard.engine.journal import EVENTS_FILE, STATE_FILE

    if args.last:
        if args.path:
            raise InputError(
                "Two things to diagnose", f"Both --last and {args.path!r} were given.", "Give one of them."
            )
        return _last_run()
    if not args.path:
        raise InputError(
            "Nothing to diagnose",
            "No run, log file or folder was given.",
            "Give a run (kwizard diagnose CLUSTER/RUN_ID, or --last), a log file, a folder, or - for stdin.",
        )
    if args.path == "-":
        return None
    target = Path(args.path).expanduser()
    if target.is_file() and target.name == EVENTS_FILE and (target.parent / STATE_FILE).is_file():
        target = target.parent  # the run's own event log: the run, with its evidence
    if target.is_dir():
        return target if (target / STATE_FILE).is_file() else None
    if target.exists() or args.path.count("/") != 1:
        return None
    return _named_run(*args.path.split("/"))


def _named_run(cluster: str, run_id: str) -> Path:
    """The folder of run `run_id` of `cluster` (what `kwizard runs` lists)."""
    from kwizard.engine.journal import STATE_FILE
    from kwizard.paths import known_clusters, workspace

    folder = workspace(cluster).runs_dir / run_id
    if not (folder / STATE_FILE).is_file():
        raise InputError(
            "Run not found",
            f"{cluster}/{run_id} is no file, and cluster {cluster!r} has no run {run_id!r} ({folder}).",
            f"List the runs with `kwizard runs --cluster {cluster}` (clusters: "
            f"{', '.join(known_clusters()) or 'none yet'}), or give the path of a log file.",
        )
    return folder


def _last_run() -> Path:
    from kwizard.engine.journal import last_run
    from kwizard.paths import last_cluster, workspace

    cluster = last_cluster()
    folder = last_run(workspace(cluster)) if cluster else None
    if cluster is None or folder is None:
        raise InputError(
            "No run to diagnose",
            f"Cluster {cluster!r} has no run yet." if cluster else "No cluster was opened yet.",
            "Give a run as CLUSTER/RUN_ID (see `kwizard runs`), or a log file.",
        )
    return folder


def _print_report(diagnosis: Diagnosis) -> None:
    from rich.text import Text

    from kwizard.diagnostics.scanner import MAX_RECORDS
    from kwizard.headless.output import output_console

    console = output_console()
    findings = diagnosis.findings
    if diagnosis.binary_at is not None:
        console.print(
            Text(
                f"Binary data from byte {diagnosis.binary_at:,} on: the log was read up to there.",
                style="yellow",
            )
        )
    if diagnosis.cut_at is not None:
        console.print(
            Text(
                f"Stopped at byte {diagnosis.cut_at:,} after {MAX_RECORDS:,} failed results: the findings "
                "come from that part of the log (the rest rarely changes them; split the log to read it).",
                style="yellow",
            )
        )
    if not findings:
        unknown = (
            f" {diagnosis.failures} failed result(s) match no known error; the log itself has the details."
            if diagnosis.failures
            else ""
        )
        console.print(Text(f"No known error found in {diagnosis.source}.{unknown}", style="green"))
        return
    plural = "s" if len(findings) != 1 else ""
    console.print(
        Text(f"{len(findings)} known error{plural} in {diagnosis.source} (best first)", style="bold")
    )
    for number, finding in enumerate(findings, 1):
        console.print()
        console.print(_render(number, finding))


def _render(number: int, finding: Finding) -> object:
    from rich.console import Group
    from rich.text import Text

    from kwizard.diagnostics import remedy_for

    head = Text(f"{number}. ", style="bold")
    head.append(finding.title, style="bold red" if number == 1 else "bold")
    head.append(f"  {finding.category} · {finding.confidence:.0%}", style="dim")
    parts: list[Text] = [head]
    if finding.hosts:
        parts.append(Text(f"   Hosts: {', '.join(finding.hosts)}"))
    parts.append(Text("   Evidence:", style="bold"))
    parts.extend(Text(f"     {line}", style="yellow", overflow="fold") for line in finding.evidence)
    if finding.explanation:
        parts.append(Text("   Why: ", style="bold").append(finding.explanation, style="default"))
    parts.append(Text("   Fix:", style="bold green"))
    parts.extend(Text(f"     • {step}") for step in finding.fix)
    plan = remedy_for(finding)
    if plan is not None:
        parts.append(
            Text("   kwizard can fix this: ", style="bold cyan").append(plan.describe(), style="cyan")
        )
    for link in finding.links:
        parts.append(Text(f"   See {link}", style="dim"))
    return Group(*parts)
