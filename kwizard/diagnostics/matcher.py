"""Match failure records against the compiled rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kwizard.diagnostics.loader import CompiledClause, CompiledRule, RuleSet
from kwizard.diagnostics.records import FailureRecord


@dataclass(frozen=True)
class Match:
    """A rule that fits a record, with the clause's confidence before any context."""

    rule: CompiledRule
    record: FailureRecord
    confidence: float


def _action_fits(wanted: frozenset[str], action: str | None) -> bool:
    if not action:
        return False
    short = action.rsplit(".", 1)[-1]
    return action in wanted or short in wanted


def clause_matches(clause: CompiledClause, record: FailureRecord, seen: set[str]) -> bool:
    """True when every condition of `clause` holds for `record`."""
    if record.kind not in clause.kinds:
        return False
    if clause.task is not None and not (record.task and clause.task.search(record.task)):
        return False
    if clause.actions is not None and not _action_fits(clause.actions, record.action):
        return False
    if clause.rc is not None and record.rc not in clause.rc:
        return False
    if any(record.fields.get(name) for name in clause.without):
        return False
    for name, pattern in clause.fields:
        value = record.fields.get(name)
        if not value or not pattern.search(value):
            return False
    text = record.text
    if clause.text is not None and not clause.text.search(text):
        return False
    if clause.unless is not None and clause.unless.search(text):
        return False
    return all(
        also.pattern in seen or bool(record.nearby and also.search(record.nearby)) for also in clause.also
    )


def seen_in_records(records: Iterable[FailureRecord], ruleset: RuleSet, seen: set[str]) -> set[str]:
    """`also` patterns found in the records' own text, added to those the scanner saw elsewhere."""
    found = set(seen)
    missing = {p: c for p, c in ruleset.also_patterns.items() if p not in found}
    for record in records:
        if not missing:
            break
        text = record.text
        for pattern in [p for p, c in missing.items() if c.search(text)]:
            found.add(pattern)
            del missing[pattern]
    return found


def match_records(
    records: Iterable[FailureRecord], ruleset: RuleSet, seen: Iterable[str] = ()
) -> list[Match]:
    """Every (rule, record) pair that matches, with the best clause's confidence."""
    records = list(records)
    context = seen_in_records(records, ruleset, set(seen))
    matches: list[Match] = []
    for record in records:
        found: list[Match] = []
        for compiled in ruleset.rules:
            best = max(
                (c.confidence for c in compiled.clauses if clause_matches(c, record, context)),
                default=None,
            )
            if best is not None:
                found.append(Match(compiled, record, best))
        known = [m for m in found if not m.rule.rule.fallback]
        matches.extend(known or found)
    return matches
