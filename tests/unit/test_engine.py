"""The phase engine with real playbook phases (local connection): runs, failures, resume, journal."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from kwizard.engine.fingerprint import PHASE_INPUTS
from kwizard.engine.journal import RunJournal, read_events
from kwizard.engine.pipeline import Engine, PhaseDefinition
from kwizard.errors import InputError
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import Event, PhaseContext, PhaseResult
from kwizard.spec import ClusterSpec
from tests.fixture_phases import fixture_phases, local_spec

HOSTS = ("cp1", "cp2", "w1")


def engine_for(tmp_path: Path, spec: ClusterSpec, **kwargs: object) -> Engine:
    ws = Workspace(root=tmp_path / "ws", cluster=spec.name).create()
    phases = kwargs.pop("phases", fixture_phases("quick.yml"))
    return Engine(spec, ws, RunOptions(), phases=phases, **kwargs)  # type: ignore[arg-type]


def phase_starts(directory: Path) -> list[str]:
    return [e.phase for e in read_events(directory / "events.jsonl") if e.kind == "phase_start"]


def test_a_clean_run_journals_every_phase_and_writes_a_report(tmp_path: Path) -> None:
    seen: list[Event] = []
    # quick.yml here (the full Kubespray-shaped cluster.yml runs on the lab: test_engine_lab.py).
    engine = engine_for(tmp_path, local_spec(tmp_path), observer=seen.append)
    outcome = engine.start()
    assert (outcome.status, outcome.exit_code) == ("ok", 0)
    # What happened on the "hosts": each play touched its group only; addons only on the first cp.
    for host in HOSTS:
        assert (tmp_path / "hosts" / host / "etc" / "node.conf").read_text() == f"{host}\n"
        assert (tmp_path / "hosts" / host / "etc" / "etcd.env").exists()  # all three are etcd members
    assert (tmp_path / "hosts" / "cp2" / "etc" / "kubeadm.yaml").exists()
    assert not (tmp_path / "hosts" / "w1" / "etc" / "kubeadm.yaml").exists()
    assert (tmp_path / "hosts" / "cp1" / "addons" / "grafana.yml").exists()
    assert not (tmp_path / "hosts" / "cp2" / "addons" / "grafana.yml").exists()

    record = RunJournal.load(outcome.directory).record
    assert record.status == "ok" and record.exit_code == 0
    assert [record.phase(n).status for n in ("inventory", "kubespray", "apps")] == ["ok", "ok", "ok"]
    kubespray = record.phase("kubespray")
    assert kubespray.tasks == 6 and kubespray.duration and kubespray.duration > 0
    assert set(kubespray.fingerprint) == {"hosts", "ssh settings", "bastion", "kubespray settings"}
    assert (outcome.directory / "state.json").stat().st_mode & 0o777 == 0o600
    # The events file replays to the same picture the live observer saw.
    replayed = list(read_events(outcome.directory / "events.jsonl"))
    assert [e.kind for e in replayed] == [e.kind for e in seen]
    lines = (outcome.directory / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {"format": "kwizard-events", "version": 1}
    assert len(lines) == len(seen) + 1
    report = (outcome.directory / "report.md").read_text()
    assert "| kubespray | ✅ ok |" in report and "## Slowest tasks" in report
    assert "| cp1 |" in report and "## Failures" not in report
    assert outcome.state.hosts["w1"].failed == 0 and outcome.state.hosts["cp1"].changed > 0


def test_injected_failure_stops_the_run_and_resume_skips_what_succeeded(tmp_path: Path) -> None:
    spec = local_spec(tmp_path)
    (tmp_path / "markers" / "kwizard-fail-cp2").write_text("x")
    first = engine_for(tmp_path, spec).start()
    assert (first.status, first.exit_code, first.failed_phase) == ("failed", 1, "kubespray")
    failure = first.state.failures[0]
    assert (
        failure.host == "cp2"
        and failure.task == "kubernetes/preinstall : Stop if the node is not ready for Kubernetes"
    )
    assert "injected failure" in failure.message
    record = RunJournal.load(first.directory).record
    assert [record.phase(n).status for n in ("inventory", "kubespray", "apps")] == ["ok", "failed", "pending"]
    report = (first.directory / "report.md").read_text()
    assert "### cp2 — kubernetes/preinstall : Stop if the node is not ready for Kubernetes" in report
    assert not (tmp_path / "hosts" / "cp2" / "etc" / "node.conf").exists()  # cp2 stopped at the check

    (tmp_path / "markers" / "kwizard-fail-cp2").unlink()  # fix the cause
    engine = engine_for(tmp_path, spec)
    plan = engine.plan_resume(RunJournal.load(first.directory))
    assert [(p.name, p.run, p.reason) for p in plan] == [
        ("inventory", False, "succeeded before; spec unchanged"),
        ("kubespray", True, "failed last time"),
        ("apps", True, "not run yet"),
    ]
    second = engine.resume()
    assert (second.status, second.exit_code, second.run_id) == ("ok", 0, first.run_id)
    assert (tmp_path / "hosts" / "cp2" / "etc" / "node.conf").read_text() == "cp2\n"
    assert phase_starts(first.directory) == ["inventory", "kubespray", "kubespray", "apps"]
    record = RunJournal.load(first.directory).record
    assert [a.resumed for a in record.attempts] == [False, True]
    # Each attempt says who ran it.
    assert {(a.pid, a.host) for a in record.attempts} == {(os.getpid(), socket.gethostname())}
    assert record.phase("inventory").attempts == 1 and record.phase("kubespray").attempts == 2
    # The replayed state of the whole run keeps the first failure and shows the phases done now.
    assert second.state.phase("kubespray").status == "ok" and second.state.phase("inventory").reused


def counting_phases(
    log: Path, names: tuple[str, ...] = ("inventory", "kubespray", "apps")
) -> tuple[PhaseDefinition, ...]:
    """Phases that only append their name to `log` (for planning tests that need no playbook)."""

    def make(name: str) -> PhaseDefinition:
        def run(ctx: PhaseContext) -> PhaseResult:
            with log.open("a") as handle:
                handle.write(name + "\n")
            return PhaseResult("ok", f"{name} done", {"ran": name})

        return PhaseDefinition(name, name.title(), lambda: run, PHASE_INPUTS[name])

    return tuple(make(name) for name in names)


def test_resume_reruns_a_succeeded_phase_when_its_spec_parts_changed(tmp_path: Path) -> None:
    spec = local_spec(tmp_path)
    log = tmp_path / "ran.txt"
    first = engine_for(tmp_path, spec, phases=counting_phases(log)).start()
    assert first.status == "ok"
    changed = spec.model_copy(update={"apps": spec.apps.model_copy(update={"grafana": True})})
    engine = engine_for(tmp_path, changed, phases=counting_phases(log))
    plan = engine.plan_resume(RunJournal.load(first.directory))
    assert [(p.name, p.run, p.reason) for p in plan] == [
        ("inventory", False, "succeeded before; spec unchanged"),
        ("kubespray", False, "succeeded before; spec unchanged"),
        ("apps", True, "apps changed since it succeeded"),
    ]
    outcome = engine.resume()
    assert outcome.status == "ok"
    assert log.read_text().split() == ["inventory", "kubespray", "apps", "apps"]
    assert phase_starts(first.directory) == ["inventory", "kubespray", "apps", "apps"]
    # A change of the hosts touches every phase that depends on them.
    more = changed.model_copy(
        update={"hosts": [*changed.hosts[:2], changed.hosts[2].model_copy(update={"address": "10.0.0.9"})]}
    )
    plan = engine_for(tmp_path, more, phases=counting_phases(log)).plan_resume(
        RunJournal.load(first.directory)
    )
    assert [(p.name, p.run) for p in plan] == [("inventory", True), ("kubespray", True), ("apps", False)]
    assert plan[0].reason == "hosts changed since it succeeded"


def test_results_of_reused_phases_reach_later_phases(tmp_path: Path) -> None:
    log = tmp_path / "ran.txt"
    spec = local_spec(tmp_path)
    seen: dict[str, dict[str, object]] = {}

    def apps(ctx: PhaseContext) -> PhaseResult:
        seen.update(ctx.results)
        return PhaseResult("failed" if not log.with_suffix(".fixed").exists() else "ok")

    table = (*counting_phases(log, ("inventory", "kubespray")), PhaseDefinition("apps", "Apps", lambda: apps))
    assert engine_for(tmp_path, spec, phases=table).start().status == "failed"
    log.with_suffix(".fixed").touch()
    seen.clear()
    assert engine_for(tmp_path, spec, phases=table).resume().status == "ok"
    assert seen == {"inventory": {"ran": "inventory"}, "kubespray": {"ran": "kubespray"}}
    assert log.read_text().split() == ["inventory", "kubespray"]  # not run again


def _raising(exc: BaseException) -> PhaseDefinition:
    def run(ctx: PhaseContext) -> PhaseResult:
        raise exc

    return PhaseDefinition("inventory", "Inventory", lambda: run)


def test_phase_errors_become_statuses_and_exit_codes(tmp_path: Path) -> None:
    spec = local_spec(tmp_path).model_copy(update={"phases": ["inventory"]})
    bad = engine_for(tmp_path, spec, phases=(_raising(InputError("Bad host", "host x", "fix x")),)).start()
    assert (bad.status, bad.exit_code) == ("failed", 2)
    assert RunJournal.load(bad.directory).record.phase("inventory").error == {
        "title": "Bad host",
        "problem": "host x",
        "fix": "fix x",
    }
    bug = engine_for(tmp_path, spec, phases=(_raising(RuntimeError("oops")),)).start()
    assert (bug.status, bug.exit_code) == ("failed", 1)
    assert "RuntimeError: oops" in (bug.directory / "crash-inventory.txt").read_text()
    assert bug.error is not None and "internal error" in bug.error.title


def test_a_failed_preflight_exits_3(tmp_path: Path) -> None:
    spec = local_spec(tmp_path).model_copy(update={"phases": ["preflight"]})
    table = (
        PhaseDefinition("preflight", "Preflight", lambda: lambda ctx: PhaseResult("failed", "lab4: 1 GiB")),
    )
    outcome = engine_for(tmp_path, spec, phases=table).start()
    assert (outcome.status, outcome.exit_code) == ("failed", 3)


def test_cancel_interrupts_and_resume_finishes(tmp_path: Path) -> None:
    spec = local_spec(tmp_path)
    engine = engine_for(tmp_path, spec)

    def observer(event: Event) -> None:
        if (
            event.kind == "task_start"
            and event.phase == "kubespray"
            and "Write a config file" in event.data["task"]
        ):
            engine.cancel.set()

    engine.observer = observer
    outcome = engine.start()
    assert (outcome.status, outcome.exit_code) == ("interrupted", 130)
    record = RunJournal.load(outcome.directory).record
    assert record.phase("kubespray").status == "interrupted" and record.status == "interrupted"
    resumed = engine_for(tmp_path, spec).resume()
    assert resumed.status == "ok"
    assert phase_starts(outcome.directory) == ["inventory", "kubespray", "kubespray", "apps"]


def test_a_second_kwizard_on_the_same_cluster_is_refused(tmp_path: Path) -> None:
    spec = local_spec(tmp_path)
    engine = engine_for(tmp_path, spec)
    started, release = threading.Event(), threading.Event()

    def blocking(ctx: PhaseContext) -> PhaseResult:
        started.set()
        release.wait(30)
        return PhaseResult("ok")

    engine = engine_for(
        tmp_path,
        spec.model_copy(update={"phases": ["inventory"]}),
        phases=(PhaseDefinition("inventory", "Inventory", lambda: blocking),),
    )
    thread = threading.Thread(target=engine.start)
    thread.start()
    try:
        assert started.wait(30)
        with pytest.raises(InputError) as caught:
            engine_for(tmp_path, spec).resume()
        assert caught.value.title == "Cluster busy"
        # The lock says who holds it: this process, on this machine, since when.
        assert f"pid {os.getpid()} on host {socket.gethostname()}, since " in caught.value.problem
    finally:
        release.set()
        thread.join(30)


def test_nothing_to_resume_without_a_run(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        engine_for(tmp_path, local_spec(tmp_path)).resume()
    assert caught.value.title == "Nothing to resume"


def test_nothing_to_resume_names_the_workdir_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with --workdir elsewhere than the shell's: the command to start a run names that --workdir."""
    from kwizard.paths import ENV_SHELL_WORKDIR

    monkeypatch.setenv(ENV_SHELL_WORKDIR, str(tmp_path / "usual"))
    engine = engine_for(tmp_path, local_spec(tmp_path))
    with pytest.raises(InputError) as caught:
        engine.resume()
    assert caught.value.fix.endswith(f"--yes --workdir {engine.ws.root}"), caught.value.fix


