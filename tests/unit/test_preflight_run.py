"""The parallel runner and the phase, with the probe run for real on this machine.

The "connection" here is invoke's local Context (the class Fabric's Connection extends, same `run`
API), so the real probe script runs in a real shell; SSH itself is covered by the lab's integration
tests. Unreachable hosts use a real Fabric connection to a closed loopback port.
"""

from __future__ import annotations

import socket
import threading

import fabric
import invoke
import pytest

from kwizard.errors import InputError
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.preflight import Preflight, PreflightReport, run_phase
from kwizard.preflight import run as run_module
from kwizard.protocol.phase import Event, PhaseContext
from tests.unit.preflight_samples import spec

HOSTS = [
    {"name": "cp1", "address": "127.0.0.1", "roles": ["control_plane", "etcd", "worker"]},
    {"name": "w1", "address": "127.0.0.2", "roles": ["worker"]},
    {"name": "w2", "address": "127.0.0.3", "roles": ["worker"]},
]


def local(ctx: PhaseContext, host) -> invoke.Context:
    return invoke.Context()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def context(tmp_path, hosts=HOSTS, options=None, **extra) -> tuple[PhaseContext, list[Event]]:
    events: list[Event] = []
    lock = threading.Lock()

    def emit(event: Event) -> None:
        with lock:
            events.append(event)

    ctx = PhaseContext(
        spec=spec(hosts, **extra),
        ws=workspace("test", root=tmp_path),
        options=options or RunOptions(),
        emit=emit,
    )
    return ctx, events


def test_all_hosts_are_probed_and_streamed_once_each(tmp_path):
    ctx, _ = context(tmp_path)
    arrived: list[str] = []
    report = Preflight(ctx, connect_with=local).run(on_host=lambda h: arrived.append(h.host))
    assert sorted(arrived) == ["cp1", "w1", "w2"]
    assert [h.host for h in report.hosts] == ["cp1", "w1", "w2"]  # spec order, whatever the arrival order
    for host in report.hosts:
        assert host.facts is not None
        assert host.results[0].check == "ssh" and host.results[0].status == "pass"
        assert {"hostname", "machine_id"} <= {r.check for r in host.results}
    # The same machine three times: the cross-host check notices (one server listed three times).
    assert report.result("w1", "machine_id").status == "fail"
    assert "listed twice" in report.result("w1", "machine_id").observed
    assert report.checks[0] == "ssh"


def test_unreachable_host_fails_only_its_ssh_check(tmp_path):
    port = closed_port()

    def connect(ctx: PhaseContext, host):
        if host.name == "w2":
            return fabric.Connection("127.0.0.1", port=port, connect_timeout=3).open()
        return invoke.Context()

    ctx, _ = context(tmp_path)
    report = Preflight(ctx, connect_with=connect).run()
    w2 = next(h for h in report.hosts if h.host == "w2")
    assert w2.facts is None and [r.check for r in w2.results] == ["ssh"]
    assert w2.results[0].status == "fail" and "Unable to connect" in w2.results[0].observed
    assert report.result("cp1", "ssh").status == "pass"
    assert report.result("cp1", "machine_id").observed.endswith(
        "on cp1, w1 (same addresses: one server listed twice?)"
    )


def test_cancelled_run_checks_nothing(tmp_path):
    ctx, _ = context(tmp_path)
    ctx.cancel.set()
    report = Preflight(ctx, connect_with=local).run()
    assert {r.observed for r in report.results if r.check == "ssh"} == {"not checked: cancelled"}


def test_acknowledged_failures_make_a_host_a_warning_not_a_failed_host(tmp_path, monkeypatch):
    """What the dashboard counts: a host whose only failures were acknowledged is not a failed host."""
    monkeypatch.setattr(run_module, "_default_connect", local)
    first, _ = context(tmp_path / "a")
    failing = {r.key for r in Preflight(first).run().results if r.status == "fail"}
    assert failing  # this machine fails some checks when probed as three hosts (machine_id at least)
    ctx, events = context(tmp_path / "b", options=RunOptions(ignore_preflight=frozenset(failing)))
    assert run_phase(ctx).status == "ok"
    statuses = {e.host: e.data for e in events if e.kind == "host_status"}
    assert statuses and all(data["status"] in ("ok", "warning") for data in statuses.values())
    for key in failing:
        check, host = key.split("@")
        per_host = {r["check"] for r in statuses.get(host, {}).get("results", [])}
        if check in per_host:  # the cross-host checks (machine_id, …) come after the hosts' statuses
            assert statuses[host]["status"] == "warning"
            assert f"{check} failed (acknowledged)" in statuses[host]["text"]


