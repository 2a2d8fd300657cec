"""Results of checks made outside a run (the Access step's hosts, the Preflight report), kept while the
wizard runs: going Back and Next again shows them instead of probing every host again. Each result is
kept with the fingerprint of the spec parts its phase depends on; a change of those parts (a host
added, another SSH user) makes it stale, and the step checks again."""

from __future__ import annotations

from typing import Any

from kwizard.engine.fingerprint import PHASE_INPUTS, fingerprint
from kwizard.spec import ClusterSpec


class CheckResults:
    def __init__(self) -> None:
        self._kept: dict[str, tuple[dict[str, str], Any]] = {}

    def keep(self, phase: str, spec: ClusterSpec, result: Any) -> None:
        """Remember `result` of `phase`'s checks on `spec`."""
        self._kept[phase] = (fingerprint(spec, PHASE_INPUTS[phase]), result)

    def get(self, phase: str, spec: ClusterSpec) -> Any | None:
        """The kept result of `phase`, if `spec` has not changed in what that phase depends on."""
        kept = self._kept.get(phase)
        if kept is None or kept[0] != fingerprint(spec, PHASE_INPUTS[phase]):
            return None
        return kept[1]

    def forget(self, phase: str) -> None:
        self._kept.pop(phase, None)
