"""Failure records: the one shape every input (live events, logs, pasted blocks, artifacts) becomes.

A record is a failed or unreachable task result (host, task, module, msg/stderr/stdout/module_stdout,
rc) or one line of free text that is not part of an Ansible result (kubeadm preflight output, journal
lines, `kubectl describe` events). Rules only ever look at records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kwizard.diagnostics.model import RESULT_FIELDS, RecordKind
from kwizard.results import GENERIC_MESSAGE, failed_items

# ansible-runner event names → record kinds. Everything else (ok, skipped, retries that later
# succeed, verbose output) is not a failure and never reaches the rules.
RUNNER_EVENT_KINDS: dict[str, RecordKind] = {
    "runner_on_failed": "failed",
    "runner_item_on_failed": "failed",
    "runner_on_unreachable": "unreachable",
}
# kwizard.protocol.phase.Event kinds for the same results.
ENGINE_EVENT_KINDS: dict[str, RecordKind] = {"host_failed": "failed", "host_unreachable": "unreachable"}

MAX_FIELD = 20_000  # a result's stdout can be megabytes; its head and tail carry the error
# Result keys that carry error text but are no clause field of their own (old get_url/uri results).
EXTRA_TEXT_FIELDS: tuple[str, ...] = ("response", "url")


@dataclass(frozen=True)
class FailureRecord:
    """One thing that went wrong, as a rule sees it."""

    kind: RecordKind
    host: str | None = None
    task: str | None = None
    action: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    rc: int | None = None
    evidence: tuple[str, ...] = ()  # the lines a user should see as proof
    order: int = 0  # position in the input, so earlier failures rank first on ties
    nearby: str = ""  # the lines around a record found in a text log (for `also` patterns)
    # The host a task was delegated to (`[node1 -> localhost]`): the failure happened there, not on `host`.
    delegate: str | None = None

    @property
    def on_controller(self) -> bool:
        """True when the task ran on the machine running Ansible (delegated to localhost)."""
        return self.delegate in ("localhost", "127.0.0.1", "::1")

    @property
    def text(self) -> str:
        """Everything the record says, for `text` patterns."""
        return "\n".join(v for v in self.fields.values() if v)


def _clip(value: str) -> str:
    if len(value) <= MAX_FIELD:
        return value
    half = MAX_FIELD // 2
    return value[:half] + "\n…\n" + value[-half:]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_as_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def result_fields(res: Mapping[str, Any]) -> dict[str, str]:
    """The text fields of an Ansible result, flattened (loop results and nested msgs included)."""
    out: dict[str, str] = {}
    for name in (*RESULT_FIELDS, *EXTRA_TEXT_FIELDS):
        text = _as_text(res.get(name))
        if text:
            out[name] = _clip(text)
    # A failed loop reports its items under `results`, a failed fact gathering its modules under
    # `failed_modules`: their messages are the real errors.
    nested: list[Any] = list(failed_items(res))
    if isinstance(res.get("failed_modules"), Mapping):
        nested.extend(m for m in res["failed_modules"].values() if isinstance(m, Mapping) and m.get("failed"))
    for item in nested:
        if isinstance(item, Mapping):
            for name, text in result_fields(item).items():
                out[name] = _clip((out.get(name, "") + "\n" + text).strip())
    return out


# Ansible puts ssh's own stderr after these words ("Data could not be sent … over ssh: <stderr>").
_SSH_SAYS = re.compile(
    r"(?:Failed to connect to the host via ssh|Make sure this host can be reached over ssh):"
)
# What ssh prints on the way that is not why it failed (and Ansible's stand-in under no_log).
_SSH_CHATTER = re.compile(
    r"^(?:Warning: Permanently added|debug\d: |\*\* |OpenSSH_\d|Pseudo-terminal will not be allocated"
    r"|<error censored due to no log>)"
)
MAX_SSH_REASON = 300


def ssh_reason(message: str) -> str:
    """ssh's own reason in an Ansible connection failure message; "" when Ansible passed none on."""
    ends = [found.end() for found in _SSH_SAYS.finditer(message)]
    if not ends:
        return ""
    lines = [line.strip() for line in message[ends[-1] :].splitlines()]
    reason = " ".join(line for line in lines if line and not _SSH_CHATTER.match(line))
    return reason if len(reason) <= MAX_SSH_REASON else reason[: MAX_SSH_REASON - 1] + "…"