def test_run_phase_fails_with_the_report_events_and_data(tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "_default_connect", local)
    ctx, events = context(tmp_path)
    result = run_phase(ctx)
    # The engine turns a failed preflight phase into exit code 3 (EXIT_PREFLIGHT_FAILED).
    assert result.status == "failed"
    assert "machine_id" in result.summary and "--ignore-preflight" in result.summary
    statuses = [e for e in events if e.kind == "host_status"]
    assert sorted(e.host for e in statuses) == ["cp1", "w1", "w2"]  # once per host: the engine counts them
    assert all(e.data["status"] in ("ok", "warning", "failed") and e.data["text"] for e in statuses)
    problems = [e for e in events if e.kind == "log" and e.data["text"].startswith("✗ ")]
    assert any("machine_id" in e.data["text"] and e.host == "w1" for e in problems)
    assert not any(e.kind == "finding" for e in events)  # findings are the diagnostics' (known errors)
    report_events = [e for e in events if e.kind == "preflight_report"]
    assert len(report_events) == 1 and report_events[0].data == result.data["report"]
    report = PreflightReport.from_json(result.data["report"])
    assert report.to_json() == result.data["report"]
    assert result.data["blocking"] == [r.key for r in report.blocking]
    assert result.data["python_interpreters"]["cp1"].endswith("python3")
    assert result.data["hosts"]["w1"]["memory_mb"] > 0
    # The two readers of this data, as they read it.
    from kwizard.diagnostics.evidence import Evidence
    from kwizard.inventory.render import preflight_python
    from kwizard.protocol.outputs import PreflightOutput

    preflight = PreflightOutput.of({"preflight": result.data})
    assert preflight is not None
    evidence = Evidence.from_preflight(preflight)
    assert evidence.hosts["w1"].memory_mb == result.data["hosts"]["w1"]["memory_mb"]
    assert evidence.hosts["w1"].python3 is True and evidence.hosts["w1"].clock_offset_s is not None
    assert preflight_python({"preflight": result.data}, "cp1") == result.data["python_interpreters"]["cp1"]


def test_acknowledged_failures_let_the_phase_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(run_module, "_default_connect", local)
    ctx, _ = context(tmp_path)
    blocking = set(run_phase(ctx).data["blocking"])
    ids = sorted({key.split("@")[0] for key in blocking})
    # The first check id by --ignore-preflight, the rest in the preset as check@host.
    in_preset = sorted(key for key in blocking if not key.startswith(ids[0] + "@"))
    ctx, _ = context(
        tmp_path,
        options=RunOptions(ignore_preflight=frozenset(ids[:1])),
        preflight={"acknowledged": in_preset},
    )
    result = run_phase(ctx)
    assert result.status == "ok"
    assert set(result.data["acknowledged"]) == blocking
    assert result.data["blocking"] == []


def test_unknown_acknowledgements_are_refused(tmp_path):
    ctx, _ = context(tmp_path, options=RunOptions(ignore_preflight=frozenset({"memroy"})))
    with pytest.raises(InputError) as caught:
        run_phase(ctx)
    assert "memroy" in caught.value.problem and "memory" in caught.value.fix
    ctx, _ = context(tmp_path, preflight={"acknowledged": ["memory@nohost"]})
    with pytest.raises(InputError):
        run_phase(ctx)


def test_spec_fix_sets_the_interpreter_and_the_recheck_confirms_it(tmp_path):
    ctx, _ = context(tmp_path)
    preflight = Preflight(ctx, connect_with=local)
    report = preflight.run()
    facts = report.facts("w1")
    chosen = next(i.path for i in facts.interpreters if i.version_tuple >= (3, 8))
    new_spec, rechecked, outcomes = preflight.fix(report, [("w1", "set_python_interpreter")])
    assert new_spec.host("w1").python_interpreter == chosen
    assert ctx.spec is new_spec
    assert [(o.host, o.ok) for o in outcomes] == [("w1", True)]
    assert "named in the spec" in rechecked.result("w1", "python").observed
    assert rechecked.result("cp1", "python") == report.result("cp1", "python")  # others untouched
