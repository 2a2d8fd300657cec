"""The known-error rules as a validated model: what a rule matches, what it means, how to fix it.

Rules are data (`rules/*.yaml` in this package). A rule matches when any of its clauses matches one
failure record; a clause is a combination (task name AND module AND msg pattern AND rc …), never a lone
regex on a line unless the clause says so with `text`. Context entries re-rank a match with evidence
kwizard already has (preflight measurements, the preset): a scheduler that never came up on a host
measured at 1 GB is a memory problem, not a scheduler problem.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The categories of the issue, plus the ones real failures in the corpus called for.
CATEGORIES: tuple[str, ...] = (
    "python_interpreter_missing",
    "ssh_unreachable",
    "ssh_auth_failed",
    "host_key_verification",
    "sudo_password_required",
    "insufficient_memory",
    "insufficient_cpu",
    "swap_enabled",
    "ip_forward_disabled",
    "unsupported_os",
    "ansible_version_mismatch",
    "download_failed",
    "proxy_misconfigured",
    "dns_resolution",
    "etcd_unhealthy",
    "kubeconfig_missing",
    "container_runtime",
    "apt_lock",
    "disk_space",
    "volume_plugin_missing",
    "gluster_permission",
    "time_sync",
    "firewall_ports",
    "inventory_invalid",
    # Added: seen in real Kubespray failures, with their own fix.
    "control_plane_unhealthy",
    "controller_dependency_missing",
    "confirmation_required",
    "facts_cache_missing",
)

# What a record can be: a failed or unreachable task result, or a line of free text (kubeadm output,
# journal lines, `kubectl describe` events) that is not part of an Ansible result.
RecordKind = Literal["failed", "unreachable", "text"]
# Clauses match Ansible results unless they opt in to free text (each free-text pattern costs the
# scanner one more literal to search for).
DEFAULT_KINDS: tuple[RecordKind, ...] = ("failed", "unreachable")

# Text fields of an Ansible result a clause may test ("assertion" is what a failed assert evaluated).
RESULT_FIELDS: tuple[str, ...] = ("msg", "stderr", "stdout", "module_stdout", "module_stderr", "assertion")
# Fields kwizard derives from a result: ssh's own reason in a connection failure ("" when Ansible kept none).
DERIVED_FIELDS: tuple[str, ...] = ("ssh_reason",)
CLAUSE_FIELDS: tuple[str, ...] = (*RESULT_FIELDS, *DERIVED_FIELDS)

Confidence = Annotated[float, Field(ge=0.0, le=1.0)]
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compile(pattern: str, where: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}: invalid regular expression {pattern!r}: {exc}") from exc
    return pattern


class Clause(_Strict):
    """One way a rule can match: every field given must match the same record."""

    kind: list[RecordKind] = Field(default_factory=lambda: list(DEFAULT_KINDS))
    task: str | None = None  # regex on the task name
    action: list[str] | None = None  # module names; "ansible.builtin.uri" also matches "uri"
    msg: str | None = None
    stderr: str | None = None
    stdout: str | None = None
    module_stdout: str | None = None
    module_stderr: str | None = None
    assertion: str | None = None
    ssh_reason: str | None = None
    text: str | None = None  # regex on everything the record says (all fields, or the free-text line)
    rc: list[int] | None = None
    unless: str | None = None  # regex on the whole record that vetoes the clause
    # Regexes that must also match: in the record, in the lines around it, or in another failure.
    also: list[str] = Field(default_factory=list)
    # Fields that must be empty: e.g. "Data could not be sent" means something only when ssh said nothing.
    without: list[str] = Field(default_factory=list)
    confidence: Confidence | None = None  # defaults to the rule's confidence
    anchor: str | None = None  # literal the fast text scanner looks for, when it cannot be derived
    # The corpus cases (tests/fixtures/diagnostics/corpus/NAME.yaml) this clause was written from; the
    # held-out measurement never lets a clause judge the case it was derived from.
    derived_from: list[str] = Field(default_factory=list)

    @field_validator(
        "task",
        "msg",
        "stderr",
        "stdout",
        "module_stdout",
        "module_stderr",
        "assertion",
        "ssh_reason",
        "text",
        "unless",
    )
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else _compile(value, "pattern")

    @field_validator("also")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        return [_compile(v, "also") for v in value]

    @field_validator("without")
    @classmethod
    def _field_names(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in CLAUSE_FIELDS]
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; known: {', '.join(CLAUSE_FIELDS)}")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Clause:
        if not self.patterns() and self.rc is None and self.task is None:
            raise ValueError("a clause needs at least one pattern (task, msg, stderr, …, text) or rc")
        if self.kind == ["text"] and any(getattr(self, f) for f in CLAUSE_FIELDS):
            raise ValueError("a clause for free text lines can only use `text`, not result fields")
        return self

    def patterns(self) -> dict[str, str]:
        """The content patterns of this clause, by field name ('text' included)."""
        fields = (*CLAUSE_FIELDS, "text")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not None}


HostFact = Literal[
    "memory_mb",
    "cpus",
    "python3",
    "ip_forward",
    "swap_mb",
    "disk_free_mb",
    "clock_offset_s",
    "os_supported",
    "systemd",
    "stub_resolver",
]
Setting = Literal["proxy", "storage", "target"]


class ContextRule(_Strict):
    """Evidence that changes how sure kwizard is (up or down), e.g. `memory_mb below 1700`."""

    fact: HostFact | None = None  # a measured fact of the host the record concerns
    setting: Setting | None = None  # a setting of the cluster (from the preset)
    below: float | None = None
    at_least: float | None = None
    equals: bool | str | None = None
    confidence: Confidence
    remedy: str | None = None  # a remedy that fits better with this evidence
    note: str  # shown as an evidence line; may use {host} and {value}

    @model_validator(mode="after")
    def _one_subject(self) -> ContextRule:
        if (self.fact is None) == (self.setting is None):
            raise ValueError("a context entry names exactly one of `fact` or `setting`")
        if self.below is None and self.at_least is None and self.equals is None:
            raise ValueError("a context entry needs a condition: below, at_least or equals")
        return self


class Rule(_Strict):
    """A known error: how to recognise it, what really causes it, how to fix it."""

    id: Identifier
    category: str
    title: str
    explanation: str
    fix: list[str] = Field(min_length=1)
    remedy: str | None = None
    links: list[Annotated[str, Field(pattern=r"^https://")]] = Field(default_factory=list)
    confidence: Confidence = 0.8
    # A fallback rule names a failure no other rule explains; it is dropped for a record another rule matches.
    fallback: bool = False
    # A symptom (a component that never became healthy, a download that failed) ranks below any cause
    # found with some confidence in the same input: the cause is what the user has to fix.
    symptom: bool = False
    match: list[Clause] = Field(min_length=1)
    context: list[ContextRule] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}; known: {', '.join(CATEGORIES)}")
        return value


class RemedyAction(_Strict):
    """What applying a remedy does, in terms the engine can execute and show."""

    kind: Literal["inventory_var", "extra_var", "run_playbook_first", "host_command", "prompt_secret"]
    name: str | None = None  # variable, playbook or secret name
    value: str | bool | int | None = None
    command: str | None = None  # for host_command: a fixed shell command, run with become, no user input
    script: str | None = None  # for host_command: one of kwizard.hostfixes.SCRIPTS (the preflight's fix)
    probe: str | None = None  # optional command whose output refines `value` (e.g. which python exists)

    @model_validator(mode="before")
    @classmethod
    def _script_text(cls, data: Any) -> Any:
        """`script: NAME` brings the command's text from kwizard.hostfixes."""
        if isinstance(data, dict) and data.get("script") is not None:
            from kwizard.hostfixes import SCRIPTS

            name = data["script"]
            if name not in SCRIPTS:
                raise ValueError(f"unknown script {name!r}; known: {', '.join(SCRIPTS)}")
            if data.get("command") is not None:
                raise ValueError("a remedy has either a command or a script, not both")
            data = {**data, "command": SCRIPTS[name]}
        return data

    @model_validator(mode="after")
    def _complete(self) -> RemedyAction:
        needs_name = self.kind in ("inventory_var", "extra_var", "run_playbook_first", "prompt_secret")
        if needs_name and not self.name:
            raise ValueError(f"a {self.kind} remedy needs a name")
        if self.kind == "host_command" and not self.command:
            raise ValueError("a host_command remedy needs a command")
        return self


class Remedy(_Strict):
    """An automatic fix kwizard can apply before retrying."""

    id: Identifier
    title: str
    description: str
    action: RemedyAction
    scope: Literal["host", "run"] = "host"  # per failed host, or once for the whole run