def test_a_resume_in_the_wizard_uses_the_options_recorded_with_the_run(tmp_path: Path) -> None:
    """The Deploy step resumes through Engine.resume: the first run's --kubespray-dir and
    --ignore-preflight reach the phases again, and the dashboard's log says they were reused."""
    seen: list[RunOptions] = []

    def inventory(ctx: PhaseContext) -> PhaseResult:
        seen.append(ctx.options)
        return PhaseResult("failed" if len(seen) == 1 else "ok", "recorded the options")

    table = (PhaseDefinition("inventory", "Inventory", lambda: inventory, PHASE_INPUTS["inventory"]),)
    spec = local_spec(tmp_path).model_copy(update={"phases": ["inventory"]})
    first = engine_for(tmp_path, spec, phases=table)
    first.options = RunOptions(kubespray_dir=str(tmp_path / "ks"), ignore_preflight=frozenset({"ip_forward"}))
    assert first.start().status == "failed"

    events: list[Event] = []
    resumed = engine_for(tmp_path, spec, phases=table, observer=events.append).resume()
    assert resumed.status == "ok"
    assert (seen[1].kubespray_dir, seen[1].ignore_preflight) == (str(tmp_path / "ks"), {"ip_forward"})
    notes = [e.data["text"] for e in events if e.kind == "log" and "as recorded" in e.data.get("text", "")]
    assert notes == [
        f"using --kubespray-dir {tmp_path / 'ks'} and --ignore-preflight ip_forward as recorded with the run "
        "(give an option again to change it)"
    ]


