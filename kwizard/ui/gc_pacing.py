"""Full garbage collections between the dashboard's frames, not in the middle of one.

Python's collector runs a full pass (every tracked object: ~35,000 on a live dashboard, 10-50 ms here)
whenever enough collections of the middle generation have happened, so in whatever allocates next: during
a flood of events, often a frame that was already the longest. While a dashboard shows a run, `pace()`
raises the collector's own trigger for full passes far out of reach, and the dashboard asks `due()` on
its ticks: when as many middle collections as Python's own trigger counts have happened, it runs
`collect()` once a light frame is on the screen, in the time left before the next tick. The younger
generations are collected as usual; the raised trigger stays as a backstop should the ticks stop.
Nested users share one setting; the last one out restores Python's.
"""

from __future__ import annotations

import gc
import threading

# Python's default: a full pass after 10 collections of the middle generation.
FULL_EVERY = gc.get_threshold()[2] or 10
# While paced, the collector's own full passes only after this many (a backstop, not the pace).
BACKSTOP = 100 * FULL_EVERY

_lock = threading.Lock()
_users = 0
_saved: tuple[int, ...] = ()


def pace() -> None:
    """Start pacing full collections (counted: each call needs one `unpace`)."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = gc.get_threshold()
            young, middle, _ = _saved
            gc.set_threshold(young, middle, BACKSTOP)
        _users += 1


def unpace() -> None:
    """Stop pacing; the last user restores Python's thresholds."""
    global _users
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users == 0:
            gc.set_threshold(*_saved)


def due() -> bool:
    """Whether a full collection is due: as many middle collections as Python's own trigger counts."""
    return _users > 0 and gc.get_count()[2] >= FULL_EVERY


def collect() -> None:
    """The full collection (if still due: another frame may have run one meanwhile)."""
    if due():
        gc.collect()
