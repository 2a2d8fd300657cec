"""Preflight over all hosts at once: one connection and one probe per host on a bounded thread pool,
each host's results handed to a callback as soon as it answers, then the cross-host checks."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

from kwizard.errors import KwizardError
from kwizard.preflight.checks import CHECK_IDS, HostInput, run_cluster_checks, run_host_checks
from kwizard.preflight.facts import HostFacts
from kwizard.preflight.fixes import FIXES, FixOutcome, apply_spec_fix, run_host_fix, verify_become_password
from kwizard.preflight.model import CheckResult, HostReport, PreflightReport
from kwizard.preflight.probe import run_probe
from kwizard.protocol.events import EventKind
from kwizard.protocol.phase import Event, PhaseContext
from kwizard.spec import ClusterSpec, Host

MAX_WORKERS = 32  # SSH handshakes are mostly waiting; more threads than hosts buys nothing
Connect = Callable[[PhaseContext, Host], Any]
HostCallback = Callable[[HostReport], None]


def _default_connect(ctx: PhaseContext, host: Host) -> Any:
    """kwizard.ssh.connect with the spec's key; the password only if the key is refused and one is known."""
    from kwizard import ssh  # imported here: Fabric loads only when hosts are probed
    from kwizard.ssh_errors import AuthenticationFailed

    try:
        return ssh.connect(ctx, host)
    except AuthenticationFailed as refused:
        # A host the access step could not give the key to (yet) still gets checked.
        if refused.reason == "key" and ctx.secrets.password_for(host.name):
            return ssh.connect(ctx, host, use_password=True)
        raise


def _ssh_failure(spec: ClusterSpec, host: Host, exc: BaseException) -> CheckResult:
    target = f"{spec.ssh_user(host)}@{host.address}:{spec.ssh_port(host)}"
    if isinstance(exc, KwizardError):
        observed, fix = f"{exc.title}: {exc.problem}", exc.fix
    else:
        observed = f"{type(exc).__name__}: {exc}".rstrip(": ")
        fix = "Check the address, that sshd runs and that the key is authorised (the SSH access step)."
    return CheckResult(
        "ssh",
        host.name,
        "fail",
        observed,
        f"SSH login as {target}",
        "Every other check, and the whole install, runs over SSH.",
        fix,
    )


