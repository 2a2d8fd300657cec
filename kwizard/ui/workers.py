"""Workers that never end the app: an exception escaping one becomes the error modal.

Every screen that runs work on a worker (the wizard's steps, a day-2 run) mixes `GuardedWorkers` in
before `Screen`: its `@work` methods come through `run_worker`, which starts them with
`exit_on_error=False`, and a worker that raised is handed to `worker_failed` (the screen undoes what it
set up for it) and then shown as the error modal: a disk problem in plain words, anything else as an
internal error naming its crash file. Never Textual's traceback, and the answers stay where they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen
from textual.worker import Worker, WorkerState, WorkType

if TYPE_CHECKING:
    from kwizard.ui.app import WizardApp

Result = TypeVar("Result")
ScreenResult = TypeVar("ScreenResult")


class GuardedWorkers(Screen[ScreenResult]):
    """A screen whose workers end in the error modal, not in a traceback."""

    def run_worker(
        self,
        work: WorkType[Result],
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[Result]:
        return super().run_worker(
            work,
            name,
            group,
            description,
            exit_on_error=False,
            start=start,
            exclusive=exclusive,
            thread=thread,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        self.worker_failed(event.worker)
        cast("WizardApp", self.app).show_unexpected(event.worker.error)

    def worker_failed(self, worker: Worker[object]) -> None:
        """Undo what the screen set up for `worker` (busy flags, disabled buttons); it raised."""