def with_ssh_reason(evidence: tuple[str, ...], fields: Mapping[str, str]) -> tuple[str, ...]:
    """`evidence` plus ssh's own reason, quoted, when the record has one."""
    reason = fields.get("ssh_reason", "")
    return (*evidence, f"ssh said: {reason}") if reason else evidence


def _rc(res: Mapping[str, Any]) -> int | None:
    value = res.get("rc")
    if value is None and isinstance(res.get("failed_modules"), Mapping):
        codes = [_rc(m) for m in res["failed_modules"].values() if isinstance(m, Mapping)]
        value = next((c for c in codes if c is not None), None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_from_result(
    kind: RecordKind,
    host: str | None,
    task: str | None,
    action: str | None,
    res: Mapping[str, Any],
    evidence: tuple[str, ...] = (),
    order: int = 0,
) -> FailureRecord:
    """A record from an Ansible result dictionary."""
    fields = result_fields(res)
    reason = ssh_reason(fields.get("msg", ""))
    if reason:
        fields["ssh_reason"] = reason
    return FailureRecord(kind, host, task, action, fields, _rc(res), evidence, order)


def key_message(fields: Mapping[str, str]) -> str:
    """The most telling message of a result, on one line (an assert's expression, a module's stderr…)."""
    order = ("msg", "stderr", "module_stderr", "module_stdout", "assertion", "stdout", "response")
    if not fields.get("msg") or GENERIC_MESSAGE.search(fields["msg"]):
        order = ("module_stdout", "module_stderr", "stderr", "assertion", "msg", "stdout", "response")
    text = next((fields[f] for f in order if fields.get(f, "").strip()), "")
    text = " ".join(text.split())
    return text if len(text) <= 240 else text[:239] + "…"


def summary_line(record: FailureRecord) -> str:
    """A one-line evidence summary of a structured record."""
    where = f"TASK [{record.task}]" if record.task else "task"
    who = f" on {record.host}" if record.host else ""
    return f"{where}{who} {record.kind}: {key_message(record.fields)}".rstrip(": ")


def record_from_runner_event(event: Mapping[str, Any], order: int = 0) -> FailureRecord | None:
    """A record from one ansible-runner event (`job_events/*.json` or `event_handler`), or None."""
    kind = RUNNER_EVENT_KINDS.get(str(event.get("event", "")))
    data = event.get("event_data")
    if kind is None or not isinstance(data, Mapping) or data.get("ignore_errors"):
        return None
    res = _res(data)
    record = record_from_result(
        kind,
        _str(data.get("host")),
        _str(data.get("task")),
        _str(data.get("task_action")),
        res,
        order=order,
    )
    return _with_summary(record, data)


def record_from_engine_event(
    kind_name: str, host: str | None, data: Mapping[str, Any], order: int = 0
) -> FailureRecord | None:
    """A record from a kwizard `Event` (kind, host, data shaped like runner event_data)."""
    kind = ENGINE_EVENT_KINDS.get(kind_name) or RUNNER_EVENT_KINDS.get(str(data.get("event", "")))
    if kind is None or data.get("ignore_errors"):
        return None
    res = _res(data)
    record = record_from_result(
        kind,
        host or _str(data.get("host")),
        _str(data.get("task")),
        _str(data.get("task_action") or data.get("action")),
        res,
        order=order,
    )
    return _with_summary(record, data)


def _with_summary(record: FailureRecord, data: Mapping[str, Any]) -> FailureRecord:
    delegated = _res(data).get("_ansible_delegated_vars")
    delegate = _str(delegated.get("ansible_host")) if isinstance(delegated, Mapping) else None
    return replace(
        record,
        evidence=with_ssh_reason((summary_line(record),), record.fields),
        delegate=delegate or record.delegate,
    )


def _res(data: Mapping[str, Any]) -> Mapping[str, Any]:
    res = data.get("res")
    return res if isinstance(res, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
