"""Any exception as a KwizardError the user can act on: one mapping for the CLI and the wizard.

A full, read-only or forbidden disk gets its own advice; anything else is a bug: its traceback is saved
to a crash file and the error names that file. Neither front end shows a bare traceback.
"""

from __future__ import annotations

import tempfile
import traceback
from pathlib import Path

from kwizard.errors import KwizardError, storage_error


def save_crash(exc: BaseException, root: Path | None = None) -> Path | None:
    """Write the traceback to `root`/crash.log (default: kwizard's data folder); None if it cannot."""
    from kwizard.fsutil import atomic_write

    text = "".join(traceback.format_exception(exc))
    try:
        from kwizard.paths import default_root

        crash_file = (root or default_root()) / "crash.log"
        crash_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except Exception:
        crash_file = Path(tempfile.gettempdir()) / "kwizard-crash.log"
    try:
        atomic_write(crash_file, text)
    except OSError:  # the disk may be full: the error still tells what happened
        return None
    return crash_file


def internal_error(exc: BaseException, root: Path | None = None) -> KwizardError:
    """An unexpected exception (a bug): saved to a crash file, which the error names."""
    crash_file = save_crash(exc, root)
    where = str(crash_file) if crash_file else "(not saved: the crash file could not be written)"
    return KwizardError(
        "kwizard hit an internal error",
        f"{type(exc).__name__}: {exc}",
        f"This is a bug. The details are in {where}; please attach that file to a report. "
        "Your saved answers and the run journal are untouched.",
    )


def user_error(exc: BaseException, root: Path | None = None) -> KwizardError:
    """`exc` as what the user sees: itself, a disk problem, or an internal error with a crash file."""
    if isinstance(exc, KwizardError):
        return exc
    if isinstance(exc, OSError):
        storage = storage_error(exc)
        if storage is not None:
            return storage
    return internal_error(exc, root)
