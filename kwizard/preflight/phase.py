"""The preflight phase for the engine: run every check, stream events, stop the run on failures.

Failures fail the phase (the engine then exits with code 3, EXIT_PREFLIGHT_FAILED) unless they are
acknowledged: by check id or `check@host` in `--ignore-preflight` (RunOptions.ignore_preflight) or in
the preset's `preflight.acknowledged`. Either way PhaseResult.data holds the whole report, the Python
interpreter per host (for the inventory) and memory/CPUs per host (for diagnostics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kwizard.errors import InputError
from kwizard.preflight.checks import CHECK_IDS, HostInput
from kwizard.preflight.checks.system import choose_interpreter
from kwizard.preflight.model import CLUSTER, STATUS_WORDS, CheckResult, HostReport, PreflightReport
from kwizard.preflight.run import Preflight
from kwizard.protocol.events import EventKind
from kwizard.protocol.outputs import PreflightOutput
from kwizard.protocol.phase import Event, PhaseContext, PhaseResult
from kwizard.spec import ClusterSpec, Host

PHASE = "preflight"


def failure_summary(report: PreflightReport) -> str:
    """One paragraph for the run summary: what failed, and the two ways on (fix, or acknowledge)."""
    blocking = report.blocking
    listed = "; ".join(f"{r.host} {r.check}: {r.observed}" for r in blocking[:6])
    more = f" (and {len(blocking) - 6} more)" if len(blocking) > 6 else ""
    ids = ",".join(dict.fromkeys(r.check for r in blocking))
    return (
        f"{len(blocking)} check{'s' if len(blocking) != 1 else ''} failed: {listed}{more}. Fix them (each "
        "one's fix is shown with it; the wizard applies the automatic ones), or continue anyway with "
        f"--ignore-preflight {ids} or preflight.acknowledged in the preset."
    )


def is_known_acknowledgement(name: str, spec: ClusterSpec) -> bool:
    """True when `name` is a check id, or CHECK@HOST for a host of `spec` (or the cluster)."""
    check, _, host = name.partition("@")
    return check in CHECK_IDS and (not host or host == CLUSTER or any(h.name == host for h in spec.hosts))


def validate_acknowledgements(names: set[str] | frozenset[str], spec: ClusterSpec, source: str) -> None:
    """Refuse unknown check ids or hosts: a typo must not silently let a failure through."""
    for name in sorted(names):
        if not is_known_acknowledgement(name, spec):
            host = name.partition("@")[2]
            raise InputError(
                "Unknown preflight check",
                f"{source} names {name!r}, which is not a check{' on a known host' if host else ''}",
                f"Use a check id ({', '.join(CHECK_IDS)}), optionally as CHECK@HOST.",
            )


def acknowledged_names(ctx: PhaseContext) -> frozenset[str]:
    spec_names = set(ctx.spec.preflight.acknowledged)
    validate_acknowledgements(spec_names, ctx.spec, "preflight.acknowledged in the preset")
    validate_acknowledgements(set(ctx.options.ignore_preflight), ctx.spec, "--ignore-preflight")
    return frozenset(spec_names | set(ctx.options.ignore_preflight))


def python_interpreters(spec: ClusterSpec, report: PreflightReport) -> dict[str, str]:
    """Per host, the Python the inventory should name as ansible_python_interpreter (when one works)."""
    chosen: dict[str, str] = {}
    for host_report in report.hosts:
        if host_report.facts is None:
            continue
        host = spec.host(host_report.host)
        interpreter = choose_interpreter(HostInput(spec, host, host_report.facts))
        if interpreter:
            chosen[host.name] = interpreter.path
    return chosen


def measured(spec: ClusterSpec, report: PreflightReport) -> dict[str, dict[str, Any]]:
    """Per host, the measurements diagnostics re-ranks its findings with (names as it reads them)."""
    hosts: dict[str, dict[str, Any]] = {}
    interpreters = python_interpreters(spec, report)
    for host_report in report.hosts:
        facts = host_report.facts
        if facts is None:
            continue
        os_result = report.result(host_report.host, "os")
        disks = [d.free_mb for d in facts.disks]
        hosts[host_report.host] = {
            "memory_mb": facts.mem_mb,
            "cpus": facts.cpus,
            "python3": host_report.host in interpreters,
            "ip_forward": facts.ip_forward,
            "swap_mb": facts.swap_mb,
            "disk_free_mb": min(disks) if disks else None,
            "clock_offset_s": facts.clock_skew,
            "os_supported": None if os_result is None else os_result.status != "fail",
            "systemd": facts.systemd,
            "stub_resolver": any(ns.startswith("127.") for ns in facts.nameservers),
            "os": facts.os_pretty,
            "instance_type": spec.host(host_report.host).instance_type or facts.aws_instance_type,
        }
    return hosts


def phase_data(spec: ClusterSpec, report: PreflightReport) -> dict[str, Any]:
    """What later phases read from the journal or PhaseContext.results (`PreflightOutput`)."""
    return PreflightOutput(
        python_interpreters=python_interpreters(spec, report),
        hosts=measured(spec, report),
        blocking=[r.key for r in report.blocking],
        acknowledged=[r.key for r in report.results if r.status == "fail" and r.acknowledged],
        report=report.to_json(),
    ).to_data()


ENGINE_STATUS = {"pass": "ok", "warn": "warning", "fail": "failed"}


def _host_status(host_report: HostReport) -> dict[str, Any]:
    """A host_status event's data: the engine's status words plus the full results."""
    problems = [r for r in host_report.results if r.status != "pass"]
    unreachable = host_report.facts is None
    text = (
        "unreachable: " + host_report.results[0].observed if unreachable else "preflight: all checks passed"
    )
    if problems and not unreachable:
        words = [f"{r.check} {STATUS_WORDS[r.status]}" for r in problems]
        marks = [" (acknowledged)" if r.acknowledged else "" for r in problems]
        text = "preflight: " + ", ".join(w + m for w, m in zip(words, marks, strict=True))
    return {
        # An acknowledged failure does not make the host a failed one (the run goes on past it).
        "status": "unreachable" if unreachable else ENGINE_STATUS[host_report.effective_status],
        "text": text,
        "results": [r.to_json() for r in host_report.results],
    }


def _problem_log(result: CheckResult) -> Event:
    """A log line per problem, for the journal and the dashboard's log. Level info: the headless
    console shows the same problems once, in the table of the `preflight_report` event."""
    where = "" if result.host == CLUSTER else f"[{result.host}] "
    mark = {"warn": "!", "fail": "✗*" if result.acknowledged else "✗"}[result.status]
    text = f"{mark} {where}{result.check}: {result.observed}"
    if result.fix:
        text += f" — fix: {result.fix}"
    if result.fix_id:
        text += " (the wizard can do this)"
    level = "info"
    return Event(
        EventKind.LOG, PHASE, None if result.host == CLUSTER else result.host, {"text": text, "level": level}
    )


def run_phase(ctx: PhaseContext, hosts: Sequence[Host] | None = None) -> PhaseResult:
    """Check every host (or only `hosts`, e.g. the ones add-node brings); a failure nobody acknowledged
    fails the phase (the engine exits with 3)."""
    acknowledged = acknowledged_names(ctx)
    targets = list(ctx.spec.hosts if hosts is None else hosts)
    ctx.log(PHASE, f"checking {len(targets)} hosts at once")

    def on_host(host_report: HostReport) -> None:
        acknowledged_here = host_report.with_acknowledged(acknowledged)
        ctx.emit(Event(EventKind.HOST_STATUS, PHASE, host_report.host, _host_status(acknowledged_here)))

    report = Preflight(ctx).run(targets, on_host=on_host).with_acknowledged(acknowledged)
    if hosts is not None and report.cluster:
        # Checking some hosts of a built cluster: its cluster-wide choices were settled when it was built.
        for result in report.cluster:
            ctx.log(PHASE, f"not checked now (cluster-wide): {result.check}: {result.observed}")
        present = {r.check for h in report.hosts for r in h.results}
        report = replace(report, cluster=(), checks=tuple(c for c in report.checks if c in present))
    # One host_status per host (the engine counts them); problems found by the cross-host checks
    # (duplicate names, spread, counts) come with the rest as log lines.
    for result in sorted(report.problems, key=lambda r: (r.status != "fail", r.host)):
        ctx.emit(_problem_log(result))
    data = phase_data(ctx.spec, report)
    ctx.emit(Event(EventKind.PREFLIGHT_REPORT, PHASE, None, data["report"]))
    if report.blocking:
        return PhaseResult("failed", failure_summary(report), data)
    return PhaseResult("ok", report.summary(), data)
