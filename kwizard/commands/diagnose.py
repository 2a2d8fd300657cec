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
        metavar="PATH|-",
        help="a log file (ansible stdout, -vvv, kubeadm output, a pasted block), an ansible-runner "
        "artifacts folder, or - to read standard input",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print [{"id","category","title","confidence","evidence","fix"}], best first',
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
    from kwizard.diagnostics import diagnose_path

    diagnosis = diagnose_path(args.path, _load_evidence(args.evidence))
    if args.json:
        print(json.dumps([f.to_json() for f in diagnosis.findings], indent=2, ensure_ascii=False))
    else:
        _print_report(diagnosis)
    return EXIT_OK


def _print_report(diagnosis: Diagnosis) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console()
    findings = diagnosis.findings
    if diagnosis.binary_at is not None:
        console.print(
            Text(
                f"Binary data from byte {diagnosis.binary_at:,} on: the log was read up to there.",
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
