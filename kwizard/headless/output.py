"""The console a command prints its results on: the terminal's width, or unwrapped lines for a log or pipe.

Its stream goes quiet when the reader goes away: `kwizard … --yes | tee run.log` ended with Ctrl-C stops
tee too, and the run must still cancel cleanly and record itself as interrupted instead of dying on a
broken pipe at its next line.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console

# A table in a log or pipe gets this width; text is not wrapped at all (soft wrap).
LOG_WIDTH = 160


class QuietWhenClosed:
    """A text stream that turns into /dev/null once its reader has gone (EPIPE)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed_by_reader = False

    def _reader_gone(self) -> None:
        self.closed_by_reader = True
        # Point the descriptor at /dev/null too: the interpreter's own flush at exit must not fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return self.stream.encoding


def output_console(*, stderr: bool = False) -> Console:
    """A Console for output that may go to a CI log or `| less`: rich's 80-column fallback would split
    paths, URLs and messages mid-word there, so lines stay whole unless COLUMNS says otherwise."""
    stream = QuietWhenClosed(sys.stderr if stderr else sys.stdout)
    console = Console(file=stream, highlight=False)  # type: ignore[arg-type]
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(file=stream, highlight=False, width=LOG_WIDTH, soft_wrap=True)  # type: ignore[arg-type]