def test_a_child_stopped_by_the_users_ctrl_c_is_an_interrupt_not_a_fault_to_fix(tmp_path: Path) -> None:
    """Ctrl-C reaches kwizard's children too: ansible-inventory then exits 99 ("User interrupted
    execution"), and the phase's error about it must not be shown as a bug to report."""
    spec = local_spec(tmp_path).model_copy(update={"phases": ["inventory"]})
    seen: list[Event] = []
    engine: Engine

    def inventory(ctx: PhaseContext) -> PhaseResult:
        engine.cancel.set()  # what the console's SIGINT handler does
        raise InputError(
            "Ansible cannot parse the inventory",
            "ansible-inventory -i hosts.yaml --list failed (exit 99):\n[ERROR]: User interrupted execution",
            "This is a bug in kwizard's inventory writer if the preset is valid; please report it.",
        )

    engine = engine_for(
        tmp_path,
        spec,
        phases=(PhaseDefinition("inventory", "Inventory", lambda: inventory),),
        observer=seen.append,
    )
    outcome = engine.start()
    assert (outcome.status, outcome.exit_code, outcome.error) == ("interrupted", 130, None)
    phase = RunJournal.load(outcome.directory).record.phase("inventory")
    assert (phase.status, phase.summary, phase.error) == ("interrupted", "interrupted by the user", {})
    errors = [e for e in seen if e.kind == "log" and e.data.get("level") == "error"]
    assert errors == []
    assert any("stopped by the cancel: Ansible cannot parse" in e.data.get("text", "") for e in seen)


