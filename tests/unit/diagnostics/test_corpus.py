"""Every real failure of the public corpus gets its category as the top finding."""

from __future__ import annotations

import pytest
from diagnostics_support import CorpusCase, corpus_cases

from kwizard.diagnostics import Evidence, diagnose_text, load_ruleset
from kwizard.diagnostics.model import CATEGORIES

CASES = corpus_cases()
# A case today's rules miss stays in the corpus as a strict expected failure: it must fail until the
# engine names it, and then its `known_miss` mark must go.
PARAMS = [
    pytest.param(c, id=c.name, marks=pytest.mark.xfail(strict=True, reason="known_miss"))
    if c.known_miss
    else c
    for c in CASES
]
ISSUE_CATEGORIES = CATEGORIES[: CATEGORIES.index("inventory_invalid") + 1]


def _top_rule(case: CorpusCase) -> tuple[str, str]:
    findings = diagnose_text(case.excerpt, Evidence.from_mapping(case.evidence))
    assert findings, f"{case.name}: no finding for an excerpt of {case.source}"
    return findings[0].category, findings[0].id


@pytest.mark.parametrize("case", PARAMS)
def test_corpus_case_gets_its_category_first(case: CorpusCase) -> None:
    category, rule_id = _top_rule(case)
    assert category == case.category, f"{case.name} ({case.source}): top finding {rule_id}"


# Cases quoted from Kubespray's own run on the lab (tests/integration/test_kubespray_real_lab.py).
LAB_RUN = "kubespray v2.31.0 cluster.yml through kwizard on the lab"


def test_corpus_is_large_enough_and_quotes_public_threads() -> None:
    assert len(CASES) >= 40
    for case in CASES:
        assert case.source.startswith(("https://github.com/", LAB_RUN)), case.name
        assert len(case.cause) > 20, f"{case.name}: say what the thread established"
        lines = case.excerpt.strip().splitlines()
        assert 1 <= len(lines) <= 30 and len(case.excerpt) <= 3000, f"{case.name}: keep quotations short"
        assert case.category in CATEGORIES


# Rules whose real case is a real run in this suite rather than a public thread (the test named).
REAL_RUN_CASES = {"no_systemd": "test_real_no_systemd.py"}


def test_every_rule_has_a_real_case() -> None:
    tops = {_top_rule(case)[1] for case in CASES if not case.known_miss}
    rule_ids = {compiled.rule.id for compiled in load_ruleset().rules}
    assert rule_ids - tops - set(REAL_RUN_CASES) == set()


def test_every_category_of_the_issue_has_a_rule_and_a_case() -> None:
    ruled = {compiled.rule.category for compiled in load_ruleset().rules}
    cased = {case.category for case in CASES}
    for category in ISSUE_CATEGORIES:
        assert category in ruled, category
        assert category in cased, category
