"""How a run ended: its outcome, its exit code, and a phase's unexpected exception as an error the user
can act on (a full disk, or a bug whose traceback is saved in the run's folder)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kwizard.engine.journal import JournalError
from kwizard.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PHASE_FAILED,
    EXIT_PREFLIGHT_FAILED,
    KwizardError,
    storage_error,
)
from kwizard.fsutil import atomic_write

if TYPE_CHECKING:
    from kwizard.engine.journal import RunRecord
    from kwizard.engine.state import RunState


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    directory: Path
    status: str  # ok, failed, interrupted
    exit_code: int
    state: RunState
    record: RunRecord
    error: KwizardError | None = None
    failed_phase: str | None = None


def phase_crash(name: str, exc: BaseException, directory: Path) -> KwizardError:
    """A phase raised something unexpected (a bug): its traceback saved in the run's folder."""
    crash = directory / f"crash-{name}.txt"
    try:
        atomic_write(crash, "".join(traceback.format_exception(exc)))
        where = f"the traceback is in {crash}"
    except OSError:
        where = "the traceback could not be saved (is the disk full?)"
    return KwizardError(
        "kwizard hit an internal error",
        f"The {name} phase raised {type(exc).__name__}: {exc}",
        f"This is a bug; {where}. The journal is intact: fix or work around it and continue with "
        "`kwizard --resume`.",
    )


def phase_os_error(name: str, exc: OSError, directory: Path) -> KwizardError:
    """A file-system failure during a phase: a full or read-only disk is the user's to fix (the same
    advice as everywhere else in kwizard), anything else a bug."""
    return storage_error(exc) or phase_crash(name, exc, directory)


def exit_code_for(
    status: str, failed_phase: str | None, phase_status: str, error: KwizardError | None
) -> int:
    """The process exit code of a run that ended with `status` (0, 1, 2, 3 or 130; see kwizard.errors)."""
    if status == "ok":
        return EXIT_OK
    if status == "interrupted":
        return EXIT_INTERRUPTED
    if error is not None and not isinstance(error, JournalError):
        return error.exit_code
    if failed_phase == "preflight" and phase_status == "failed":
        return EXIT_PREFLIGHT_FAILED
    return EXIT_PHASE_FAILED
