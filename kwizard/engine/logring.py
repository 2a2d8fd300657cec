"""The run's log as the dashboard keeps it: an immutable ring of the newest lines, cheap to append to
from the reducer (a state change copies at most one small chunk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

LOG_CHUNK = 64
LOG_CHUNKS = 32  # the ring keeps the last 1984..2048 lines


class LogLine(NamedTuple):  # a named tuple: built once per logged event, 3x cheaper than a dataclass
    time: float
    phase: str
    host: str | None
    level: str  # info, ok, changed, warning, error
    text: str


@dataclass(frozen=True, slots=True)
class LogRing:
    """An immutable ring of the newest log lines; appending copies at most one small chunk."""

    chunks: tuple[tuple[LogLine, ...], ...] = ()
    total: int = 0  # lines ever appended (a view shows the `total - shown` newest as new)

    def append(self, line: LogLine) -> LogRing:
        if self.chunks and len(self.chunks[-1]) < LOG_CHUNK:
            return LogRing((*self.chunks[:-1], (*self.chunks[-1], line)), self.total + 1)
        chunks = (*self.chunks, (line,))
        return LogRing(chunks[-LOG_CHUNKS:], self.total + 1)

    def extend(self, lines: list[LogLine]) -> LogRing:
        """The ring after appending each of `lines` in turn (the same chunks, built once)."""
        if not lines:
            return self
        chunks = list(self.chunks)
        last = list(chunks.pop()) if chunks and len(chunks[-1]) < LOG_CHUNK else []
        for line in lines:
            last.append(line)
            if len(last) == LOG_CHUNK:
                chunks.append(tuple(last))
                last = []
        if last:
            chunks.append(tuple(last))
        return LogRing(tuple(chunks[-LOG_CHUNKS:]), self.total + len(lines))

    def lines(self) -> list[LogLine]:
        return [line for chunk in self.chunks for line in chunk]

    def newest(self, count: int) -> list[LogLine]:
        """The last `count` lines (fewer if the ring holds fewer)."""
        if count <= 0:
            return []
        found: list[LogLine] = []
        for chunk in reversed(self.chunks):
            found[:0] = chunk[-(count - len(found)) :]
            if len(found) >= count:
                break
        return found

    def __len__(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)
