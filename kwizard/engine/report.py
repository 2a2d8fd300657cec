"""The Markdown report of a run: phases, durations, hosts, failures with diagnoses, slowest tasks."""

from __future__ import annotations

import time

from kwizard.engine.journal import RunRecord
from kwizard.engine.state import RunState

STATUS_MARK = {
    "ok": "✅ ok",
    "skipped": "⏭ skipped",
    "failed": "❌ failed",
    "interrupted": "⏸ interrupted",
    "running": "… running",
    "pending": "· pending",
}


def duration_text(seconds: float | None) -> str:
    """`1h 02m`, `3m 07s`, `12.4s` or `-`."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def clock(seconds: float | None) -> str:
    """`mm:ss` or `h:mm:ss` (`--:--` when unknown): elapsed times and ETAs on progress displays."""
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _skipped_line(record: RunRecord) -> list[str]:
    """The phases the last attempt left out (--skip): the table below does not list them."""
    skipped = list(record.attempts[-1].skipped) if record.attempts else []
    if not skipped:
        return []
    return [
        f"- **Not run (--skip):** {', '.join(skipped)}; a later run, or `kwizard --resume {record.cluster} "
        f"--yes --until PHASE`, runs them"
    ]


def render_report(record: RunRecord, state: RunState) -> str:
    """The report's Markdown text."""
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
    total = sum(p.duration or 0.0 for p in record.phases.values())
    lines = [
        f"# kwizard run {record.run_id} — cluster `{record.cluster}`",
        "",
        f"- **Status:** {STATUS_MARK.get(record.status, record.status)} (exit code {record.exit_code})",
        f"- **Started:** {started}; attempts: {len(record.attempts)}"
        + (" (resumed)" if any(a.resumed for a in record.attempts) else ""),
        f"- **Time in phases:** {duration_text(total)}",
        *_skipped_line(record),
        "",
        "## Phases",
        "",
        "| Phase | Status | Duration | Tasks | Summary |",
        "|---|---|---|---|---|",
    ]
    for name in record.selected:
        phase = record.phase(name)
        summary = phase.summary
        if phase.error:
            summary = f"{phase.error.get('title', '')}: {phase.error.get('problem', '')}"
        lines.append(
            f"| {name} | {STATUS_MARK.get(phase.status, phase.status)} | {duration_text(phase.duration)} | "
            f"{phase.tasks or ''} | {_cell(summary)} |"
        )
    lines += _hosts(state) + _failures(state, record) + _slowest(state)
    return "\n".join(lines) + "\n"


def _hosts(state: RunState) -> list[str]:
    if not state.hosts:
        return []
    lines = [
        "",
        f"## {state.hosts_title()}",
        "",
        "| Host | ok | changed | failed | unreachable | skipped | last task |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in sorted(state.hosts):
        host = state.hosts[name]
        lines.append(
            f"| {name} | {host.ok} | {host.changed} | {host.failed} | {host.unreachable} | {host.skipped} | "
            f"{_cell(host.task)} |"
        )
    return lines


def _failures(state: RunState, record: RunRecord) -> list[str]:
    errors = [(name, record.phase(name).error) for name in record.selected if record.phase(name).error]
    if not state.failures and not errors:
        return []
    lines = ["", "## Failures"]
    for name, error in errors:
        lines += ["", f"### Phase {name}: {error.get('title', '')}", "", error.get("problem", "")]
        if error.get("fix"):
            lines += ["", f"**Fix:** {error['fix']}"]
    for failure in state.failures:
        # After a resume, earlier attempts' failures stay in the report, marked as such.
        where = f"phase {failure.phase}" + (f", attempt {failure.attempt}" if state.attempt > 1 else "")
        lines += ["", f"### {failure.host} — {failure.task or '(no task)'} ({failure.kind}, {where})", ""]
        if failure.action:
            lines.append(f"Module `{failure.action}`.")
        lines += ["", "```", failure.message, "```"]
        stderr = str(failure.res.get("stderr") or failure.res.get("module_stderr") or "").strip()
        if stderr and stderr.splitlines()[0] != failure.message:
            lines += ["", "stderr:", "", "```", stderr[-1500:], "```"]
        where_from = (failure.host, failure.phase, failure.attempt)
        for finding in state.findings:
            if (finding.host, finding.phase, finding.attempt) == where_from:
                lines += ["", f"**Diagnosis — {finding.title}** (`{finding.id}`)"]
                explanation = str(finding.data.get("explanation", "")).strip()
                if explanation:
                    lines += ["", explanation]
                if finding.fix:
                    lines += ["", f"**Fix:** {finding.fix}"]
    return lines


def _slowest(state: RunState) -> list[str]:
    if not state.slowest:
        return []
    lines = ["", "## Slowest tasks", "", "| # | Phase | Task | Duration |", "|---|---|---|---|"]
    for rank, timing in enumerate(state.slowest, start=1):
        lines.append(f"| {rank} | {timing.phase} | {_cell(timing.task)} | {duration_text(timing.seconds)} |")
    return lines
