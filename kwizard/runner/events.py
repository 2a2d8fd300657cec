"""Translate ansible-runner event dicts into kwizard `Event`s (pure functions, no I/O).

Only what the dashboard, the journal and the diagnostics need is kept: names, hosts, durations and, for
failures, the fields of `res` that explain them (msg, stderr, stdout, module_stdout, rc…), each capped so a
chatty task cannot blow up memory or the journal.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from kwizard.protocol.events import EventKind
from kwizard.protocol.phase import Event
from kwizard.results import failed_items, item_label

# Fields of a module result that explain a failure; everything else (facts, diffs) is dropped.
RESULT_FIELDS = ("msg", "stderr", "stdout", "module_stdout", "module_stderr", "rc", "cmd", "exception")
MAX_FIELD_CHARS = 6000
# A loop over many packages or downloads can fail in every item: enough of them to see the pattern.
MAX_FAILED_ITEMS = 10
MAX_ITEM_FIELD_CHARS = 3000

_HOST_RESULTS = {
    "runner_on_ok": EventKind.HOST_OK,
    "runner_on_failed": EventKind.HOST_FAILED,
    "runner_on_unreachable": EventKind.HOST_UNREACHABLE,
    "runner_on_skipped": EventKind.HOST_SKIPPED,
    "runner_on_start": EventKind.HOST_START,
}
_PROMPT = re.compile(r"^(BECOME|SSH|SUDO|SU) password.*:$", re.IGNORECASE)
_LOG_EVENTS = {"verbose": "info", "warning": "warning", "deprecated": "warning", "error": "error"}
# playbook_on_stats keys → kwizard's names (Ansible calls unreachable hosts "dark").
_STATS_KEYS = {
    "ok": "ok",
    "changed": "changed",
    "failures": "failures",
    "dark": "unreachable",
    "skipped": "skipped",
    "rescued": "rescued",
    "ignored": "ignored",
}


def cap(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """`text` cut to `limit` characters, keeping its head and its tail (where errors usually are)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n… [{len(text) - limit} characters cut] …\n{text[-half:]}"


def failure_details(res: dict[str, Any]) -> dict[str, Any]:
    """The explanatory fields of a failed result, with every failed item of a loop under `results`.

    The items keep Ansible's own shape (`failed`, `item` as the label, msg/stderr/…), so the diagnostics,
    the dashboard and the phases read a translated result exactly as they read one from a log.
    """
    details = _fields(res, MAX_FIELD_CHARS)
    items = failed_items(res)
    if items:
        kept = [
            {"item": cap(item_label(item), 300), "failed": True, **_fields(item, MAX_ITEM_FIELD_CHARS)}
            for item in items[:MAX_FAILED_ITEMS]
        ]
        details["results"] = kept
        if len(items) > MAX_FAILED_ITEMS:
            details["items_cut"] = len(items) - MAX_FAILED_ITEMS
    return details


def _fields(res: Mapping[str, Any], limit: int) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for key in RESULT_FIELDS:
        value = res.get(key)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            value = " ".join(str(v) for v in value)
        details[key] = value if isinstance(value, int | float | bool) else cap(str(value), limit)
    return details


def translate(raw: dict[str, Any], phase: str, now: float | None = None) -> Event | None:
    """The kwizard Event for one ansible-runner event, or None when it carries nothing we show."""
    name = raw.get("event", "")
    data = raw.get("event_data") or {}
    stamp = time.time() if now is None else now
    if name == "playbook_on_play_start":
        return Event(
            EventKind.PLAY_START,
            phase,
            None,
            {"play": data.get("play", ""), "pattern": data.get("play_pattern", "")},
            stamp,
        )
    if name == "playbook_on_task_start":
        return Event(
            EventKind.TASK_START, phase, None, _task_fields(data) | {"uuid": data.get("task_uuid", "")}, stamp
        )
    if name in _HOST_RESULTS:
        return _host_event(name, data, phase, stamp)
    if name == "runner_retry":
        host = data.get("host")
        left = (data.get("res") or {}).get("retries", 0) - (data.get("res") or {}).get("attempts", 0)
        text = f"retrying {data.get('task', '')!r} ({left} retries left)"
        return Event(EventKind.LOG, phase, host, {"text": text, "level": "warning"}, stamp)
    if name == "playbook_on_stats":
        return Event(EventKind.STATS, phase, None, {"hosts": _stats(data)}, stamp)
    if name in _LOG_EVENTS:
        text = (raw.get("stdout") or "").strip()
        if not text or _PROMPT.search(text):
            return None  # blank lines, and the password prompt ansible-runner answers for us
        level = "error" if "ERROR!" in text else _LOG_EVENTS[name]
        return Event(EventKind.LOG, phase, None, {"text": cap(text, 2000), "level": level}, stamp)
    return None


def _task_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "task": data.get("task", "") or data.get("name", ""),
        "action": data.get("task_action", ""),
        "role": data.get("role", ""),
        "play": data.get("play", ""),
        "path": data.get("task_path", ""),
    }


def _host_event(name: str, data: dict[str, Any], phase: str, stamp: float) -> Event:
    found = data.get("res")
    res: dict[str, Any] = found if isinstance(found, dict) else {}
    fields = _task_fields(data)
    kind = _HOST_RESULTS[name]
    if kind == "host_start":
        return Event(
            kind, phase, data.get("host"), {"task": fields["task"], "action": fields["action"]}, stamp
        )
    if kind == "host_ok" and res.get("changed"):
        kind = EventKind.HOST_CHANGED
    payload: dict[str, Any] = {
        "task": fields["task"],
        "action": fields["action"],
        "role": fields["role"],
        "duration": round(float(data.get("duration") or 0.0), 3),
    }
    if kind in ("host_failed", "host_unreachable"):
        payload["path"] = fields["path"]
        payload["play"] = fields["play"]
        payload["ignored"] = bool(data.get("ignore_errors"))
        payload["res"] = failure_details(res)
    return Event(kind, phase, data.get("host"), payload, stamp)


def _stats(data: dict[str, Any]) -> dict[str, dict[str, int]]:
    hosts: dict[str, dict[str, int]] = {
        host: dict.fromkeys(_STATS_KEYS.values(), 0) for host in (data.get("processed") or {})
    }
    for source, target in _STATS_KEYS.items():
        per_host = data.get(source) or {}
        for host, count in per_host.items():
            hosts.setdefault(host, dict.fromkeys(_STATS_KEYS.values(), 0))[target] = int(count)
    return hosts
