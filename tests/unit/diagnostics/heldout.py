"""Held-out measurement: judge the rules on corpus cases they were not written from.

Each clause of a rule lists the corpus cases it was derived from (`derived_from`). For every thread of
the corpus (cases that quote the same source are one thread), the rules are rebuilt without the clauses
derived from that thread's cases, and the thread's cases are diagnosed with what is left: a rule only
gets a case right when it generalises to it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from diagnostics_support import CleanLog, CorpusCase, clean_logs, corpus_cases

from kwizard.diagnostics import Evidence, diagnose_text
from kwizard.diagnostics.loader import RuleSet, held_out_ruleset, load_ruleset


@dataclass(frozen=True)
class Outcome:
    """What the diagnosis said about one case."""

    case: CorpusCase
    top_category: str | None
    top_fixes: tuple[str, ...]  # the top finding's rule id and remedy id

    @property
    def top1(self) -> bool:
        return self.top_category == self.case.category

    @property
    def judged(self) -> bool:
        """True when the case says which fixes solve it (`fix_ok`)."""
        return bool(self.case.fix_ok)

    @property
    def fixed(self) -> bool:
        return self.top1 and bool(set(self.top_fixes) & set(self.case.fix_ok))

    @property
    def none(self) -> bool:
        return self.top_category is None


@dataclass
class Figures:
    """Shares of the cases (and clean logs) the diagnosis got right, wrong or said nothing about."""

    outcomes: list[Outcome] = field(default_factory=list)
    clean_logs: int = 0
    false_alarms: list[str] = field(default_factory=list)

    def share(self, attr: str) -> float:
        return sum(getattr(o, attr) for o in self.outcomes) / max(len(self.outcomes), 1)

    def fixed_share(self) -> float:
        """Right category and fix, over the cases that say which fixes solve them."""
        judged = [o for o in self.outcomes if o.judged]
        return sum(o.fixed for o in judged) / max(len(judged), 1)

    def line(self, label: str) -> str:
        judged = sum(o.judged for o in self.outcomes)
        return (
            f"{label}: {len(self.outcomes)} cases: top-1 {self.share('top1'):.1%}, right category and fix "
            f"{self.fixed_share():.1%} (of the {judged} cases with fix_ok), no finding "
            f"{self.share('none'):.1%}; false alarms on clean logs {len(self.false_alarms)}/{self.clean_logs}"
        )


def outcome(case: CorpusCase, ruleset: RuleSet) -> Outcome:
    findings = diagnose_text(case.excerpt, Evidence.from_mapping(case.evidence), ruleset=ruleset)
    if not findings:
        return Outcome(case, None, ())
    top = findings[0]
    return Outcome(case, top.category, tuple(i for i in (top.id, top.remedy) if i))


def threads(cases: list[CorpusCase]) -> list[list[CorpusCase]]:
    grouped: dict[str, list[CorpusCase]] = defaultdict(list)
    for case in cases:
        grouped[case.source.rstrip("/").split("#")[0]].append(case)
    return list(grouped.values())


def false_alarms(logs: list[CleanLog]) -> list[str]:
    """`name: [rule ids]` of every clean log that gets a finding."""
    alarms = []
    for log in logs:
        findings = diagnose_text(log.log)
        if findings:
            alarms.append(f"{log.name}: {[f.id for f in findings]}")
    return alarms


def measure(held_out: bool) -> Figures:
    """Figures over the whole corpus: held out (leave one thread out) or with every rule (seen)."""
    cases = corpus_cases()
    figures = Figures()
    full = load_ruleset()
    for thread in threads(cases):
        ruleset = held_out_ruleset(frozenset(c.name for c in thread)) if held_out else full
        figures.outcomes.extend(outcome(case, ruleset) for case in thread)
    logs = clean_logs()
    figures.clean_logs = len(logs)
    figures.false_alarms = false_alarms(logs)
    return figures
