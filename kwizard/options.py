"""What the user asked of a run, besides the ClusterSpec: phase selection and headless switches."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kwizard.errors import InputError
from kwizard.phases import PHASES
from kwizard.spec import ClusterSpec


@dataclass(frozen=True)
class RunOptions:
    until: str | None = None
    only: str | None = None
    skip: frozenset[str] = field(default_factory=frozenset)  # phases left out of this run (--skip)
    json: bool = False
    ignore_preflight: frozenset[str] = field(default_factory=frozenset)
    accept_new_host_keys: bool = False
    kubespray_dir: str | None = None
    apply_fixes: bool = False  # with --resume --yes: apply the last run's known remedies first
    # A day-2 command's run (remove-node, reset): {"command": name, ...its arguments}. Empty for the
    # pipeline. Recorded with the run, so that `--resume` continues the same command with the same nodes.
    operation: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        if args.until and args.only:
            raise InputError(
                "Conflicting options",
                "--until and --only were both given",
                "Use --until PHASE to run up to a phase, or --only PHASE to run one phase.",
            )
        ignored = frozenset(p.strip() for p in (args.ignore_preflight or "").split(",") if p.strip())
        return cls(
            until=args.until,
            only=args.only,
            skip=skipped_phases(getattr(args, "skip", "") or "", only=args.only),
            json=bool(args.json),
            ignore_preflight=ignored,
            accept_new_host_keys=bool(args.accept_new_host_keys),
            kubespray_dir=args.kubespray_dir,
            apply_fixes=bool(getattr(args, "apply_fixes", False)),
        )

    def trusts_new_host_keys(self, spec: ClusterSpec) -> bool:
        """Unattended trust on first use (nobody to ask): --accept-new-host-keys, or
        ssh.accept_new_host_keys in the preset. A changed key is refused either way."""
        return self.accept_new_host_keys or spec.ssh.accept_new_host_keys

    def recorded(self) -> dict[str, Any]:
        """The options that shape what a run does, as its journal keeps them for `--resume`.

        Which Kubespray runs and which preflight failures may pass change the run's result; the rest
        is per invocation: output format, phase selection (a resume has its own), and trusting new host
        keys (a decision made for one command; the keys it trusted are already stored).
        """
        directory = str(Path(self.kubespray_dir).expanduser().resolve()) if self.kubespray_dir else None
        recorded: dict[str, Any] = {
            "kubespray_dir": directory,
            "ignore_preflight": sorted(self.ignore_preflight),
        }
        if self.operation:
            recorded["operation"] = dict(self.operation)
        return recorded

    def with_recorded(self, recorded: Mapping[str, Any]) -> tuple[RunOptions, list[str]]:
        """These options, completed by the ones recorded with a run where not given again; and a note
        naming each option taken from the record."""
        changes: dict[str, Any] = {}
        notes: list[str] = []
        directory = recorded.get("kubespray_dir")
        if not self.kubespray_dir and isinstance(directory, str) and directory:
            changes["kubespray_dir"] = directory
            notes.append(f"--kubespray-dir {directory}")
        ignored = recorded.get("ignore_preflight")
        if not self.ignore_preflight and isinstance(ignored, list) and ignored:
            changes["ignore_preflight"] = frozenset(str(check) for check in ignored)
            notes.append(f"--ignore-preflight {','.join(sorted(changes['ignore_preflight']))}")
        operation = recorded.get("operation")
        if not self.operation and isinstance(operation, Mapping) and operation.get("command"):
            changes["operation"] = dict(operation)  # what the run is: not an option one gives again
        return replace(self, **changes), notes

    def selected_phases(self, spec: ClusterSpec) -> list[str]:
        """The phases to run, in pipeline order: the spec's list cut by --until / --only / --skip."""
        if self.only:
            return [self.only]  # provision without a provision section is skipped by the phase itself
        # provision runs whenever the preset has a provision section: what exists is kept, so it is cheap,
        # and the hosts the other phases need come from it.
        phases: list[str] = [
            p for p in PHASES if (p in spec.phases if p != "provision" else spec.provision is not None)
        ]
        if self.until:
            phases = [p for p in phases if PHASES.index(p) <= PHASES.index(self.until)]
        return [p for p in phases if p not in self.skip]


def skipped_phases(text: str, *, only: str | None = None) -> frozenset[str]:
    """The phases of `--skip a,b`, each checked against the pipeline's."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if names and only:
        raise InputError(
            "Conflicting options",
            "--skip and --only were both given",
            "Use --only PHASE to run one phase, or --skip PHASE,... to leave phases out of a run.",
        )
    unknown = [name for name in names if name not in PHASES]
    if unknown:
        raise InputError(
            "Unknown phase",
            f"--skip names {', '.join(repr(n) for n in unknown)}, which is not a phase",
            f"Name phases among: {', '.join(PHASES)} (comma-separated, e.g. --skip access,preflight).",
        )
    return frozenset(names)
