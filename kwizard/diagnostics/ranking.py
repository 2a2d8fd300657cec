"""Turn matches into findings: apply evidence, merge per rule, rank best first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kwizard.diagnostics.evidence import Evidence
from kwizard.diagnostics.matcher import Match
from kwizard.diagnostics.model import ContextRule, Rule

MIN_CONFIDENCE = 0.2  # below this a match is noise, not a finding
MAX_EVIDENCE_LINES = 6
CAUSE_CONFIDENCE = 0.5  # a cause at least this sure ranks above symptoms


@dataclass(frozen=True)
class Finding:
    """A known error found in the input: the cause, the proof, the fix."""

    id: str
    category: str
    title: str
    confidence: float
    evidence: tuple[str, ...]
    fix: tuple[str, ...]
    explanation: str = ""
    hosts: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    remedy: str | None = None
    links: tuple[str, ...] = ()
    order: int = 0

    def to_json(self) -> dict[str, Any]:
        """The `kwizard diagnose --json` shape."""
        return {
            "id": self.id,
            "category": self.category,
            "title": self.title,
            "confidence": round(self.confidence, 2),
            "evidence": list(self.evidence),
            "fix": list(self.fix),
            "hosts": list(self.hosts),
            "remedy": self.remedy,
        }


@dataclass
class _Acc:
    rule: Rule
    confidence: float = 0.0
    remedy: str | None = None
    order: int = 0
    # Dicts as ordered sets: a log with 100k failed hosts must not make each addition scan a list.
    evidence: dict[str, None] = field(default_factory=dict)
    hosts: dict[str, None] = field(default_factory=dict)
    tasks: dict[str, None] = field(default_factory=dict)

    def add_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            if len(self.evidence) >= MAX_EVIDENCE_LINES:
                return  # only the first lines are shown; the rest would only cost memory
            self.evidence.setdefault(line, None)


def _holds(entry: ContextRule, value: Any) -> bool:
    if value is None:
        return False
    if entry.equals is not None:
        return bool(value == entry.equals)
    if isinstance(value, bool):
        return False
    if entry.below is not None and not value < entry.below:
        return False
    return not (entry.at_least is not None and not value >= entry.at_least)


def _format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _because(entry: ContextRule, match: Match, note: str) -> str:
    """The note, said as the reason when the evidence is what makes this finding likely."""
    return f"likely because {note}" if entry.confidence > match.confidence else note


def apply_context(match: Match, evidence: Evidence) -> tuple[float, str | None, str | None]:
    """The match's confidence after evidence, the remedy that fits, and the evidence note (if any)."""
    rule = match.rule.rule
    for entry in rule.context:
        if entry.setting is not None:
            setting = evidence.settings.get(entry.setting)
            if _holds(entry, setting):
                note = entry.note.format(host=match.record.host or "", value=_format_value(setting))
                return entry.confidence, entry.remedy or rule.remedy, _because(entry, match, note)
            continue
        if match.record.on_controller:
            continue  # the task ran on the controller: the node's measurements say nothing about it
        for host, facts in evidence.facts_for(match.record.host):
            fact = facts.get(entry.fact or "")
            if _holds(entry, fact):
                note = entry.note.format(host=host, value=_format_value(fact))
                return entry.confidence, entry.remedy or rule.remedy, _because(entry, match, note)
    return match.confidence, rule.remedy, None


def rank(matches: Iterable[Match], evidence: Evidence | None = None) -> list[Finding]:
    """Findings, one per rule, best first; nothing below MIN_CONFIDENCE."""
    evidence = evidence or Evidence()
    merged: dict[str, _Acc] = {}
    for match in matches:
        rule = match.rule.rule
        confidence, remedy, note = apply_context(match, evidence)
        acc = merged.get(rule.id)
        if acc is None:
            acc = merged[rule.id] = _Acc(rule, order=match.record.order)
        if confidence > acc.confidence:
            acc.confidence, acc.remedy = confidence, remedy
        acc.order = min(acc.order, match.record.order)
        if note:
            acc.add_lines([note])
        if match.record.on_controller:
            acc.add_lines(
                [
                    f"the task ran on the machine running Ansible ({match.record.host} -> "
                    f"{match.record.delegate}): fix it there, not on {match.record.host}"
                ]
            )
        acc.add_lines(match.record.evidence)
        if match.record.host:
            acc.hosts.setdefault(match.record.host, None)
        if match.record.task:
            acc.tasks.setdefault(match.record.task, None)
    findings = [
        Finding(
            id=acc.rule.id,
            category=acc.rule.category,
            title=acc.rule.title,
            confidence=acc.confidence,
            evidence=tuple(acc.evidence),
            fix=tuple(acc.rule.fix),
            explanation=acc.rule.explanation.strip(),
            hosts=tuple(acc.hosts),
            tasks=tuple(acc.tasks),
            remedy=acc.remedy,
            links=tuple(acc.rule.links),
            order=acc.order,
        )
        for acc in merged.values()
        if acc.confidence >= MIN_CONFIDENCE
    ]
    # A cause found with some confidence outranks a symptom, whatever the symptom's own confidence.
    symptoms = {acc.rule.id for acc in merged.values() if acc.rule.symptom}
    cause_found = any(f.confidence >= CAUSE_CONFIDENCE and f.id not in symptoms for f in findings)
    return sorted(findings, key=lambda f: (cause_found and f.id in symptoms, -f.confidence, f.order, f.id))
