"""Fast scan of a text log for failure records, without reading it line by line in Python.

The log is read in 16 MB chunks. Only lines containing an anchor are decoded: the four literals that
open an Ansible result plus the literal of every free-text rule (see `Prefilter`). A result block is
parsed from its first line on (JSON or YAML, possibly many lines, possibly running past the chunk, in
which case the chunk boundary moves back to the block's start). Other hit lines become free-text
records unless they are ok/changed/skipping noise. Each record keeps the lines around it, which rules
consult for `also` patterns (a "Permission denied" next to a glusterfs mount).
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from kwizard.diagnostics.loader import RuleSet
from kwizard.diagnostics.prefilter import Prefilter, find_all
from kwizard.diagnostics.records import FailureRecord
from kwizard.diagnostics.textlog import (
    Block,
    is_noise,
    is_result_start,
    parse_block,
    recap_line,
    success_opener,
    task_name,
    text_evidence,
)

CHUNK = 16 * 1024 * 1024
# Text logs hold no NUL byte. One means binary data (a core dump, an image, /dev/zero, a sparse file's
# hole): scanning stops there instead of reading gigabytes of it.
NUL = b"\0"
MAX_BLOCK_BYTES = 4 * 1024 * 1024  # a result block larger than this is parsed as far as it goes
# Failure records read at most: real runs fail on a few hundred (hosts × tasks); past this the findings
# would not change, only the time and memory (30k unreachable hosts took 19 s and climbing).
MAX_RECORDS = 10_000
FIRST_WINDOW_LINES = 8  # most blocks are one line: decode a few lines first, more only when needed
NEARBY_LINES = 20  # lines kept before and after a record for `also` patterns
NEARBY_BYTES = 4096
SAMPLE_BYTES = 256 * 1024  # the log's start, from which the prefilter learns which bytes are rare
HEADER_WINDOW = 256 * 1024  # how far back a task header is looked for before indexing the whole chunk
BLOCK_ANCHORS: tuple[bytes, ...] = (
    b"FAILED!",
    b"UNREACHABLE!",
    b"failed: [",
    b"fatal: [",
    b"| FAILED >>",  # Ansible 1.x ad-hoc results
    b"PLAY RECAP",  # how each host really ended (the host lines follow)
)
HEADER_ANCHORS: tuple[bytes, ...] = (b"TASK [", b"RUNNING HANDLER [", b"TASK: [", b"FAILED - RETRYING: ")


@dataclass
class ScanResult:
    records: list[FailureRecord] = field(default_factory=list)
    bytes_scanned: int = 0
    binary_at: int | None = None  # offset where binary data stopped the scan
    cut_at: int | None = None  # offset where MAX_RECORDS stopped the scan
    # PLAY RECAP: host → (offset of its last recap line, whether it ended with no failure left)
    recap: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def settled(self) -> list[FailureRecord]:
        """The records the run's own structure does not contradict.

        A host whose last PLAY RECAP says failed=0 unreachable=0 recovered from every failure printed
        before it (a rescue, an ignored error the log does not mark); when every host ended so, the run
        succeeded and free text before the recap (a debug task printing an error-looking log) is no failure.
        """
        if not self.recap:
            return self.records
        all_well = all(well for _, well in self.recap.values())
        last = max(offset for offset, _ in self.recap.values())
        kept = []
        for record in self.records:
            recap = self.recap.get(record.host or "")
            if recap and recap[1] and record.order < recap[0]:
                continue
            if all_well and record.kind == "text" and record.order < last:
                continue
            kept.append(record)
        return kept


def scan_anchors(ruleset: RuleSet) -> tuple[bytes, ...]:
    """Every literal the scanner looks for: result openers plus the free-text rules' anchors."""
    return tuple(sorted(set(BLOCK_ANCHORS) | ruleset.text_anchors))


def _line_start(buf: bytes, pos: int) -> int:
    return buf.rfind(b"\n", 0, pos) + 1


def _line_end(buf: bytes, start: int, end: int) -> int:
    pos = buf.find(b"\n", start, end)
    return end if pos < 0 else pos


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").rstrip("\r")


def _nearby(buf: bytes, start: int, stop: int, end: int) -> str:
    """The lines around buf[start:stop], at most NEARBY_LINES on each side."""
    before = max(0, start - NEARBY_BYTES)
    head = buf[before:start].split(b"\n")[-NEARBY_LINES - 1 :]
    tail = buf[stop : min(end, stop + NEARBY_BYTES)].split(b"\n")[: NEARBY_LINES + 1]
    return _decode(b"\n".join(head)) + "\n" + _decode(b"\n".join(tail))


