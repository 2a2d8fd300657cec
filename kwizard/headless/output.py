"""The console a command prints its results on: the terminal's width, or unwrapped lines for a log or pipe."""

from __future__ import annotations

import os

from rich.console import Console

# A table in a log or pipe gets this width; text is not wrapped at all (soft wrap).
LOG_WIDTH = 160


def output_console(*, stderr: bool = False) -> Console:
    """A Console for output that may go to a CI log or `| less`: rich's 80-column fallback would split
    paths, URLs and messages mid-word there, so lines stay whole unless COLUMNS says otherwise."""
    console = Console(stderr=stderr, highlight=False)
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(stderr=stderr, highlight=False, width=LOG_WIDTH, soft_wrap=True)
