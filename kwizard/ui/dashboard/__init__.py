"""The run dashboard (Textual): panes over a RunState fed by an injected EventFeed (live or replay)."""

from __future__ import annotations

from kwizard.ui.dashboard.feed import EventFeed, replay_feed
from kwizard.ui.dashboard.view import Dashboard

__all__ = ["Dashboard", "EventFeed", "replay_feed"]
