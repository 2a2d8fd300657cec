"""Textual's Strip without the reference cycle it makes of every screen line (Textual 8).

`Strip.divide([its own length])` returns `[self]` and `Strip.crop_extend(0, its own length)` returns
`self`, and both first store that answer in the strip's own cache: the strip then refers to itself, so it
is not freed when the compositor drops it but left, with its eight caches, for the garbage collector.
The compositor does this for nearly every line it paints, so a dashboard repainting 15 times a second
under a flood of events made ~800 such objects a frame; they outlived the young generations and the
full collections that walked them were the longest pauses of bench/events (a 40-50 ms pass on top of a
frame's work).

`apply()` answers those two calls before the cache is involved, with what Textual would answer; every
other call goes to Textual unchanged. Called by each kwizard App before it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.style import Style
from textual.strip import Strip

_textual_divide = Strip.divide
_textual_crop_extend = Strip.crop_extend


def _divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = list(cuts)
    if [cut for cut in cuts if cut <= self.cell_length] == [self.cell_length]:
        return [self]  # the whole strip: Textual's answer, without caching it in the strip itself
    return _textual_divide(self, cuts)


def _crop_extend(self: Strip, start: int, end: int, style: Style | None) -> Strip:
    if start == 0 and end == self.cell_length:
        return self  # nothing to crop or extend: Textual's answer, without the self-reference
    return _textual_crop_extend(self, start, end, style)


def apply() -> None:
    """Use the cycle-free divide and crop_extend (idempotent)."""
    patched: Any = Strip
    patched.divide = _divide
    patched.crop_extend = _crop_extend
