"""The headless preflight table (rich): checks by hosts, then every problem with its fix.

rich is imported inside the functions: the core stays free of UI imports at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kwizard.preflight.checks import CHECK_INFO
from kwizard.preflight.fixes import FIXES
from kwizard.preflight.model import CLUSTER, CheckResult, PreflightReport

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

GLYPHS = {"pass": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "bold red")}


def cell(result: CheckResult | None) -> tuple[str, str]:
    """Text and style of one matrix cell ("·" when the check does not apply to the host)."""
    if result is None:
        return "·", "dim"
    if result.status == "fail" and result.acknowledged:
        return "✗*", "red dim"
    return GLYPHS[result.status]


def matrix_columns(report: PreflightReport) -> list[str]:
    """Column names of the matrix: the hosts, then `cluster` when there are cross-host checks."""
    return [h.host for h in report.hosts] + ([CLUSTER] if report.cluster else [])


def matrix_rows(report: PreflightReport) -> list[tuple[str, list[CheckResult | None]]]:
    """One row per check: (check id, its result on each matrix column, None where it does not apply)."""
    columns = matrix_columns(report)
    return [(check, [report.result(host, check) for host in columns]) for check in report.checks]


def grouped_problems(report: PreflightReport) -> list[list[CheckResult]]:
    """Problems with the same check, status and fix grouped together (one table row per group)."""
    groups: dict[tuple[str, str, bool, str], list[CheckResult]] = {}
    for result in sorted(
        report.problems, key=lambda r: (r.status != "fail", r.acknowledged, r.check, r.host)
    ):
        groups.setdefault((result.check, result.status, result.acknowledged, result.fix), []).append(result)
    return list(groups.values())


def render(report: PreflightReport) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    matrix = Table(title="Preflight", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    matrix.add_column("check", style="bold", no_wrap=True, min_width=max(map(len, report.checks), default=5))
    for column in matrix_columns(report):
        matrix.add_column(column, justify="center", no_wrap=True, min_width=len(column))
    # The description gives way first: the host columns must stay visible on an 80-column terminal.
    matrix.add_column("", style="dim", overflow="fold", ratio=1)
    for check, results in matrix_rows(report):
        title = CHECK_INFO[check].title if check in CHECK_INFO else ""
        matrix.add_row(check, *(Text(*cell(r)) for r in results), title)

    problems = Table(show_header=True, header_style="bold", show_lines=True)
    for name, ratio in (("check", 2), ("hosts", 2), ("observed", 3), ("required", 2), ("fix", 5)):
        problems.add_column(name, overflow="fold", ratio=ratio)
    for group in grouped_problems(report):
        first = group[0]
        text, style = cell(first)
        observed = {r.observed for r in group}
        shown = first.observed if len(observed) == 1 else "\n".join(f"{r.host}: {r.observed}" for r in group)
        fix = Text(first.fix)
        if first.fix_id:
            fix.append(f"\nkwizard can {FIXES[first.fix_id].title}.", style="cyan")
        if first.why:
            fix.append(f"\nWhy: {first.why}", style="dim")
        problems.add_row(
            Text(f"{text} {first.check}", style=style),
            ", ".join(r.host for r in group),
            shown,
            first.required,
            fix,
        )
    legend = "✓ pass  ! warning  ✗ failed  ✗* failed, acknowledged  · does not apply"
    parts: list[Any] = [matrix, Text(legend, style="dim"), Text(report.summary(), style="bold")]
    if report.problems:
        parts.append(problems)
    return Group(*parts)


# Words instead of glyphs in the plain layout: `grep FAIL` finds every failure in a CI log.
PLAIN_WORDS = {"pass": "ok", "warn": "warn", "fail": "FAIL"}


def plain_cell(result: CheckResult | None) -> str:
    if result is None:
        return "-"
    word = PLAIN_WORDS[result.status]
    return word + "(ack)" if result.status == "fail" and result.acknowledged else word


def render_plain(report: PreflightReport) -> str:
    """The report for a log file or a pipe: fixed columns, no wrapping, one line per problem.

    Each problem line starts with its status, check and hosts (`FAIL python lab3: …`), so a CI log can be
    searched for it; nothing depends on the width of a terminal that is not there.
    """
    columns = matrix_columns(report)
    check_width = max([len("check"), *(len(c) for c in report.checks)])
    widths = [max(len(c), len("FAIL(ack)")) for c in columns]
    lines = [f"Preflight: {report.summary()}"]
    lines.append(
        "  ".join([f"{'check':<{check_width}}", *(f"{c:<{w}}" for c, w in zip(columns, widths, strict=True))])
    )
    for check, results in matrix_rows(report):
        cells = (f"{plain_cell(r):<{w}}" for r, w in zip(results, widths, strict=True))
        lines.append("  ".join([f"{check:<{check_width}}", *cells]).rstrip())
    for group in grouped_problems(report):
        first = group[0]
        status = plain_cell(first)
        hosts = ",".join(r.host for r in group)
        seen = {r.observed for r in group}
        observed = first.observed if len(seen) == 1 else "; ".join(f"{r.host}: {r.observed}" for r in group)
        line = f"{status} {first.check} {hosts}: observed {observed}"
        if first.required:
            line += f"; required {first.required}"
        if first.fix:
            line += f"; fix: {first.fix}"
        if first.fix_id:
            line += f" (kwizard can {FIXES[first.fix_id].title})"
        lines.append(" ".join(line.split()))  # one line, whatever the texts hold
    return "\n".join(lines)


def render_json(data: dict[str, Any]) -> RenderableType:
    """`render` for a report as sent in the phase's `preflight_report` event (headless console)."""
    return render(PreflightReport.from_json(data))


def print_report(report: PreflightReport, console: Console | None = None) -> None:
    """Print the table and the problems to `console` (default: stderr, so --json stdout stays clean)."""
    from rich.console import Console

    (console or Console(stderr=True)).print(render(report))
