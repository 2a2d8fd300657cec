"""Load the shipped rules and remedies, validate them, and compile them for matching and scanning.

A shipped rule that does not validate is a bug in kwizard, reported with its file and rule id; rules
for free text must have a literal anchor so the fast scanner can find their lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kwizard.diagnostics.anchors import MIN_ANCHOR, Anchor, anchor_of
from kwizard.diagnostics.model import CLAUSE_FIELDS, Clause, Remedy, Rule
from kwizard.errors import KwizardError


class RuleError(KwizardError):
    """A rules or remedies file that does not validate."""


@dataclass(frozen=True)
class CompiledClause:
    """A clause with its regexes compiled once."""

    kinds: frozenset[str]
    task: re.Pattern[str] | None
    actions: frozenset[str] | None
    fields: tuple[tuple[str, re.Pattern[str]], ...]
    text: re.Pattern[str] | None
    rc: frozenset[int] | None
    unless: re.Pattern[str] | None
    also: tuple[re.Pattern[str], ...]
    confidence: float
    without: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    clauses: tuple[CompiledClause, ...]


@dataclass(frozen=True)
class RuleSet:
    """Everything the matcher and the scanner need, built once per process."""

    rules: tuple[CompiledRule, ...]
    remedies: Mapping[str, Remedy]
    text_anchors: frozenset[bytes]  # literals of free-text patterns
    also_patterns: Mapping[str, re.Pattern[str]]

    def rule(self, rule_id: str) -> Rule:
        for compiled in self.rules:
            if compiled.rule.id == rule_id:
                return compiled.rule
        raise KeyError(rule_id)


def _read_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError("Invalid rules file", f"{source} is not valid YAML: {exc}", "Fix the file.") from exc


def _rules_from(data: Any, source: str) -> list[Rule]:
    if not isinstance(data, list):
        raise RuleError("Invalid rules file", f"{source} must be a list of rules", "Fix the file.")
    rules = []
    for index, entry in enumerate(data):
        ident = entry.get("id", f"#{index + 1}") if isinstance(entry, dict) else f"#{index + 1}"
        try:
            rules.append(Rule.model_validate(entry))
        except ValidationError as exc:
            raise RuleError(
                "Invalid known-error rule", f"{source}, rule {ident}: {exc}", "Fix the rule."
            ) from exc
    return rules


def _clause_anchor(clause: Clause) -> Anchor | None:
    if clause.anchor:
        return Anchor(frozenset({clause.anchor}))
    return anchor_of(clause.text) if clause.text else None


def _compile_clause(rule: Rule, clause: Clause, source: str) -> tuple[CompiledClause, Anchor | None]:
    anchor = None
    if "text" in clause.kind and clause.text:
        anchor = _clause_anchor(clause)
        if anchor is None or anchor.strength < MIN_ANCHOR:
            raise RuleError(
                "Known-error rule cannot be scanned",
                f"{source}, rule {rule.id}: the text pattern {clause.text!r} has no literal of at least "
                f"{MIN_ANCHOR} characters that every match contains",
                "Make the pattern start from a fixed phrase, or give the clause an `anchor`.",
            )
    compiled = CompiledClause(
        kinds=frozenset(clause.kind),
        task=re.compile(clause.task) if clause.task else None,
        actions=frozenset(clause.action) if clause.action else None,
        fields=tuple((f, re.compile(p)) for f, p in clause.patterns().items() if f in CLAUSE_FIELDS),
        without=frozenset(clause.without),
        text=re.compile(clause.text) if clause.text else None,
        rc=frozenset(clause.rc) if clause.rc is not None else None,
        unless=re.compile(clause.unless) if clause.unless else None,
        also=tuple(re.compile(p) for p in clause.also),
        confidence=clause.confidence if clause.confidence is not None else rule.confidence,
    )
    return compiled, anchor


def build(
    rules: Iterable[tuple[Rule, str]], remedies: Iterable[Remedy], held_out: frozenset[str] = frozenset()
) -> RuleSet:
    """Validate cross-references and compile `rules` (each with the file it came from).

    Clauses derived from a case in `held_out` are left out (a rule left without clauses is dropped): the
    rules as they would be had those cases never been seen.
    """
    remedy_map = {r.id: r for r in remedies}
    compiled_rules: list[CompiledRule] = []
    text_anchors: set[bytes] = set()
    also: dict[str, re.Pattern[str]] = {}
    seen_ids: set[str] = set()
    for rule, source in rules:
        if rule.id in seen_ids:
            raise RuleError("Duplicate known-error rule", f"{source}: rule id {rule.id!r} is used twice", "")
        seen_ids.add(rule.id)
        for remedy_id in [rule.remedy, *(c.remedy for c in rule.context)]:
            if remedy_id and remedy_id not in remedy_map:
                raise RuleError(
                    "Unknown remedy", f"{source}, rule {rule.id}: remedy {remedy_id!r} is not defined", ""
                )
        clauses = []
        for clause in rule.match:
            if held_out and not held_out.isdisjoint(clause.derived_from):
                continue
            compiled, anchor = _compile_clause(rule, clause, source)
            if compiled not in clauses:  # the same clause written from several threads is matched once
                clauses.append(compiled)
            if anchor:
                text_anchors |= anchor.variants()
            also.update((pattern, re.compile(pattern)) for pattern in clause.also)
        if clauses:
            compiled_rules.append(CompiledRule(rule, tuple(clauses)))
    return RuleSet(tuple(compiled_rules), remedy_map, frozenset(text_anchors), also)


def _package_files(folder: str) -> list[tuple[str, str]]:
    root = resources.files("kwizard.diagnostics").joinpath(folder)
    entries = sorted((p for p in root.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)
    return [(f"{folder}/{p.name}", p.read_text(encoding="utf-8")) for p in entries]


def load_remedies(text: str, source: str) -> list[Remedy]:
    """Remedies from one YAML document (a mapping id → remedy)."""
    data = _read_yaml(text, source)
    if not isinstance(data, dict):
        raise RuleError("Invalid remedies file", f"{source} must map remedy ids to remedies", "")
    out = []
    for remedy_id, body in data.items():
        try:
            out.append(Remedy.model_validate({"id": remedy_id, **(body or {})}))
        except (ValidationError, TypeError) as exc:
            raise RuleError(
                "Invalid remedy", f"{source}, remedy {remedy_id}: {exc}", "Fix the remedy."
            ) from exc
    return out


@lru_cache(maxsize=1)
def shipped_rules() -> tuple[tuple[tuple[Rule, str], ...], tuple[Remedy, ...]]:
    """The rules shipped with kwizard (each with its file) and the remedies, validated, not compiled."""
    rules: list[tuple[Rule, str]] = []
    for source, text in _package_files("rules"):
        rules.extend((rule, source) for rule in _rules_from(_read_yaml(text, source), source))
    remedies_text = (
        resources.files("kwizard.diagnostics").joinpath("remedies.yaml").read_text(encoding="utf-8")
    )
    return tuple(rules), tuple(load_remedies(remedies_text, "remedies.yaml"))


@lru_cache(maxsize=1)
def load_ruleset() -> RuleSet:
    """The rules shipped with kwizard, validated and compiled (cached for the process)."""
    rules, remedies = shipped_rules()
    return build(rules, remedies)


def held_out_ruleset(cases: frozenset[str]) -> RuleSet:
    """The shipped rules without the clauses derived from `cases` (for held-out measurement)."""
    rules, remedies = shipped_rules()
    return build(rules, remedies, held_out=cases)


def load_rule_file(path: Path) -> list[Rule]:
    """Rules from a file outside the package (tests, users' own rules)."""
    return _rules_from(_read_yaml(path.read_text(encoding="utf-8"), str(path)), str(path))
