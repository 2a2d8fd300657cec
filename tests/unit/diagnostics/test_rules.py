"""Rules are data: the shipped files validate, and broken rules are refused with file and rule id."""

from __future__ import annotations

from pathlib import Path

import pytest

from kwizard.diagnostics.loader import RuleError, build, load_remedies, load_rule_file, load_ruleset
from kwizard.diagnostics.model import CATEGORIES


def test_shipped_rules_and_remedies_load() -> None:
    ruleset = load_ruleset()
    assert len(ruleset.rules) >= len(CATEGORIES)
    assert {c.rule.category for c in ruleset.rules} == set(CATEGORIES)
    used = {c.rule.remedy for c in ruleset.rules} | {e.remedy for c in ruleset.rules for e in c.rule.context}
    assert used - {None} <= set(ruleset.remedies)
    for compiled in ruleset.rules:
        assert compiled.rule.fix and compiled.rule.explanation and compiled.rule.title


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    build(((rule, str(path)) for rule in load_rule_file(path)), load_ruleset().remedies.values())


RULE = """
- id: my_rule
  category: {category}
  title: t
  explanation: e
  fix: [f]
  {extra}
  match:
    - {clause}
"""


@pytest.mark.parametrize(
    ("category", "clause", "extra", "message"),
    [
        ("disk_space", "text: '('", "", "invalid regular expression"),
        ("no_such_category", "msg: x", "", "unknown category"),
        ("disk_space", "msg: x", "remedy: no_such_remedy", "remedy 'no_such_remedy' is not defined"),
        ("disk_space", "{kind: [text], text: 'a+b?'}", "", "no literal of at least"),
        ("disk_space", "{kind: [text], msg: 'x'}", "", "can only use `text`"),
        ("disk_space", "{kind: [failed]}", "", "needs at least one pattern"),
    ],
)
def test_invalid_rules_are_refused_with_file_and_rule(
    tmp_path: Path, category, clause, extra, message
) -> None:
    with pytest.raises(RuleError) as caught:
        _load(tmp_path, RULE.format(category=category, clause=clause, extra=extra))
    assert message in str(caught.value)
    assert "rules.yaml" in str(caught.value)


def test_duplicate_rule_ids_are_refused(tmp_path: Path) -> None:
    one = RULE.format(category="disk_space", clause="msg: x", extra="")
    with pytest.raises(RuleError, match="used twice"):
        _load(tmp_path, one + one.replace("\n- id", "\n- id", 1))


def test_invalid_remedy_is_refused() -> None:
    with pytest.raises(RuleError, match="needs a command"):
        load_remedies("broken:\n  title: t\n  description: d\n  action: {kind: host_command}\n", "r.yaml")


def test_a_clause_written_from_several_threads_is_matched_once_and_held_out_per_thread(
    tmp_path: Path,
) -> None:
    clause = "{msg: 'disk full', derived_from: [%s]}"
    first = RULE.format(category="disk_space", clause=clause % "case-a", extra="")
    text = f"{first}    - {clause % 'case-b'}"
    path = tmp_path / "rules.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    rules = [(rule, str(path)) for rule in load_rule_file(path)]
    remedies = load_ruleset().remedies.values()
    assert len(build(rules, remedies).rules[0].clauses) == 1
    assert len(build(rules, remedies, held_out=frozenset({"case-a"})).rules[0].clauses) == 1
    assert build(rules, remedies, held_out=frozenset({"case-a", "case-b"})).rules == ()