class _Chunk:
    """One buffer being scanned, with lazily found task headers."""

    def __init__(self, buf: bytes, end: int, base: int, carried_task: str | None) -> None:
        self.buf = buf
        self.end = end
        self.base = base
        self.carried_task = carried_task
        self._headers: list[int] | None = None
        self.success_memo: dict[int, bool] = {}  # line start → inside a successful result's output

    def task_before(self, pos: int) -> str | None:
        """The name of the last task header before `pos` (or the one carried from the previous chunk)."""
        start = self._nearby_header(pos)
        while start is not None and start >= 0:
            name = task_name(_decode(self.buf[start : _line_end(self.buf, start, self.end)]))
            if name:
                return name
            start = self._nearby_header(start) if start > 0 else None
        if start is None:  # no header close by: look it up in the whole chunk's index
            return self._indexed_task_before(pos)
        return self.carried_task

    def _nearby_header(self, pos: int) -> int | None:
        """Start of the header line before `pos`: -1 when there is none, None when not found close by.

        Headers are usually a few lines above a record, so a backward search in a small window costs far
        less than indexing every header of a 16 MB chunk (a clean run holds hundreds of thousands).
        """
        if self._headers is not None:
            return None
        window = NEARBY_BYTES
        while True:
            low = max(0, pos - window)
            best = max(self.buf.rfind(anchor, low, pos) for anchor in HEADER_ANCHORS)
            if best >= 0:
                return _line_start(self.buf, best)
            if low == 0:
                return -1
            if window >= HEADER_WINDOW:
                return None
            window *= 8

    def _indexed_task_before(self, pos: int) -> str | None:
        if self._headers is None:
            hits = find_all(self.buf, self.end, HEADER_ANCHORS)
            self._headers = sorted({_line_start(self.buf, p) for p in hits})
        index = bisect.bisect_right(self._headers, pos) - 1
        while index >= 0:
            start = self._headers[index]
            name = task_name(_decode(self.buf[start : _line_end(self.buf, start, self.end)]))
            if name:
                return name
            index -= 1
        return self.carried_task


def _parse_block_at(chunk: _Chunk, start: int) -> Block | None:
    """Parse the block at `start`, decoding a few lines first and more only when it runs on."""
    buf, end = chunk.buf, chunk.end
    count = FIRST_WINDOW_LINES
    while True:
        stop = min(_advance_lines(buf, start, count, end), start + MAX_BLOCK_BYTES)
        lines = [_decode(raw) for raw in buf[start:stop].split(b"\n")]
        block = parse_block(lines, 0, chunk.task_before(start), chunk.base + start)
        # Near the end of the window the block (or its `...ignoring`/MSG: tail) may go on: read more.
        if block is None or block.end < len(lines) - 4 or stop >= end or stop - start >= MAX_BLOCK_BYTES:
            return block
        count *= 16


def _ignored_one_liner(buf: bytes, line: str, line_end: int, end: int) -> int | None:
    """The end of `...ignoring` when a one-line result is followed by it, else None."""
    if not line.rstrip().endswith("}"):
        return None
    next_end = _line_end(buf, line_end + 1, end)
    if buf[line_end + 1 : next_end].strip() == b"...ignoring":
        return min(next_end + 1, end)
    return None


SUCCESS_LOOKBACK_LINES = 400  # how far up a line is traced to the result it belongs to


def _inside_success(chunk: _Chunk, start: int) -> bool:
    """True when the line at `start` is part of a result that succeeded (a debug task's output …).

    Lines walked over on the way up share the verdict, so a flood of hit lines (a pasted journal) is
    traced once, not once per line.
    """
    buf, memo = chunk.buf, chunk.success_memo
    walked: list[int] = []
    pos = start
    verdict = False
    for _ in range(SUCCESS_LOOKBACK_LINES):
        if pos in memo:
            verdict = memo[pos]
            break
        walked.append(pos)
        if pos <= 0:
            break
        line_start = _line_start(buf, pos - 1)
        found = success_opener(_decode(buf[line_start : pos - 1]))
        if found is not None:
            verdict = found
            break
        pos = line_start
    for line in walked:
        memo[line] = verdict
    return verdict


