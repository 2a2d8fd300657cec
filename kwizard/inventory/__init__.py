"""The inventory phase: write Kubespray's inventory for the spec and prove it valid before anything runs.

Kubespray has had no inventory builder since v2.27; kwizard writes `hosts.yaml` (YAML: Kubespray's
ansible.cfg ignores `.ini` files in an inventory folder) and two group_vars files, checks the spec the way
Kubespray's asserts would, and has the real `ansible-inventory` parse the result.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kwizard.errors import KwizardError
from kwizard.inventory.ansible_check import ParsedInventory, compare, parse
from kwizard.inventory.checks import Problem, check_spec, raise_for_problems
from kwizard.inventory.files import FileChange, plan, write
from kwizard.inventory.render import GENERATED_FILES, HOSTS_FILE, render

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext, PhaseResult

__all__ = [
    "GENERATED_FILES",
    "HOSTS_FILE",
    "FileChange",
    "InventoryOutcome",
    "Problem",
    "build",
    "check_spec",
    "plan",
    "render",
    "run_phase",
]


@dataclass(frozen=True)
class InventoryOutcome:
    hosts_file: Path
    changes: list[FileChange]
    problems: list[Problem]  # warnings only: errors raise
    parsed: ParsedInventory


def build(ctx: PhaseContext, phase: str = "inventory") -> InventoryOutcome:
    """Validate the spec, write the inventory (only changed files) and parse it with ansible-inventory.

    The files are parsed in a scratch copy first, so a failure leaves the previous inventory untouched.
    """
    from kwizard.kubespray import checkout as checkouts
    from kwizard.kubespray.venv import venv_dir
    from kwizard.protocol.events import EventKind
    from kwizard.protocol.phase import Event

    spec, ws = ctx.spec, ctx.ws
    found = checkouts.find(spec, ws, ctx.options)
    problems = check_spec(spec, found.path if found else None)
    raise_for_problems(problems)  # errors: one InputError naming every field to fix
    for problem in problems:  # warnings: findings for the dashboard and the report
        data = {"id": f"inventory:{problem.field}", "title": problem.message, "fix": problem.fix}
        ctx.emit(Event(EventKind.FINDING, phase, data={**data, "source": "inventory", **asdict(problem)}))

    bin_dir = None
    if found is not None:
        candidate = venv_dir(ws, found.path, found.version, found.user_supplied) / "bin"
        bin_dir = candidate if (candidate / "ansible-inventory").is_file() else None
    changes = plan(spec, ws, ctx.results)
    ws.create()
    _remove_stale_scratch(ws.cluster_dir)
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=ws.cluster_dir) as scratch:
        scratch_dir = Path(scratch)
        write(
            [FileChange(c.relative, scratch_dir / c.relative, c.new_text, None) for c in changes], scratch_dir
        )
        parsed = parse(
            scratch_dir / HOSTS_FILE, bin_dir=bin_dir, ansible_cfg=found.ansible_cfg if found else None
        )
    differences = compare(spec, parsed)
    if differences:
        raise KwizardError(
            "Ansible reads the inventory differently",
            "ansible-inventory parsed the generated inventory, but:\n" + "\n".join(differences),
            "This is a bug in kwizard's inventory writer; please report it with the preset attached.",
        )
    written = write(changes, ws.inventory_dir)
    ctx.log(
        phase,
        f"inventory {ws.inventory_dir / HOSTS_FILE}: {len(written)} of {len(changes)} files written, "
        f"parsed by {parsed.binary} in {parsed.seconds:.2f} s",
    )
    warnings = [p for p in problems if p.severity == "warning"]
    return InventoryOutcome(ws.inventory_dir / HOSTS_FILE, changes, warnings, parsed)


SCRATCH_PREFIX = ".inventory-check-"


def _remove_stale_scratch(cluster_dir: Path) -> None:
    """Scratch folders of a kwizard that was killed while checking (its pid is in the name) go away."""
    for leftover in cluster_dir.glob(f"{SCRATCH_PREFIX}*"):
        owner = leftover.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and _running(int(owner)):
            continue  # another live kwizard (the lock normally prevents it)
        shutil.rmtree(leftover, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_phase(ctx: PhaseContext) -> PhaseResult:
    """Phase `inventory`: write and validate; nothing runs on the hosts."""
    from kwizard.protocol.phase import PhaseResult

    outcome = build(ctx)
    statuses = {c.relative: c.status for c in outcome.changes}
    changed = sum(status != "unchanged" for status in statuses.values())
    summary = (
        f"{len(ctx.spec.hosts)} hosts → {outcome.hosts_file}; "
        + (f"{changed} file(s) written" if changed else "already up to date")
        + (f", {len(outcome.problems)} warning(s)" if outcome.problems else "")
    )
    return PhaseResult(
        "ok",
        summary,
        data={
            "inventory": str(outcome.hosts_file),
            "files": statuses,
            "warnings": [p.text() for p in outcome.problems],
            "ansible_inventory": str(outcome.parsed.binary),
            "parse_seconds": round(outcome.parsed.seconds, 3),
        },
    )
