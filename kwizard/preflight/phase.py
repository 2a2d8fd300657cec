"""The preflight phase for the engine: run every check, stream events, stop the run on failures.

Failures stop the run (exit code 3) unless they are acknowledged: by check id or `check@host` in
`--ignore-preflight` (RunOptions.ignore_preflight) or in the preset's `preflight.acknowledged`.
"""

from __future__ import annotations

from typing import Any

from kwizard.engine.phase import Event, PhaseContext, PhaseResult
from kwizard.errors import EXIT_PREFLIGHT_FAILED, InputError, KwizardError
from kwizard.preflight.checks import CHECK_IDS, HostInput
from kwizard.preflight.checks.system import choose_interpreter
from kwizard.preflight.model import CLUSTER, HostReport, PreflightReport
from kwizard.preflight.run import Preflight
from kwizard.spec import ClusterSpec

PHASE = "preflight"


class PreflightFailed(KwizardError):
    """Checks failed that nobody acknowledged; carries the report so it can be shown and journalled."""

    exit_code = EXIT_PREFLIGHT_FAILED

    def __init__(self, report: PreflightReport, data: dict[str, Any]):
        blocking = report.blocking
        listed = "; ".join(f"{r.host} {r.check}: {r.observed}" for r in blocking[:6])
        more = f" (and {len(blocking) - 6} more)" if len(blocking) > 6 else ""
        ids = ",".join(dict.fromkeys(r.check for r in blocking))
        super().__init__(
            "Preflight failed",
            f"{len(blocking)} check{'s' if len(blocking) != 1 else ''} failed: {listed}{more}",
            "Fix them as the table says (the wizard applies the automatic fixes for you), or continue "
            f"anyway: --ignore-preflight {ids}, or list them under preflight.acknowledged in the preset.",
        )
        self.report = report
        self.data = data


def validate_acknowledgements(names: set[str] | frozenset[str], spec: ClusterSpec, source: str) -> None:
    """Refuse unknown check ids or hosts: a typo must not silently let a failure through."""
    hosts = {h.name for h in spec.hosts} | {"cluster"}
    for name in sorted(names):
        check, _, host = name.partition("@")
        if check not in CHECK_IDS or (host and host not in hosts):
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


def phase_data(spec: ClusterSpec, report: PreflightReport) -> dict[str, Any]:
    """What later phases read: the full report, interpreters for the inventory, sizes for diagnostics."""
    return {
        "report": report.to_json(),
        "python_interpreters": python_interpreters(spec, report),
        "sizes": {
            h.host: {"memory_mb": h.facts.mem_mb, "cpus": h.facts.cpus, "os": h.facts.os_pretty}
            for h in report.hosts
            if h.facts is not None
        },
        "blocking": [r.key for r in report.blocking],
        "acknowledged": [r.key for r in report.results if r.status == "fail" and r.acknowledged],
    }


def _host_status(host_report: HostReport) -> dict[str, Any]:
    return {"status": host_report.status, "results": [r.to_json() for r in host_report.results]}


def run_phase(ctx: PhaseContext) -> PhaseResult:
    """Check every host; raise PreflightFailed (exit 3) when a failure is not acknowledged."""
    acknowledged = acknowledged_names(ctx)
    ctx.log(PHASE, f"checking {len(ctx.spec.hosts)} hosts in parallel")

    def on_host(host_report: HostReport) -> None:
        ctx.emit(Event("host_status", PHASE, host_report.host, _host_status(host_report)))
        for result in host_report.results:
            if result.status != "pass":
                ctx.emit(Event("finding", PHASE, result.host, result.to_json()))

    streamed: set[str] = set()

    def on_host_streamed(host_report: HostReport) -> None:
        streamed.update(r.key for r in host_report.results)
        on_host(host_report)

    report = Preflight(ctx).run(on_host=on_host_streamed).with_acknowledged(acknowledged)
    # Cross-host checks (unique names, spread, counts) exist only once every host has answered.
    for host_report in report.hosts:
        if any(r.key not in streamed for r in host_report.results):
            ctx.emit(Event("host_status", PHASE, host_report.host, _host_status(host_report)))
    for result in report.results:
        if result.key not in streamed and result.status != "pass":
            ctx.emit(
                Event("finding", PHASE, None if result.host == CLUSTER else result.host, result.to_json())
            )
    data = phase_data(ctx.spec, report)
    ctx.emit(Event("preflight_report", PHASE, None, data["report"]))
    if report.blocking:
        raise PreflightFailed(report, data)
    return PhaseResult("ok", report.summary(), data)
