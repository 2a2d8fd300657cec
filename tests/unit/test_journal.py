"""The run journal: atomic state, append-only events that survive a cut, settling after a kill."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kwizard.engine.journal import JournalError, RunJournal, cluster_lock, list_runs, read_events
from kwizard.errors import InputError
from kwizard.paths import ENV_SHELL_WORKDIR, ENV_WORKDIR, Workspace
from kwizard.protocol.phase import Event


def workspace(tmp_path: Path) -> Workspace:
    return Workspace(root=tmp_path / "ws", cluster="c1").create()


def test_create_update_and_load_round_trip(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    journal = RunJournal.create(ws, ["inventory", "kubespray"])
    journal.update_phase("inventory", status="ok", started=1.0, ended=3.5, data={"inventory": "x"}, tasks=4)
    loaded = RunJournal.load(journal.directory).record
    assert loaded.phase("inventory").status == "ok" and loaded.phase("inventory").duration == 2.5
    assert loaded.phase("inventory").data == {"inventory": "x"} and loaded.phase("inventory").tasks == 4
    assert loaded.phase("kubespray").status == "pending"
    assert loaded.selected == ("inventory", "kubespray")
    assert json.loads(journal.state_file.read_text())["version"] == 1
    assert journal.directory.stat().st_mode & 0o777 == 0o700
    assert list_runs(ws) == [journal.directory]


def test_a_process_that_died_leaves_phases_interrupted(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    journal = RunJournal.create(ws, ["kubespray"])
    journal.update_phase("kubespray", status="running", started=1.0)
    journal.update(status="running")
    record = RunJournal.load(journal.directory).record
    assert record.status == "interrupted" and record.phase("kubespray").status == "interrupted"


def test_events_survive_a_cut_last_line_and_continue_after_it(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    journal = RunJournal.create(ws, ["kubespray"])
    journal.append_event(Event("task_start", "kubespray", None, {"task": "a"}, 1.0))
    journal.close()
    with journal.events_file.open("a") as handle:  # what a kill in the middle of a write leaves
        handle.write('{"kind": "host_ok", "phase": "kubespray", "ho')
    assert [e.data["task"] for e in read_events(journal.events_file)] == ["a"]
    again = RunJournal.load(journal.directory)
    again.append_event(Event("task_start", "kubespray", None, {"task": "b"}, 2.0))
    again.close()
    assert [e.data["task"] for e in read_events(journal.events_file)] == ["a", "b"]


def test_garbage_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"format": "kwizard-events", "version": 1}\nnot json\n[1]\n{"kind": "log", "phase": "p"}\n'
    )
    assert [e.kind for e in read_events(path)] == ["log"]
    assert list(read_events(tmp_path / "missing.jsonl")) == []


def test_unreadable_state_is_a_clear_error(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    journal = RunJournal.create(ws, ["kubespray"])
    journal.state_file.write_text("{ half")
    with pytest.raises(JournalError) as caught:
        RunJournal.load(journal.directory)
    assert "state.json" in caught.value.problem
    with pytest.raises(InputError):
        RunJournal.load(tmp_path / "nowhere")


def test_a_failed_write_keeps_the_previous_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace(tmp_path)
    journal = RunJournal.create(ws, ["kubespray"])
    journal.update_phase("kubespray", status="ok")
    before = journal.state_file.read_text()

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)  # the temp file's data cannot reach the disk
    # As `--workdir ROOT` leaves them (the shell had no KWIZARD_WORKDIR): the resume command names ROOT.
    monkeypatch.setenv(ENV_WORKDIR, str(ws.root))
    monkeypatch.setenv(ENV_SHELL_WORKDIR, "")
    with pytest.raises(JournalError) as caught:
        journal.update_phase("kubespray", status="failed")
    monkeypatch.undo()
    assert caught.value.title.startswith("Disk full")
    assert f"`kwizard --resume {ws.cluster} --workdir {ws.root}`" in caught.value.fix
    assert journal.state_file.read_text() == before
    assert [p.name for p in journal.directory.iterdir() if p.name.endswith(".tmp")] == []


def test_the_lock_refuses_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with cluster_lock(ws):
        with pytest.raises(InputError) as caught, cluster_lock(ws):
            pass
        assert str(os.getpid()) in caught.value.problem
    with cluster_lock(ws):  # released
        pass
