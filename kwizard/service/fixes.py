"""What a stopped run can have fixed before its retry, and applying it: one model for both front ends.

Two sources, one list: the automatic fixes of the checks that failed the run's preflight (recorded in
its `preflight_report` event; applied through `Preflight.fix`, exactly as the Preflight step's Fix does)
and the remedies of its diagnosed failures (`kwizard.diagnostics.apply`). `kwizard --resume --apply-fixes`
applies them all; the Deploy step's "Apply fix and retry" applies the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kwizard.diagnostics.apply import apply_on_hosts, apply_to_spec, changes_spec, plans_for_findings
from kwizard.diagnostics.remedies import RemedyPlan
from kwizard.engine.state import RunState
from kwizard.errors import RemoteError
from kwizard.preflight.fixes import FIXES
from kwizard.preflight.model import PreflightReport
from kwizard.protocol.phase import Event, PhaseContext
from kwizard.spec import ClusterSpec


@dataclass(frozen=True)
class PendingFix:
    """One fix kwizard can apply before a retry: a diagnosed remedy, or the failed preflight's fixes."""

    id: str
    title: str
    hosts: tuple[str, ...]
    remedy: RemedyPlan | None = None
    report: PreflightReport | None = None  # the preflight report the fixes come from
    selected: tuple[tuple[str, str], ...] = ()  # (host, preflight fix id)

    @property
    def changes_spec_only(self) -> bool:
        """True when applying it only changes the preset (nothing runs on the hosts)."""
        return self.remedy is not None and changes_spec(self.remedy)

    def describe(self) -> str:
        """One sentence for the Deploy step's tooltip and the CLI."""
        if self.remedy is not None:
            return self.remedy.describe()
        done = "; ".join(f"{FIXES[fix_id].title} on {host}" for host, fix_id in self.selected)
        return f"Preflight fixes: {done}, then retry."


@dataclass(frozen=True)
class FixResult:
    """The preset after the fix (unchanged for host commands) and the hosts it was applied on."""

    spec: ClusterSpec
    hosts: tuple[str, ...]


def preflight_fix(events: Iterable[Event]) -> PendingFix | None:
    """The automatic fixes of the checks that failed the run's last preflight, as one PendingFix."""
    recorded = [e for e in events if e.kind == "preflight_report"]
    if not recorded:
        return None
    report = PreflightReport.from_json(dict(recorded[-1].data))
    selected = tuple(
        dict.fromkeys((r.host, r.fix_id) for r in report.blocking if r.fix_id in FIXES and r.fix_id)
    )
    if not selected:
        return None
    hosts = tuple(dict.fromkeys(host for host, _ in selected))
    title = "Fix what failed the preflight"
    return PendingFix(",".join(dict.fromkeys(f for _, f in selected)), title, hosts, None, report, selected)


def pending_fixes(events: Iterable[Event]) -> list[PendingFix]:
    """Every fix kwizard can apply for a stopped run: the preflight's first, then the newest finding's."""
    events = list(events)
    state = RunState().apply_all(events)
    plans = plans_for_findings((f.data, f.host) for f in reversed(state.live_findings))
    fixes = [PendingFix(p.id, p.remedy.title, p.hosts, remedy=p) for p in plans]
    preflight = preflight_fix(events)
    return ([preflight] if preflight is not None else []) + fixes


def apply_fix(ctx: PhaseContext, fix: PendingFix) -> FixResult:
    """Apply `fix` (preset change, command on the hosts, or preflight fixes); KwizardError when it fails.

    Preflight fixes run through `Preflight.fix`: the same commands, become handling and re-check as the
    Preflight step, and a fix counts as done only when the re-check passes.
    """
    if fix.remedy is not None:
        if changes_spec(fix.remedy):
            return FixResult(apply_to_spec(fix.remedy, ctx.spec), ())
        return FixResult(ctx.spec, tuple(done.host for done in apply_on_hosts(ctx, fix.remedy)))
    from kwizard.preflight.run import Preflight  # Fabric loads only when hosts are fixed

    assert fix.report is not None
    spec, _, outcomes = Preflight(ctx).fix(fix.report, fix.selected)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise RemoteError(
            "Fix failed",
            "; ".join(f"{FIXES[o.fix_id].title} on {o.host}: {o.detail}" for o in failed),
            "Apply it by hand (the preflight report says how), or on the Preflight step, then Resume.",
        )
    return FixResult(spec, tuple(dict.fromkeys(o.host for o in outcomes)))
