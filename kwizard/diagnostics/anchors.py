"""Literal anchors of a regular expression: a string every match must contain.

The text scanner does not run every rule's regex on every line of a 500 MB log. It looks for the
rules' anchors with `bytes.find` (several GB/s each) and runs the full patterns only on the lines around
a hit. The anchor of a pattern is derived from its parse tree: the longest run of literal characters
that any match must contain, or a set of alternatives (one per branch) when the pattern branches.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from dataclasses import dataclass
from typing import Any

MIN_ANCHOR = 4  # shorter anchors hit too often and slow the scan down


@dataclass(frozen=True)
class Anchor:
    """Literals of which at least one occurs in every match; `ignore_case` when the regex has (?i)."""

    literals: frozenset[str]
    ignore_case: bool = False

    @property
    def strength(self) -> int:
        return min((len(s) for s in self.literals), default=0)

    def variants(self) -> frozenset[bytes]:
        """The byte strings to search for (a few case variants when the regex ignores case)."""
        out: set[bytes] = set()
        for literal in self.literals:
            forms = {literal}
            if self.ignore_case:
                forms |= {literal.lower(), literal.upper(), literal[:1].upper() + literal[1:].lower()}
            out |= {form.encode("utf-8") for form in forms}
        return frozenset(out)


def anchor_of(pattern: str) -> Anchor | None:
    """The best anchor of `pattern`, or None when no literal of useful length is required."""
    parsed = sre_parse.parse(pattern)
    ignore_case = bool(parsed.state.flags & re.IGNORECASE)
    best = _best(_candidates(list(parsed)))
    if best is None or min(len(s) for s in best) < MIN_ANCHOR:
        return None
    literals = frozenset(s.lower() for s in best) if ignore_case else best
    return Anchor(literals, ignore_case)


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    # Longest shortest-literal first; fewer alternatives break ties (fewer searches).
    ranked = sorted(candidates, key=lambda c: (min(len(s) for s in c), -len(c)), reverse=True)
    return ranked[0] if ranked else None


def _candidates(items: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Required literal sets of a sequence of parsed items."""
    found: list[frozenset[str]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            found.append(frozenset({"".join(run)}))
            run.clear()

    for op, arg in items:
        if op is sre_constants.LITERAL:
            run.append(chr(arg))
        elif op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            continue  # zero-width: the literals around it stay contiguous
        elif op is sre_constants.SUBPATTERN:
            inner = list(arg[3])
            literal = _pure_literal(inner)
            if literal is not None:
                run.append(literal)
                continue
            close_run()
            best = _best(_candidates(inner))
            if best:
                found.append(best)
        elif op is sre_constants.BRANCH:
            close_run()
            alternatives = [_best(_candidates(list(alt))) for alt in arg[1]]
            if alternatives and all(alternatives):
                found.append(frozenset().union(*(a for a in alternatives if a)))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            close_run()
            minimum, _maximum, inner = arg
            if minimum >= 1:
                best = _best(_candidates(list(inner)))
                if best:
                    found.append(best)
        else:
            close_run()  # character classes, ANY, categories: no literal here
    close_run()
    return found


def _pure_literal(items: list[tuple[Any, Any]]) -> str | None:
    if items and all(op is sre_constants.LITERAL for op, _ in items):
        return "".join(chr(arg) for _, arg in items)
    return None
