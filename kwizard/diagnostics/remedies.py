"""Automatic remedies: `remedy_for(finding)` → what to change before retrying, as data the engine runs.

The dashboard's "apply fix and retry" calls this; the engine applies the action (an inventory variable
for the failed hosts, an extra var, a playbook to run first, a fixed command on the hosts with become,
or a secret to ask the user for) and re-runs the phase. Commands are fixed strings in `remedies.yaml`,
never built from log text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kwizard.diagnostics.loader import RuleSet, load_ruleset
from kwizard.diagnostics.model import Remedy, RemedyAction
from kwizard.diagnostics.ranking import Finding


@dataclass(frozen=True)
class RemedyPlan:
    """A remedy chosen for a finding, with the hosts it applies to."""

    remedy: Remedy
    finding_id: str
    hosts: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.remedy.id

    @property
    def action(self) -> RemedyAction:
        return self.remedy.action

    def inventory_vars(self) -> dict[str, dict[str, Any]]:
        """Host variables to add to the inventory ({host: {var: value}}), for inventory_var remedies."""
        action = self.action
        if action.kind != "inventory_var" or not action.name:
            return {}
        return {host: {action.name: action.value} for host in self.hosts}

    def extra_vars(self) -> dict[str, Any]:
        """Extra vars to pass to the re-run, for extra_var remedies."""
        action = self.action
        return {action.name: action.value} if action.kind == "extra_var" and action.name else {}

    def describe(self) -> str:
        """One sentence for the dashboard's button tooltip and the CLI."""
        action = self.action
        where = f" on {', '.join(self.hosts)}" if self.hosts and self.remedy.scope == "host" else ""
        if action.kind == "inventory_var":
            return f"Set {action.name}={action.value}{where}, then retry."
        if action.kind == "extra_var":
            return f"Re-run with -e {action.name}={action.value}."
        if action.kind == "run_playbook_first":
            return f"Run {action.name} first (without --limit), then retry."
        if action.kind == "prompt_secret":
            secret = action.name.replace("_", " ") if action.name else "secret"
            return f"Ask for the {secret} (kept in memory only), then retry."
        if action.script:  # a whole script: its title says what it does
            return f"{self.remedy.title}{where} (as root), then retry."
        return f"Run `{action.command}`{where} (as root), then retry."


def remedy_for(finding: Finding, ruleset: RuleSet | None = None) -> RemedyPlan | None:
    """The automatic remedy for `finding`, or None when it has to be fixed by hand."""
    if not finding.remedy:
        return None
    remedies = (ruleset or load_ruleset()).remedies
    remedy = remedies.get(finding.remedy)
    if remedy is None:
        return None
    hosts = finding.hosts if remedy.scope == "host" else ()
    return RemedyPlan(remedy, finding.id, hosts)
