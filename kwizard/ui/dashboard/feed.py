"""Where the dashboard's events come from: a thread-safe feed filled by any thread, drained by the UI.

The engine (or a replay) calls `feed.put(event)` from its own threads; the dashboard drains the feed on a
timer and applies every queued event to its RunState in one go, so a flood of Ansible events costs one
repaint per tick instead of one per event.
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


class EventFeed:
    """A queue of events: `put` from any thread, `drain` from the UI thread."""

    def __init__(self) -> None:
        self._queue: deque[Event] = deque()
        self.closed = threading.Event()  # set when the source has nothing more to send

    def put(self, event: Event) -> None:
        self._queue.append(event)  # deque.append is atomic: no lock needed
        if len(self._queue) > BACKPRESSURE and threading.current_thread() is not threading.main_thread():
            time.sleep(BACKPRESSURE_WAIT)

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
