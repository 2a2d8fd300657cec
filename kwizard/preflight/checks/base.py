"""What every check gets (HostInput) and how it answers (a CheckResult through `HostInput.result`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kwizard.preflight.facts import HostFacts
from kwizard.preflight.model import CheckResult, Status
from kwizard.spec import ClusterSpec, Host


@dataclass(frozen=True)
class HostInput:
    """One host as a check sees it: the spec's view, the probe's facts and side results."""

    spec: ClusterSpec
    host: Host
    facts: HostFacts
    become_ok: bool | None = None  # the become password worked (None: not tried)

    def result(
        self,
        check: str,
        status: Status,
        observed: str,
        required: str = "",
        why: str = "",
        fix: str = "",
        fix_id: str | None = None,
    ) -> CheckResult:
        return CheckResult(check, self.host.name, status, observed, required, why, fix, fix_id)

    @property
    def instance_type(self) -> str | None:
        return self.host.instance_type or self.facts.aws_instance_type

    def sudo_prefix(self) -> str:
        return "" if self.facts.sudo == "root" else "sudo "


HostCheck = Callable[[HostInput], CheckResult | None]


@dataclass(frozen=True)
class CheckInfo:
    """A check's stable id (for --ignore-preflight), its column header and a one-line description."""

    id: str
    header: str
    title: str


def gib(mb: int) -> str:
    """Megabytes as a short human figure ("79 GB", "950 MB")."""
    return f"{mb / 1024:.0f} GB" if mb >= 10 * 1024 else f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb} MB"
