"""Event kinds are a closed set with a payload type each: unknown kinds are refused where they are made,
every kind is handled by the reducer, and a real run's events carry the keys their payload requires."""

from __future__ import annotations

import json
from pathlib import Path
from typing import is_typeddict

import pytest

from kwizard.engine import state
from kwizard.engine.journal import RunJournal, read_events
from kwizard.engine.pipeline import Engine
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.events import PAYLOADS, EventKind
from kwizard.protocol.phase import Event
from tests.fixture_phases import fixture_phases, local_spec


def test_every_kind_has_a_payload_type_and_a_reducer_handler() -> None:
    assert set(PAYLOADS) == set(EventKind)
    assert all(is_typeddict(PAYLOADS[k]) for k in EventKind if k != EventKind.PREFLIGHT_REPORT)
    # The preflight report is the console's table; everything else changes what the dashboard shows.
    assert set(state._HANDLERS) == set(EventKind) - {EventKind.PREFLIGHT_REPORT}


def test_an_unknown_kind_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown event kind 'host_okay' \(known: run_start, .*log"):
        Event("host_okay", "kubespray")  # type: ignore[arg-type]
    event = Event("log", "access", None, {"text": "x"})  # type: ignore[arg-type]  # as read from JSON
    assert event.kind is EventKind.LOG and event.kind == "log"


def test_the_journal_writes_kinds_as_strings_and_skips_kinds_it_does_not_know(tmp_path: Path) -> None:
    ws = Workspace(root=tmp_path / "ws", cluster="c1").create()
    journal = RunJournal.create(ws, ["access"])
    journal.append_event(Event(EventKind.LOG, "access", None, {"text": "hello"}, 1.0))
    journal.close()
    with journal.events_file.open("a") as handle:  # as a newer kwizard might have written
        handle.write(json.dumps({"kind": "host_teleported", "phase": "access", "data": {}}) + "\n")
    lines = journal.events_file.read_text().splitlines()
    assert json.loads(lines[1])["kind"] == "log"
    read = [(e.kind, e.data) for e in read_events(journal.events_file)]
    assert read == [(EventKind.LOG, {"text": "hello"})]


def test_a_real_run_emits_only_the_keys_its_payloads_require(tmp_path: Path) -> None:
    spec = local_spec(tmp_path)
    ws = Workspace(root=tmp_path / "ws", cluster=spec.name).create()
    seen: list[Event] = []
    outcome = Engine(spec, ws, RunOptions(), phases=fixture_phases("quick.yml"), observer=seen.append).start()
    assert outcome.status == "ok"
    kinds = {event.kind for event in seen}
    # A real ansible-runner run through the engine: the run, phases, plays, tasks, host results, the recap.
    assert {
        EventKind.RUN_START, EventKind.PHASE_START, EventKind.PLAY_START, EventKind.TASK_START,
        EventKind.HOST_OK, EventKind.HOST_CHANGED, EventKind.STATS, EventKind.PHASE_END, EventKind.RUN_END,
    } <= kinds  # fmt: skip
    for event in seen:
        payload = PAYLOADS[event.kind]
        missing = getattr(payload, "__required_keys__", frozenset()) - set(event.data)
        assert not missing, f"{event.kind} from {event.phase} lacks {sorted(missing)}: {event.data}"
