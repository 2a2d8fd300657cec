"""The key bindings footer, rebuilt only when the bindings it shows change.

Textual's Footer recomposes (every FooterKey unmounted, mounted and styled again) each time the screen
says its bindings were updated, which a focus change, a screen change or a disabled button does several
times in a row at start-up. On the run dashboard those came as three rebuilds within one frame as the
first events arrived (~75 ms of CPU that the event flood then waited for: bench/events' worst frame gap
at flood start). Here the requests of one refresh make one rebuild, and none when the shown bindings
are the same.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's Footer that recomposes once per refresh at most, and only for other bindings."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[Any, ...] | None = None  # what the last compose showed
        self._pending = False

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if self._pending or not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        self._pending = True
        self.call_after_refresh(self._recompose_if_changed)

    def shown_bindings(self) -> tuple[Any, ...]:
        """What compose() would show: each shown binding's key, action, text and state."""
        rows = tuple(
            (binding.key, binding.action, binding.description, binding.group, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )
        return (self.show_command_palette, *rows)

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        shown = self.shown_bindings()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()
