"""Where the dashboard's events come from: a thread-safe feed filled by any thread, drained by the UI.

The engine (or a replay) calls `feed.put(event)` from its own threads; the dashboard drains the feed on a
timer and applies every queued event to its RunState in one go, so a flood of Ansible events costs one
repaint per tick instead of one per event.

While the dashboard draws a frame it holds the feed (`hold`, then `release` once the frame is on the
screen): a producing thread then waits in `put` instead of sharing the interpreter with the UI thread.
In a flood the producer otherwise took every other switch interval of the frame, and a frame of 50 ms of
work was 100 ms on the screen. A hold ends by itself after HOLD_LIMIT, so a release that never comes
costs a producer that long once, not on every event.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from kwizard.engine.journal import read_events
from kwizard.protocol.phase import Event

# Backpressure: past this backlog a producing thread waits 1 ms per event. The UI applies tens of
# thousands of events a second, so a real run never waits; a flood is held to what the UI can show, and
# the backlog (every event and its payload alive at once, outliving the young collections and walked by
# each full one) stays small: 1000 events are about one tick's worth in a flood of bench/events.
BACKPRESSURE = 1000
BACKPRESSURE_WAIT = 0.001
# The longest one hold lasts.
HOLD_LIMIT = 0.25


class EventFeed:
    """A queue of events: `put` from any thread, `drain` from the UI thread."""

    def __init__(self) -> None:
        self._queue: deque[Event] = deque()
        self.closed = threading.Event()  # set when the source has nothing more to send
        self._open = threading.Event()  # cleared while the UI draws a frame
        self._open.set()
        self._hold_until = 0.0
        self._ui_thread: threading.Thread | None = None

    def put(self, event: Event) -> None:
        if not self._open.is_set() and threading.current_thread() is not self._ui_thread:
            left = self._hold_until - time.monotonic()
            if left > 0:
                self._open.wait(left)
        self._queue.append(event)  # deque.append is atomic: no lock needed
        if len(self._queue) > BACKPRESSURE and threading.current_thread() is not threading.main_thread():
            time.sleep(BACKPRESSURE_WAIT)

    def hold(self) -> None:
        """Producers on other threads wait in `put` until `release` (called by the UI thread), at most
        HOLD_LIMIT from now."""
        self._ui_thread = threading.current_thread()
        self._hold_until = time.monotonic() + HOLD_LIMIT
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def extend(self, events: Iterable[Event]) -> None:
        self._queue.extend(events)

    def clear(self) -> None:
        self._queue.clear()

    def close(self) -> None:
        self.closed.set()

    def drain(self, limit: int) -> list[Event]:
        """Up to `limit` of the oldest queued events."""
        taken: list[Event] = []
        queue = self._queue
        while queue and len(taken) < limit:
            taken.append(queue.popleft())
        return taken

    def __len__(self) -> int:
        return len(self._queue)


def replay_feed(events_file: Path) -> EventFeed:
    """A closed feed holding every event of a finished (or killed) run."""
    feed = EventFeed()
    feed.extend(read_events(events_file))
    feed.close()
    return feed
