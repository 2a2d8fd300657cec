"""The dashboard reducer: pure, bounded, and right about phases, hosts, failures and timings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kwizard.engine.logring import LOG_CHUNK, LOG_CHUNKS
from kwizard.engine.state import MAX_FAILURES, SLOWEST, RunState
from kwizard.protocol.phase import Event

P = "kubespray"


def ev(kind: str, host: str | None = None, t: float = 0.0, **data: object) -> Event:
    return Event(kind, P, host, dict(data), t)


def started() -> RunState:
    return RunState().apply(
        Event(
            "run_start",
            "",
            None,
            {"run_id": "r1", "cluster": "c", "phases": ["inventory", P], "tasks_total": {P: 4}},
            100.0,
        )
    )


def test_apply_never_changes_the_old_state() -> None:
    before = started().apply(ev("phase_start", t=101.0)).apply(ev("task_start", t=102.0, task="t1"))
    snapshot = (before.hosts, before.phases, before.log, before.events)
    after = before.apply(ev("host_changed", "n1", 103.0, task="t1"))
    assert (before.hosts, before.phases, before.log, before.events) == snapshot
    assert "n1" not in before.hosts and after.hosts["n1"].changed == 1


def test_progress_eta_and_overall_fraction() -> None:
    state = started().apply(Event("phase_end", "inventory", None, {"status": "ok"}, 100.5))
    state = state.apply(ev("phase_start", t=101.0))
    for i in range(2):
        state = state.apply(ev("task_start", t=101.0 + 10 * (i + 1), task=f"t{i}"))
    view = state.phase(P)
    assert (view.tasks_done, view.tasks_total, view.fraction()) == (2, 4, 0.5)
    assert view.eta(121.0) == 20.0  # 20 s for half → 20 s left
    assert state.overall_fraction() == (1.0 + 0.5) / 2
    assert state.phase("inventory").fraction() == 1.0


def test_host_counts_failures_and_ignored_errors() -> None:
    state = started().apply(ev("phase_start", t=1.0)).apply(ev("task_start", t=1.0, task="Install"))
    state = state.apply(ev("host_start", "n1", 1.1, task="Install"))
    assert state.hosts["n1"].task == "Install"
    state = state.apply(
        ev("host_failed", "n1", 1.2, task="Install", action="apt", ignored=True, res={"msg": "meh"})
    )
    state = state.apply(
        ev("host_failed", "n2", 1.3, task="Install", action="apt", res={"msg": "E: Unable to locate\nmore"})
    )
    state = state.apply(
        ev("host_unreachable", "n3", 1.4, task="Install", res={"msg": "ssh: connect to host"})
    )
    assert state.hosts["n1"].failed == 0 and state.hosts["n1"].ignored == 1 and state.hosts["n1"].ok == 1
    assert state.hosts["n2"].failed == 1 and state.hosts["n2"].last == "failed"
    assert [(f.host, f.kind, f.message) for f in state.failures] == [
        ("n2", "failed", "E: Unable to locate"),
        ("n3", "unreachable", "ssh: connect to host"),
    ]
    assert state.host_counts() == {"failed": 1, "unreachable": 1, "ok": 1}
    assert state.log.lines()[-1].level == "error"


def test_slowest_tasks_are_the_longest_gaps_between_task_starts() -> None:
    state = started().apply(ev("phase_start", t=0.0))
    t = 0.0
    for i in range(30):
        state = state.apply(ev("task_start", t=t, task=f"task {i}"))
        t += i  # task i lasts i seconds
    state = state.apply(Event("phase_end", P, None, {"status": "ok"}, t))
    assert len(state.slowest) == SLOWEST
    assert [s.task for s in state.slowest[:3]] == ["task 29", "task 28", "task 27"]
    assert state.slowest[0].seconds == 29


def test_throughput_counts_events_per_second() -> None:
    state = started()
    for t in (200.1, 200.2, 200.9, 201.5, 204.0):
        state = state.apply(ev("host_ok", "n", t, task="x"))
    # 100 (run_start: 1), 101..199 (0), 200 (3), 201 (1), 202 (0), 203 (0); 204 is the open second.
    assert state.throughput[0] == 1 and set(state.throughput[1:100]) == {0}
    assert state.throughput[100:] == (3, 1, 0, 0)
    assert state.second == 204 and state.second_count == 1


def test_findings_and_host_status_events() -> None:
    state = started().apply(
        Event("host_status", "preflight", "lab4", {"status": "failed", "text": "1 GiB memory"}, 1.0)
    )
    assert state.hosts["lab4"].failed == 1 and state.hosts["lab4"].task == "1 GiB memory"
    state = state.apply(
        ev("finding", "lab3", 2.0, id="python_interpreter_missing", title="No python3", fix="install it")
    )
    assert state.findings[0].id == "python_interpreter_missing" and state.findings[0].host == "lab3"


def test_a_resume_starts_with_no_live_failures_and_keeps_the_earlier_ones_as_history() -> None:
    failed = (
        started()
        .apply(ev("host_failed", "lab3", 1.0, task="Learn the OS family", res={"msg": "no python"}))
        .apply(ev("finding", "lab3", 1.1, id="python_interpreter_missing", title="No python3", fix="install"))
        .apply(Event("run_end", "", None, {"status": "failed"}, 2.0))
    )
    assert [f.host for f in failed.live_failures] == ["lab3"] and failed.live_findings[0].attempt == 1
    resumed = failed.apply(Event("run_start", "", None, {"run_id": "r1", "phases": ["inventory", P]}, 3.0))
    assert resumed.attempt == 2 and resumed.live_failures == () and resumed.live_findings == ()
    assert [(f.host, f.attempt) for f in resumed.failures] == [("lab3", 1)]  # the report's history
    again = resumed.apply(ev("host_failed", "lab2", 4.0, task="Mount", res={"msg": "refused"}))
    assert [(f.host, f.attempt) for f in again.live_failures] == [("lab2", 2)]


def test_host_counters_after_a_resume_are_of_that_attempt_and_say_so() -> None:
    failed = (
        started()
        .apply(ev("host_failed", "lab3", 1.0, task="Learn the OS family", res={"msg": "no python"}))
        .apply(ev("host_failed", "lab3", 1.2, task="Gather facts", res={"msg": "no python"}))
        .apply(ev("host_ok", "lab1", 1.3, task="Gather facts"))
        .apply(Event("run_end", "", None, {"status": "failed"}, 2.0))
    )
    assert failed.hosts["lab3"].failed == 2
    resumed = failed.apply(Event("run_start", "", None, {"run_id": "r1", "phases": [P]}, 3.0))
    resumed = resumed.apply(ev("host_ok", "lab3", 4.0, task="Learn the OS family"))
    # No "lab3 failed 2" next to a resume with no failures: the counters are this attempt's, and titled so.
    assert resumed.live_failures == () and resumed.hosts["lab3"].failed == 0
    assert resumed.hosts["lab3"].ok == 1 and set(resumed.hosts) == {"lab1", "lab3"}
    assert failed.hosts_title() == "Hosts" and resumed.hosts_title() == "Hosts · attempt 2 (this resume only)"


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.sampled_from(["host_ok", "host_changed", "host_failed", "host_skipped", "task_start", "log"]),
        max_size=300,
    )
)
def test_any_event_sequence_keeps_counts_consistent(kinds: list[str]) -> None:
    state = started()
    for i, kind in enumerate(kinds):
        state = state.apply(ev(kind, f"n{i % 7}", float(i), task=f"t{i}", text="x", res={"msg": "m"}))
    results = sum(h.results for h in state.hosts.values())
    assert results == sum(1 for k in kinds if k.startswith("host_"))
    assert state.events == len(kinds) + 1
    assert state.phase(P).tasks_done == kinds.count("task_start")


def test_memory_stays_bounded_on_a_long_run() -> None:
    state = started().apply(ev("phase_start", t=0.0))
    for i in range(20_000):
        state = state.apply(
            ev(
                "host_failed" if i % 3 == 0 else "host_changed",
                f"n{i % 50}",
                i / 10,
                task=f"t{i}",
                res={"msg": "x"},
            )
        )
    assert len(state.log) <= LOG_CHUNK * LOG_CHUNKS
    assert len(state.failures) == MAX_FAILURES
    assert len(state.throughput) <= 120
    assert state.log.lines()[-1].text.startswith("changed: [n49]")


def test_a_host_failed_outside_a_playbook_names_its_phase_once() -> None:
    """The failure line reads "lab3 — preflight: python failed", not "preflight: preflight: …"."""
    text = "preflight: python failed, systemd failed (acknowledged)"
    event = Event("host_status", "preflight", "lab3", {"status": "failed", "text": text}, 1.0)
    state = started().apply(event)
    (failure,) = state.failures
    assert (failure.task, failure.message) == ("preflight", "python failed, systemd failed (acknowledged)")
    assert state.hosts["lab3"].task == text  # the host grid keeps its own wording


def test_the_run_clock_never_runs_back_for_out_of_order_results() -> None:
    """Ansible's forks report out of order: an earlier stamp neither moves the clock back nor counts
    a new second in the throughput history."""
    state = started()
    for t in (200.5, 199.9, 200.7, 199.2):
        state = state.apply(ev("host_ok", "n", t, task="x"))
    assert state.now == 200.7 and state.second == 200 and state.second_count == 4
    assert len(state.throughput) == 100  # 100 (run_start) and 101..199: nothing appended twice


def test_host_counters_after_ignored_and_real_failures() -> None:
    state = started()
    state = state.apply(ev("host_start", "n", 101.0, task="t1"))
    assert state.hosts["n"].task == "t1" and state.hosts["n"].phase == P
    state = state.apply(ev("host_failed", "n", 101.5, task="t1", ignored=True, res={"msg": "x"}))
    state = state.apply(ev("host_skipped", "n", 102.0, task="t2"))
    state = state.apply(ev("host_failed", "n", 103.0, task="t3", res={"msg": "boom"}))
    view = state.hosts["n"]
    assert (view.ok, view.ignored, view.skipped, view.failed) == (1, 1, 1, 1)
    assert (view.task, view.last, view.phase) == ("t3", "failed", P)
    assert [f.message for f in state.failures] == ["boom"]


_KINDS = ["host_start", "host_ok", "host_changed", "host_skipped", "host_failed", "task_start", "log"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_KINDS),
            st.sampled_from(["n1", "n2", "n3", None]),
            st.floats(min_value=0.0, max_value=400.0, allow_nan=False),
            st.booleans(),
        ),
        max_size=120,
    ),
    st.integers(min_value=1, max_value=40),
    st.booleans(),
)
def test_apply_all_is_apply_one_by_one(
    steps: list[tuple[str, str | None, float, bool]], chunk: int, begun: bool
) -> None:
    """The batched path gives the very state that applying each event in turn gives: hosts, counters,
    log, clock and throughput, whatever the kinds, hosts (or none), times (out of order, 0, new seconds)
    and however the events are cut into batches."""
    events = [
        ev(kind, host, t, task=f"t{int(t) % 7}", ignored=flag, text="x", res={"msg": "m"})
        for kind, host, t, flag in steps
    ]
    one = started() if begun else RunState()
    batched = one
    for event in events:
        one = one.apply(event)
    for start in range(0, len(events), chunk):
        batched = batched.apply_all(events[start : start + chunk])
    assert batched == one
    assert batched.log.lines() == one.log.lines() and batched.log.total == one.log.total