def test_a_phase_stopped_part_way_does_not_set_the_next_attempts_progress_total(tmp_path: Path) -> None:
    """The progress total comes from an attempt that finished: an interrupted one's count (a few of the
    tasks) made the resumed phase read 100% and an ETA of zero from its first tasks on."""
    spec = local_spec(tmp_path)
    engine = engine_for(tmp_path, spec)

    def cancel_in_kubespray(event: Event) -> None:
        if (
            event.kind == "task_start"
            and event.phase == "kubespray"
            and "Write a config file" in event.data["task"]
        ):
            engine.cancel.set()

    engine.observer = cancel_in_kubespray
    first = engine.start()
    assert first.status == "interrupted"
    stopped_at = RunJournal.load(first.directory).record.phase("kubespray").tasks
    assert stopped_at

    seen: list[Event] = []
    resumed = engine_for(tmp_path, spec, observer=seen.append).resume()
    assert resumed.status == "ok"
    (start,) = [e for e in seen if e.kind == "phase_start" and e.phase == "kubespray"]
    assert start.data.get("tasks_total") is None  # no attempt had finished: unknown, not stopped_at
    finished = RunJournal.load(resumed.directory).record.phase("kubespray").tasks

    later: list[Event] = []
    assert engine_for(tmp_path, spec, observer=later.append).start().status == "ok"
    (start,) = [e for e in later if e.kind == "phase_start" and e.phase == "kubespray"]
    assert start.data.get("tasks_total") == finished


def test_skipped_phases_are_left_out_said_so_and_run_by_a_later_resume(tmp_path: Path) -> None:
    log = tmp_path / "ran.txt"
    spec = local_spec(tmp_path)
    ws = Workspace(root=tmp_path / "ws", cluster=spec.name).create()
    skipping = RunOptions(skip=frozenset({"kubespray"}))
    first = Engine(spec, ws, skipping, phases=counting_phases(log)).start()
    assert first.status == "ok" and log.read_text().split() == ["inventory", "apps"]
    events = list(read_events(first.directory / "events.jsonl"))
    notes = [e.data["text"] for e in events if e.kind == "log" and e.data.get("level") == "warning"]
    assert notes == ["not run, as --skip asks: kubespray"]
    assert RunJournal.load(first.directory).record.selected == ("inventory", "apps")
    # Asked for again, the skipped phase runs; what succeeded is reused.
    engine = Engine(spec, ws, RunOptions(until="apps"), phases=counting_phases(log))
    plan = engine.plan_resume(RunJournal.load(first.directory))
    assert [(p.name, p.run) for p in plan] == [("inventory", False), ("kubespray", True), ("apps", False)]
    assert engine.resume().status == "ok"
    assert log.read_text().split() == ["inventory", "apps", "kubespray"]
