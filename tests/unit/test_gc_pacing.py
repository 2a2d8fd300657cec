"""Full collections paced by the dashboard: the collector's own trigger raised while paced, restored after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kwizard.ui import gc_pacing


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[tuple[int, ...]]:
    before = gc.get_threshold()
    yield before
    while gc_pacing._users:
        gc_pacing.unpace()
    gc.set_threshold(*before)


def test_pacing_raises_the_full_trigger_only_and_the_last_user_restores_it(
    thresholds: tuple[int, ...],
) -> None:
    young, middle, full = thresholds
    gc_pacing.pace()
    gc_pacing.pace()  # a second dashboard (the day-2 screen over the deploy step)
    assert gc.get_threshold() == (young, middle, gc_pacing.BACKSTOP) and full < gc_pacing.BACKSTOP
    gc_pacing.unpace()
    assert gc.get_threshold()[2] == gc_pacing.BACKSTOP  # one user left
    gc_pacing.unpace()
    assert gc.get_threshold() == thresholds
    gc_pacing.unpace()  # one too many changes nothing
    assert gc.get_threshold() == thresholds


def test_a_full_collection_is_due_after_as_many_middle_collections_as_python_counts() -> None:
    assert not gc_pacing.due()  # not paced: Python's own trigger does the work
    gc_pacing.pace()
    gc.collect()
    assert not gc_pacing.due()
    for _ in range(gc_pacing.FULL_EVERY):
        gc.collect(1)  # what a flood's allocations do, one middle collection at a time
    assert gc_pacing.due()
    gc_pacing.collect()
    assert not gc_pacing.due() and gc.get_count()[2] == 0
