"""What discovery sources produce: candidate hosts, and problems tied to the input that caused them."""

from __future__ import annotations

from dataclasses import dataclass, field

from kwizard.spec import Role


@dataclass(frozen=True)
class Candidate:
    """A host found by a source, before it gets a unique name and roles."""

    address: str
    name: str | None = None  # a suggestion (ssh_config alias, EC2 Name tag, terraform map key)
    port: int | None = None
    user: str | None = None
    ip: str | None = None  # the address the host binds to, when `address` is not one of its own (EC2)
    az: str | None = None
    instance_type: str | None = None
    roles: tuple[Role, ...] = ()  # roles the user typed for this host: taken as they are
    role_hints: tuple[str, ...] = ()  # control_plane / etcd / worker, e.g. from terraform output names
    source: str = "typed"


@dataclass(frozen=True)
class HostProblem:
    """One bad input (a token, a line, a host) with the reason and the fix; the others still count."""

    subject: str
    problem: str
    fix: str = ""


@dataclass(frozen=True)
class Discovery:
    """The outcome of one source: candidates, problems and, when the source knows one, a bastion."""

    candidates: tuple[Candidate, ...] = ()
    problems: tuple[HostProblem, ...] = ()
    bastion: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
