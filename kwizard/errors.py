"""One error family for everything a user can cause or fix.

Each error carries a short title, the problem (what happened, with the file/key/host it concerns) and the
fix (what to do next). The CLI prints it as a rich panel, the TUI as a modal; neither shows a traceback.
"""

from __future__ import annotations

# Exit codes shared by the CLI and headless mode (documented in README.md).
EXIT_OK = 0
EXIT_PHASE_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_PREFLIGHT_FAILED = 3
EXIT_INTERRUPTED = 130


class KwizardError(Exception):
    """A failure the user can act on."""

    exit_code = EXIT_PHASE_FAILED

    def __init__(self, title: str, problem: str, fix: str = "", *, exit_code: int | None = None):
        super().__init__(f"{title}: {problem}")
        self.title = title
        self.problem = problem
        self.fix = fix
        if exit_code is not None:
            self.exit_code = exit_code

    def render_text(self) -> str:
        """Plain-text form for logs, JSON output and terminals without rich."""
        text = f"{self.title}\n{self.problem}"
        if self.fix:
            text += f"\nFix: {self.fix}"
        return text


class InputError(KwizardError):
    """Bad input from the user: a preset, an argument, a typed value."""

    exit_code = EXIT_BAD_INPUT


class PresetError(InputError):
    """A preset file that cannot be read, parsed or validated."""


class EnvironmentProblem(KwizardError):
    """The machine kwizard runs on lacks something (root, a tool, a terminal)."""

    exit_code = EXIT_BAD_INPUT


class RemoteError(KwizardError):
    """A host did something unexpected (refused, timed out, returned garbage)."""


def storage_error(exc: OSError) -> KwizardError | None:
    """A full, read-only or forbidden disk as an error the user can act on (None for other OSErrors)."""
    import errno
    import os

    path = str(exc.filename or os.environ.get("KWIZARD_WORKDIR") or "kwizard's data folder")
    folder = path if os.path.isdir(path) else os.path.dirname(path) or path
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return EnvironmentProblem(
            "Disk full",
            f"kwizard could not write {path}: no space left on the device. Nothing was half-written: "
            "files are replaced only once they are complete.",
            f"Free some space on the disk holding {folder} (`df -h {folder}` shows it), or point "
            "--workdir at another disk; then run the same command again (or `kwizard --resume`).",
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return EnvironmentProblem(
            "Cannot write kwizard's files",
            f"kwizard could not write {path}: {exc.strerror}.",
            "Run kwizard as a user who may write there, or choose another folder with --workdir.",
        )
    return None
