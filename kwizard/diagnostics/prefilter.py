"""Find the positions of many literals in a buffer in (almost) one pass.

A regex of literals runs fast in CPython when it starts with one literal byte: the engine then skips
through the buffer with a tight byte loop and tries the rest only where that byte is. Any substring of
an anchor is still contained in every match, so each anchor is cut to start at one of a few rare bytes
(frequencies sampled from the input itself, chosen so that few distinct bytes cover all anchors), and
the cut literals are compiled as one trie per first byte (a candidate position costs a few byte tests,
not one test per literal). Anchors without a rare byte are looked up with `bytes.find` instead
(several GB/s each).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

MIN_LITERAL = 5  # a cut anchor keeps at least this many bytes
RARE = 0.05  # a first byte at fewer than 5% of the positions is rare enough for the trie
# One more `bytes.find` pass costs about what trying the trie at 0.6% of the positions costs: a first
# byte that only a few anchors need is dearer than finding those anchors whole.
FIND_COST = 0.006


Trie = dict[int, "Trie"]


def _trie_pattern(literals: Iterable[bytes]) -> bytes:
    """A regex matching any of `literals` (none a prefix of another), factored as a trie."""
    trie: Trie = {}
    for literal in literals:
        node = trie
        for byte in literal:
            node = node.setdefault(byte, {})

    def emit(node: Trie) -> bytes:
        if not node:
            return b""
        branches = [re.escape(bytes([byte])) + emit(child) for byte, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"

    return emit(trie)


class Prefilter:
    """All positions of a set of literals (possibly a few extra ones, never fewer)."""

    def __init__(self, anchors: Iterable[bytes], sample: bytes = b"") -> None:
        counts = Counter(sample)
        total = max(len(sample), 1)
        cut, whole = _cuts(set(anchors), counts, total)
        # A literal containing another one is redundant: the shorter one already finds its lines.
        cut = {a for a in cut if not any(b != a and b in a for b in cut)}
        self.regex_literals = tuple(sorted(cut, key=len, reverse=True))
        self.find_literals = tuple(sorted(whole, key=len, reverse=True))
        # One trie per first byte: a pattern that starts with one literal byte is searched with a tight
        # byte loop, a set of first bytes with a slower per-byte set test (about 10x slower here).
        groups: dict[int, list[bytes]] = {}
        for literal in self.regex_literals:
            groups.setdefault(literal[0], []).append(literal)
        self._regexes = tuple(re.compile(_trie_pattern(group)) for group in groups.values())

    def hits(self, buf: bytes, end: int) -> list[int]:
        """Positions in buf[:end] where one of the literals starts (unsorted)."""
        found: list[int] = []
        for regex in self._regexes:
            found.extend(m.start() for m in regex.finditer(buf, 0, end))
        found.extend(find_all(buf, end, self.find_literals))
        return found


def _cuts(anchors: set[bytes], counts: Counter[int], total: int) -> tuple[set[bytes], set[bytes]]:
    """Anchors cut to start at one of a few rare bytes (for the trie), and the anchors left whole.

    The regex engine tries the trie at every position whose byte can start one of its literals, so what
    costs is the share of positions holding ANY of the literals' first bytes. Bytes are taken rarest
    first until every anchor that has a rare byte is covered, then bytes whose anchors are all covered
    by rarer ones are dropped again: the union of first bytes stays as rare as the anchors allow.
    """
    starts: dict[bytes, dict[int, int]] = {}  # anchor → {byte: earliest index a cut may start at}
    for anchor in anchors:
        first: dict[int, int] = {}
        for index in range(max(len(anchor) - MIN_LITERAL, 0) + 1):
            first.setdefault(anchor[index], index)
        starts[anchor] = first
    rare = sorted(
        {b for first in starts.values() for b in first if counts.get(b, 0) / total < RARE},
        key=lambda b: (counts.get(b, 0), b),
    )
    chosen: list[int] = []
    left = set(anchors)
    for byte in rare:
        covered = {a for a in left if byte in starts[a]}
        if covered:
            chosen.append(byte)
            left -= covered
    for byte in reversed(chosen[:]):  # commonest first: drop a byte the others make redundant
        others = [b for b in chosen if b != byte]
        if all(any(b in starts[a] for b in others) for a in anchors if byte in starts[a]):
            chosen = others
    for byte in sorted(chosen, key=lambda b: -counts.get(b, 0)):
        alone = {
            a
            for a in anchors - left
            if byte in starts[a] and not any(b in starts[a] for b in chosen if b != byte)
        }
        if counts.get(byte, 0) / total > FIND_COST * len(alone):
            chosen.remove(byte)
            left |= alone
    cut = set()
    for anchor in anchors - left:
        index = min(i for b, i in starts[anchor].items() if b in chosen)
        cut.add(anchor[index:])
    return cut, left


def find_all(buf: bytes, end: int, literals: Iterable[bytes]) -> list[int]:
    """Every position in buf[:end] where one of `literals` starts."""
    found: list[int] = []
    for literal in literals:
        pos = buf.find(literal, 0, end)
        while pos >= 0:
            found.append(pos)
            pos = buf.find(literal, pos + 1, end)
    return found