def _read_recap(chunk: _Chunk, header_end: int, out: ScanResult) -> int:
    """Record the host lines after a PLAY RECAP header; returns the offset after the last one."""
    buf, end = chunk.buf, chunk.end
    pos = min(header_end + 1, end)
    while pos < end:
        line_end = _line_end(buf, pos, end)
        recap = recap_line(_decode(buf[pos:line_end]))
        if recap is None:
            return pos
        out.recap[recap[0]] = (chunk.base + pos, recap[1])
        pos = min(line_end + 1, end)
    return end


def _advance_lines(buf: bytes, start: int, count: int, end: int) -> int:
    pos = start
    for _ in range(count):
        nxt = buf.find(b"\n", pos, end)
        if nxt < 0:
            return end
        pos = nxt + 1
    return pos


def _scan_chunk(chunk: _Chunk, prefilter: Prefilter, eof: bool, out: ScanResult) -> int:
    """Scan `chunk`; returns the offset up to which it was consumed (the rest is carried over)."""
    buf, end = chunk.buf, chunk.end
    starts = sorted({_line_start(buf, p) for p in prefilter.hits(buf, end)})
    consumed = 0
    for start in starts:
        if start < consumed:
            continue
        if len(out.records) >= MAX_RECORDS:
            out.cut_at = chunk.base + start
            return end
        line_end = _line_end(buf, start, end)
        line = _decode(buf[start:line_end])
        if b"PLAY RECAP" in buf[start:line_end]:
            recap_end = _read_recap(chunk, line_end, out)
            if recap_end >= end and not eof and start > 0:
                return start  # the recap continues in the next chunk: read it from its start
            consumed = recap_end
            continue
        if is_noise(line) or not line.strip():
            continue
        if is_result_start(line):
            ignored_end = _ignored_one_liner(buf, line, line_end, end)
            if ignored_end is not None:
                consumed = ignored_end  # Kubespray ignores many failures on purpose: skip them cheaply
                continue
            block = _parse_block_at(chunk, start)
            if block is None:
                continue
            block_end = _advance_lines(buf, start, block.end, end)
            if block_end >= end and not eof and end - start < MAX_BLOCK_BYTES and start > 0:
                return start  # the block continues in the next chunk: rescan it from its start
            consumed = block_end
            if not block.ignored:
                out.records.append(replace(block.record, nearby=_nearby(buf, start, block_end, end)))
            continue
        if _inside_success(chunk, start):
            continue  # error-looking text printed by a task that succeeded
        # A message a terminal paste broke over two lines reads on into the next one.
        next_end = _line_end(buf, min(line_end + 1, end), end)
        follow = _decode(buf[line_end + 1 : next_end]).strip() if line_end < end else ""
        text = f"{line}\n{follow}" if follow and not is_noise(follow) else line
        out.records.append(
            FailureRecord(
                "text",
                task=chunk.task_before(start),
                fields={"text": text},
                evidence=text_evidence(line),
                order=chunk.base + start,
                nearby=_nearby(buf, start, line_end, end),
            )
        )
    return end


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while True:
        data = stream.read(CHUNK)
        if not data:
            return
        yield data


def scan_stream(stream: BinaryIO, ruleset: RuleSet) -> ScanResult:
    """Scan a binary stream (file, stdin) for failure records."""
    out = ScanResult()
    prefilter: Prefilter | None = None
    carry = b""
    base = 0  # offset of `carry` in the whole input
    task: str | None = None
    pending = _chunks(stream)
    while True:
        data = next(pending, None)
        binary = -1 if data is None else data.find(NUL)
        if data is not None and binary >= 0:
            out.binary_at = base + len(carry) + binary
            data = data[:binary] or None  # what came before is scanned as if it were all there is
        eof = data is None or binary >= 0
        buf = carry + (data or b"")
        if not buf:
            break
        out.bytes_scanned += len(data or b"")
        if prefilter is None:
            prefilter = Prefilter(scan_anchors(ruleset), sample=buf[:SAMPLE_BYTES])
        end = len(buf) if eof else buf.rfind(b"\n") + 1
        if end == 0:  # no newline at all in a huge chunk: take all of it
            end = len(buf)
        chunk = _Chunk(buf, end, base, task)
        consumed = _scan_chunk(chunk, prefilter, eof, out)
        if eof or out.cut_at is not None:
            break
        task = chunk.task_before(consumed)
        carry = buf[consumed:]
        base += consumed
    return out


def scan_bytes(data: bytes, ruleset: RuleSet) -> ScanResult:
    """Scan an in-memory log."""
    return scan_stream(io.BytesIO(data), ruleset)
