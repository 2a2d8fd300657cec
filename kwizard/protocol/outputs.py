"""What phases hand to later phases, typed: each phase that others read writes its output through one of
these frozen dataclasses, and readers get it back with `Output.of(results)` instead of indexing dicts.

`PhaseContext.results` and the journal keep plain JSON (a resumed run reads the journal of an earlier
kwizard); `to_data()` and `of()` convert, and `of()` returns None when the phase has not run or its
data is not of this shape, so a reader decides what a missing output means.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Output:
    PHASE: ClassVar[str] = ""

    def to_data(self) -> dict[str, Any]:
        """JSON-able, as PhaseResult.data."""
        return dataclasses.asdict(self)

    @classmethod
    def of(cls, results: Mapping[str, Any]) -> Self | None:
        """This phase's output in `results` (PhaseContext.results or the journal's), or None."""
        data = results.get(cls.PHASE)
        if not isinstance(data, Mapping):
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError:  # an earlier kwizard's data without a field this one needs
            return None


@dataclass(frozen=True)
class AccessOutput(Output):
    PHASE: ClassVar[str] = "access"

    key: str  # the private key every host now accepts (Ansible logs in with it)
    public_key: str
    fingerprint: str
    generated: bool  # kwizard made the key pair in this run
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # host → its access row


@dataclass(frozen=True)
class PreflightOutput(Output):
    PHASE: ClassVar[str] = "preflight"

    # host → the Python the inventory names as ansible_python_interpreter
    python_interpreters: dict[str, str] = field(default_factory=dict)
    # host → measured facts (memory_mb, cpus, python3, swap_mb…): the evidence diagnostics weighs
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocking: list[str] = field(default_factory=list)  # CHECK@HOST keys of failures that stop a run
    acknowledged: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)  # the whole PreflightReport as JSON

    def interpreter(self, host: str) -> str | None:
        value = self.python_interpreters.get(host)
        return value if isinstance(value, str) and value.startswith("/") else None
