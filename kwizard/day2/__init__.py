"""Day-2 commands on a built cluster (remove-node, reset): runs of the same engine with their own phases.

`removal` decides what may be removed, `reach` finds nodes that cannot be reached, `phases` holds the phase
lists; the commands in `kwizard.commands` ask and confirm, then hand the run to the headless engine.
"""

from __future__ import annotations

from kwizard.day2.phases import ADD_NODE, REMOVE_NODE, RESET, phase_table, reset_marker

__all__ = ["ADD_NODE", "REMOVE_NODE", "RESET", "phase_table", "reset_marker"]
