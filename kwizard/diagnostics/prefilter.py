"""Find the positions of many literals in a buffer in (almost) one pass.

A regex alternation of N literals runs fast in CPython only when the first bytes of its alternatives
are rare in the text: the engine then skips through the buffer with a byte-set test and tries the
alternatives only at the few positions that pass. Any substring of an anchor is still contained in
every match, so each anchor is cut to start at its rarest byte (frequencies sampled from the input
itself), and the cut literals are compiled as a trie (one branch per byte, so a candidate position
costs a few byte tests, not one test per literal). Anchors without a rare byte are looked up with
`bytes.find` instead (several GB/s each).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

MIN_LITERAL = 5  # a cut anchor keeps at least this many bytes
RARE = 0.05  # a first byte at fewer than 5% of the positions is rare enough for the trie


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
        cut: set[bytes] = set()
        whole: set[bytes] = set()
        for anchor in anchors:
            piece, share = self._rarest_cut(anchor, counts, total)
            (cut if share < RARE else whole).add(piece if share < RARE else anchor)
        # A literal containing another one is redundant: the shorter one already finds its lines.
        cut = {a for a in cut if not any(b != a and b in a for b in cut)}
        self.regex_literals = tuple(sorted(cut, key=len, reverse=True))
        self.find_literals = tuple(sorted(whole, key=len, reverse=True))
        self._regex = re.compile(_trie_pattern(self.regex_literals)) if self.regex_literals else None

    @staticmethod
    def _rarest_cut(anchor: bytes, counts: Counter[int], total: int) -> tuple[bytes, float]:
        last = max(len(anchor) - MIN_LITERAL, 0)
        # rarest first byte; the earliest such position keeps the longest literal
        index = min(range(last + 1), key=lambda i: (counts.get(anchor[i], 0), i))
        return anchor[index:], counts.get(anchor[index], 0) / total

    def hits(self, buf: bytes, end: int) -> list[int]:
        """Positions in buf[:end] where one of the literals starts (unsorted)."""
        found: list[int] = []
        if self._regex is not None:
            found.extend(m.start() for m in self._regex.finditer(buf, 0, end))
        found.extend(find_all(buf, end, self.find_literals))
        return found


def find_all(buf: bytes, end: int, literals: Iterable[bytes]) -> list[int]:
    """Every position in buf[:end] where one of `literals` starts."""
    found: list[int] = []
    for literal in literals:
        pos = buf.find(literal, 0, end)
        while pos >= 0:
            found.append(pos)
            pos = buf.find(literal, pos + 1, end)
    return found
