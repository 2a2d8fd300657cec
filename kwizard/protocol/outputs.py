"""What phases hand to later phases, typed: each phase that others read writes its output through one of
these frozen dataclasses, and readers get it back with `Output.of(results)` instead of indexing dicts.

`PhaseContext.results` and the journal keep plain JSON (a resumed run reads the journal of an earlier
kwizard); `to_data()` and `of()` convert, and `of()` returns None when the phase has not run or its
data is not of this shape, so a reader decides what a missing output means. The field names are the
keys the journal has always held, so runs journaled before these types existed read back the same.

`kwizard.phases.REGISTRY` names each pipeline phase's output type (`output_type(phase)`); the day-2
phases whose data a later step reads (etcd-snapshot, stage-snapshot, a Kubespray playbook run under its
phase name) have theirs here too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Output:
    PHASE: ClassVar[str] = ""

    def to_data(self) -> dict[str, Any]:
        """JSON-able, as PhaseResult.data."""
        return dataclasses.asdict(self)

    @classmethod
    def of(cls, results: Mapping[str, Any], phase: str = "") -> Self | None:
        """This phase's output in `results` (PhaseContext.results or the journal's), or None.

        `phase` names the phase when another one than PHASE writes this shape (a day-2 run's reset.yml
        is a Kubespray playbook run too)."""
        data = results.get(phase or cls.PHASE)
        if not isinstance(data, Mapping):
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError:  # an earlier kwizard's data without a field this one needs
            return None


@dataclass(frozen=True)
class AccessOutput(Output):
    PHASE: ClassVar[str] = "access"

    key: str  # the private key every host now accepts (Ansible logs in with it)
    public_key: str
    fingerprint: str
    generated: bool  # kwizard made the key pair in this run
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # host → its access row


@dataclass(frozen=True)
class PreflightOutput(Output):
    PHASE: ClassVar[str] = "preflight"

    # host → the Python the inventory names as ansible_python_interpreter
    python_interpreters: dict[str, str] = field(default_factory=dict)
    # host → measured facts (memory_mb, cpus, python3, swap_mb…): the evidence diagnostics weighs
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocking: list[str] = field(default_factory=list)  # CHECK@HOST keys of failures that stop a run
    acknowledged: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)  # the whole PreflightReport as JSON

    def interpreter(self, host: str) -> str | None:
        value = self.python_interpreters.get(host)
        return value if isinstance(value, str) and value.startswith("/") else None


@dataclass(frozen=True)
class KubeconfigOutput(Output):
    PHASE: ClassVar[str] = "kubeconfig"

    context: str  # the kubectl context kwizard merged (the cluster's name)
    server: str  # the API server URL kubectl uses
    kubeconfig: str  # the cluster's own kubeconfig in its workspace
    merged_into: str  # the kubeconfig the context was merged into (~/.kube/config or $KUBECONFIG)
    server_source: str = ""
    backup: str | None = None  # the merged file's copy made before the change
    current_context: str | None = None
    admin_conf_source: str = ""
    api_check: str = "ok"  # "ok" or why `kubectl --context` would fail

    @property
    def api_problem(self) -> str | None:
        return None if self.api_check == "ok" else self.api_check


@dataclass(frozen=True)
class Served:
    """One node × virtual host probe of the load balancer: did the node serve the host?"""

    node: str
    host: str
    outcome: str  # "ok", "refused", "timeout", "not_found", …
    status: int | None = None  # the HTTP status, when there was an answer

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True)
class VerifiedOutput(Output):
    """A phase that probes what the load balancer serves (loadbalancer, apps)."""

    manifests: list[str] = field(default_factory=list)
    verification: dict[str, Any] = field(default_factory=dict)  # VerifyReport.to_data()

    def served(self) -> list[Served]:
        rows = self.verification.get("results", [])
        return [
            Served(str(r["node"]), str(r["host"]), str(r.get("outcome")), r.get("status"))
            for r in rows
            if isinstance(r, Mapping) and "node" in r and "host" in r
        ]


@dataclass(frozen=True)
class LoadBalancerOutput(VerifiedOutput):
    PHASE: ClassVar[str] = "loadbalancer"

    lb_nodes: list[dict[str, str]] = field(default_factory=list)  # {"name", "address"}
    node_ports: dict[str, int] = field(default_factory=dict)  # {"http", "https"}
    dns_zone_lines: list[str] = field(default_factory=list)
    route53_change_batch: dict[str, Any] | None = None
    controller_image: str = ""


@dataclass(frozen=True)
class AppsOutput(VerifiedOutput):
    PHASE: ClassVar[str] = "apps"

    # {"url", "host", "image", "user", "password_command"} when Grafana was deployed
    grafana: dict[str, str] | None = None

    @property
    def grafana_password_command(self) -> str | None:
        return (self.grafana or {}).get("password_command") or None


@dataclass(frozen=True)
class KubesprayOutput(Output):
    """A Kubespray playbook run (cluster.yml; a day-2 run's reset.yml, scale.yml… under their phase)."""

    PHASE: ClassVar[str] = "kubespray"

    version: str  # the Kubespray release that ran
    playbook: str
    kubespray: str = ""  # its checkout
    venv: str = ""
    rc: int | None = None
    artifact_dir: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SnapshotOutput(Output):
    """backup's etcd-snapshot phase: the snapshot taken on an etcd member, fetched by the next phase."""

    PHASE: ClassVar[str] = "etcd-snapshot"

    host: str
    remote_dir: str
    remote: str
    file: str
    sha256: str
    taken_at: str
    time: float
    status: dict[str, Any] = field(default_factory=dict)  # `etcdctl snapshot status` as JSON


@dataclass(frozen=True)
class StagedSnapshotOutput(Output):
    """restore's stage-snapshot phase: where the snapshot waits on every etcd member."""

    PHASE: ClassVar[str] = "stage-snapshot"

    remote: str
    stage_dir: str


def output_type(phase: str) -> type[Output] | None:
    """The output type kwizard.phases.REGISTRY records for `phase` (None: nothing reads its data)."""
    from kwizard.phases import phase_info

    name = phase_info(phase).output
    found = globals().get(name) if name else None
    return found if isinstance(found, type) and issubclass(found, Output) else None
