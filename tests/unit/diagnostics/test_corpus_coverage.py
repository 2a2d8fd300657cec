"""The public failure corpus and the clean-log set are big and varied enough to measure the rules on."""

from __future__ import annotations

from collections import Counter

from diagnostics_support import corpus_cases

from kwizard.diagnostics import load_ruleset

CASES = corpus_cases()
MIN_CASES = 150
MIN_PER_CATEGORY = 5


def test_corpus_has_enough_cases_for_every_category_the_rules_name() -> None:
    assert len(CASES) >= MIN_CASES
    counts = Counter(case.category for case in CASES)
    ruled = {compiled.rule.category for compiled in load_ruleset().rules}
    short = {category: counts[category] for category in ruled if counts[category] < MIN_PER_CATEGORY}
    assert short == {}, f"categories with fewer than {MIN_PER_CATEGORY} real cases: {short}"


def test_corpus_cases_cite_distinct_threads_and_real_remedies() -> None:
    ruleset = load_ruleset()
    # fix_ok names remedies, or rules whose (non-automatic) fix solves the cause
    fixes = set(ruleset.remedies) | {compiled.rule.id for compiled in ruleset.rules}
    excerpts = Counter(case.excerpt.strip() for case in CASES)
    assert [text[:80] for text, n in excerpts.items() if n > 1] == []
    # One case per thread, so a held-out case never shares its thread with a case a rule was written on.
    sources = Counter(case.source for case in CASES)
    assert [source for source, n in sources.items() if n > 1] == []
    for case in CASES:
        assert set(case.fix_ok) <= fixes, f"{case.name}: unknown rule or remedy in fix_ok {case.fix_ok}"
