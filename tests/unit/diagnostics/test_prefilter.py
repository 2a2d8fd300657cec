"""Anchors and the prefilter: never miss a line a rule could match."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kwizard.diagnostics import load_ruleset
from kwizard.diagnostics.anchors import anchor_of
from kwizard.diagnostics.prefilter import Prefilter
from kwizard.diagnostics.scanner import scan_anchors


def test_anchor_is_the_longest_required_literal() -> None:
    assert anchor_of(r"no volume plugin matched").literals == frozenset({"no volume plugin matched"})
    assert anchor_of(r"[Pp]ermission denied").literals == frozenset({"ermission denied"})
    assert anchor_of(r"^\s*\[ERROR NumCPU\]").literals == frozenset({"[ERROR NumCPU]"})
    branches = anchor_of(r"(Could not get lock|dpkg frontend is locked)")
    assert branches is not None and branches.literals == frozenset(
        {"Could not get lock", "dpkg frontend is locked"}
    )
    assert anchor_of(r"a+|b") is None


def test_ignore_case_anchors_search_the_usual_spellings() -> None:
    anchor = anchor_of(r"(?i)permission denied")
    assert anchor is not None and anchor.ignore_case
    assert {b"permission denied", b"PERMISSION DENIED", b"Permission denied"} <= anchor.variants()


ANCHORS = scan_anchors(load_ruleset())


@settings(max_examples=150, deadline=None)
@given(
    noise=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz [](){}:!.-_\"'0123456789\n", max_size=80), max_size=30
    ),
    picks=st.lists(st.sampled_from(ANCHORS), min_size=1, max_size=5),
    sample_noise=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz !\n", max_size=4000),
)
def test_prefilter_finds_every_anchor_occurrence(
    noise: list[str], picks: list[bytes], sample_noise: str
) -> None:
    parts: list[bytes] = []
    for index, chunk in enumerate(noise):
        parts.append(chunk.encode())
        if index < len(picks):
            parts.append(picks[index])
    parts.extend(picks[len(noise) :])
    buf = b"".join(parts)
    prefilter = Prefilter(ANCHORS, sample=sample_noise.encode() + buf)
    hits = set(prefilter.hits(buf, len(buf)))
    for anchor in set(picks):
        for found in re.finditer(re.escape(anchor), buf):
            # the prefilter may report a later position inside the anchor (its rarest byte), never none
            assert any(found.start() <= hit < found.end() for hit in hits), anchor