@dataclass
class Preflight:
    """Runs the checks for `ctx.spec`; `connect_with` opens a connection (default: kwizard.ssh.connect)."""

    ctx: PhaseContext
    connect_with: Connect | None = None
    max_workers: int = MAX_WORKERS

    @property
    def spec(self) -> ClusterSpec:
        return self.ctx.spec

    def connect(self, host: Host) -> Any:
        return (self.connect_with or _default_connect)(self.ctx, host)

    def probe_host(self, host: Host) -> tuple[HostReport, HostFacts | None]:
        """Connect, probe and check one host (never raises: failures become an `ssh` result)."""
        started = time.monotonic()
        spec = self.spec
        connection = None
        try:
            connection = self.connect(host)
            facts = run_probe(connection, spec, host)
            become_ok = None
            if facts.sudo == "password" and self.ctx.secrets.become_password:
                become_ok = verify_become_password(connection, self.ctx.secrets.become_password)
        except Exception as exc:  # unreachable, refused, or the probe could not run: the ssh row says which
            failed = (_ssh_failure(spec, host, exc),)
            return HostReport(host.name, None, failed, time.monotonic() - started), None
        finally:
            if connection is not None:
                _close(connection)
        login = f"{facts.user or spec.ssh_user(host)}@{host.address}:{spec.ssh_port(host)}"
        ssh_ok = CheckResult("ssh", host.name, "pass", login, "SSH login")
        results = (ssh_ok, *run_host_checks(HostInput(spec, host, facts, become_ok)))
        return HostReport(host.name, facts, results, time.monotonic() - started), facts

    def run(
        self, hosts: Iterable[Host] | None = None, on_host: HostCallback | None = None
    ) -> PreflightReport:
        """Check `hosts` (default: all) concurrently; `on_host` gets each host's report as it arrives."""
        started = time.monotonic()
        targets = list(self.spec.hosts if hosts is None else hosts)
        reports: dict[str, HostReport] = {}
        facts: dict[str, HostFacts] = {}
        if targets:
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(targets))) as pool:
                futures = {pool.submit(self._unless_cancelled, h): h for h in targets}
                for future in as_completed(futures):
                    report, host_facts = future.result()
                    reports[report.host] = report
                    if host_facts is not None:
                        facts[report.host] = host_facts
                    if on_host is not None:
                        on_host(report)
        ordered = [reports[h.name] for h in targets if h.name in reports]
        return self._finish(ordered, facts, time.monotonic() - started)

    def _unless_cancelled(self, host: Host) -> tuple[HostReport, HostFacts | None]:
        if self.ctx.cancel.is_set():
            cancelled = CheckResult("ssh", host.name, "fail", "not checked: cancelled", "SSH login")
            return HostReport(host.name, None, (cancelled,)), None
        return self.probe_host(host)

    def _finish(
        self, hosts: list[HostReport], facts: dict[str, HostFacts], seconds: float
    ) -> PreflightReport:
        cross = run_cluster_checks(self.spec, facts)
        per_host: dict[str, list[CheckResult]] = {}
        cluster = []
        for result in cross:
            if result.host in facts:
                per_host.setdefault(result.host, []).append(result)
            else:
                cluster.append(result)
        with_cross = tuple(
            replace(h, results=_in_table_order(h.results + tuple(per_host.get(h.host, ())))) for h in hosts
        )
        present = {r.check for h in with_cross for r in h.results} | {r.check for r in cluster}
        checks = tuple(c for c in CHECK_IDS if c in present)
        return PreflightReport(with_cross, tuple(cluster), seconds, checks)

    def recheck(self, report: PreflightReport, host_names: Iterable[str]) -> PreflightReport:
        """Probe `host_names` again and redo the cross-host checks with everyone's facts."""
        wanted = set(host_names)
        fresh = self.run([h for h in self.spec.hosts if h.name in wanted])
        facts = {h.host: h.facts for h in report.merged(fresh).hosts if h.facts is not None}
        hosts = [_without_cross(h) for h in report.merged(fresh).hosts]
        return self._finish(hosts, facts, fresh.seconds)

    def fix(
        self, report: PreflightReport, selected: Iterable[tuple[str, str]]
    ) -> tuple[ClusterSpec, PreflightReport, list[FixOutcome]]:
        """Apply the selected (host, fix_id) fixes, then re-check those hosts.

        Returns the (possibly updated) spec, the merged report and one outcome per fix; an outcome is
        ok only when the command ran and the re-check no longer offers the same fix.
        """
        selected = list(dict.fromkeys(selected))
        by_host: dict[str, list[str]] = {}
        for host_name, fix_id in selected:
            if fix_id not in FIXES:
                raise KeyError(fix_id)
            by_host.setdefault(host_name, []).append(fix_id)
        outcomes: list[FixOutcome] = []
        on_hosts: list[tuple[Host, HostFacts, list[str]]] = []
        for host_name, fix_ids in by_host.items():
            facts = report.facts(host_name)
            host = self.spec.host(host_name)
            if facts is None:
                outcomes += [FixOutcome(host_name, f, False, "host was not reachable") for f in fix_ids]
                continue
            for fix_id in [f for f in fix_ids if not FIXES[f].on_host]:
                self.ctx.spec = apply_spec_fix(self.spec, HostInput(self.spec, host, facts), fix_id)
                outcomes.append(FixOutcome(host_name, fix_id, True, "recorded in the spec"))
            host_fixes = [f for f in fix_ids if FIXES[f].on_host]
            if host_fixes:
                on_hosts.append((host, facts, host_fixes))
        if on_hosts:  # one host's package install must not wait for another's
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(on_hosts))) as pool:
                for done in pool.map(lambda job: self._run_host_fixes(*job), on_hosts):
                    outcomes += done
        rechecked = self.recheck(report, by_host)
        return self.spec, rechecked, [_confirmed(o, rechecked) for o in outcomes]

    def _run_host_fixes(self, host: Host, facts: HostFacts, fix_ids: list[str]) -> list[FixOutcome]:
        try:
            connection = self.connect(host)
        except Exception as exc:
            return [FixOutcome(host.name, f, False, f"cannot connect: {exc}") for f in fix_ids]
        try:
            password = self.ctx.secrets.become_password

            def output(line: str) -> None:  # the dashboard and the Preflight step show it as it comes
                self.ctx.emit(Event(EventKind.LOG, "preflight", host.name, {"text": line, "level": "info"}))

            return [run_host_fix(connection, host.name, f, facts, password, output) for f in fix_ids]
        finally:
            _close(connection)


def _confirmed(outcome: FixOutcome, report: PreflightReport) -> FixOutcome:
    still_offered = any(r.host == outcome.host and r.fix_id == outcome.fix_id for r in report.results)
    if outcome.ok and still_offered:
        return replace(outcome, ok=False, detail="the command ran but the re-check still fails")
    return outcome


_CROSS_HOST = {"hostname", "machine_id", "storage"}


def _without_cross(report: HostReport) -> HostReport:
    return replace(report, results=tuple(r for r in report.results if r.check not in _CROSS_HOST))


def _in_table_order(results: tuple[CheckResult, ...]) -> tuple[CheckResult, ...]:
    return tuple(sorted(results, key=lambda r: CHECK_IDS.index(r.check) if r.check in CHECK_IDS else 99))


def _close(connection: Any) -> None:
    close = getattr(connection, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):  # a dead connection must not hide the real result
            close()
