"""Ansible text output → failure records: `fatal: [h]: FAILED! => {...}` blocks and their task.

Handles what people actually paste: one-line and pretty-printed JSON, the YAML result format, ad-hoc
`host | FAILED! => {` blocks, loop items (`failed: [h] (item=x) => {...}`), delegated hosts
(`[node1 -> 10.0.0.5]`), log_path prefixes (`2018-07-06 11:06:08,888 p=1 u=x |  fatal: …`) and
truncated blocks (fields are then recovered one by one).
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass, replace
from typing import Any

import yaml

from kwizard.diagnostics.model import RESULT_FIELDS, RecordKind
from kwizard.diagnostics.records import FailureRecord, key_message, record_from_result, with_ssh_reason

MAX_BLOCK_LINES = 5000
MAX_EVIDENCE = 300  # characters of a line shown as evidence

_PLAYBOOK_RESULT = re.compile(
    r"^(?P<prefix>.*?)(?P<word>fatal|failed): \[(?P<host>[^\]\s]+)(?: -> (?P<delegate>[^\]]*))?\]:?"
    r"(?: \(item=.*?\))?(?: (?P<status>FAILED|UNREACHABLE)!)? =>(?P<rest>.*)$"
)
_ADHOC_RESULT = re.compile(
    # Ansible 1.x printed ad-hoc results as `host | FAILED >> {` (and `=>` before a one-line message).
    r"^(?P<prefix>.*?)(?P<host>[^\s|]+) \| (?P<status>FAILED|UNREACHABLE)!? (?:=>|>>)(?P<rest>.*)$"
)
_BARE_RESULT = re.compile(r"^(?P<prefix>.*?)(?P<status>FAILED|UNREACHABLE)! =>(?P<rest>.*)$")
_TASK_HEADER = re.compile(r"(?:TASK|RUNNING HANDLER):? \[(?P<name>.+?)\](?: \*+| *$)")
# Pasted logs often keep only the retry lines, which still name the task.
_RETRY_LINE = re.compile(
    r"FAILED - RETRYING: (?:\[[^\]]+\]: )?(?:HANDLER: )?(?P<name>.+?) \(\d+ retries left\)"
)
_FIELD = re.compile(r'"(?P<key>' + "|".join(RESULT_FIELDS) + r')": "(?P<value>(?:[^"\\]|\\.)*)')
_RC_FIELD = re.compile(r'"rc": (?P<rc>-?\d+)')
_NOT_FAILURE_LINE = re.compile(
    r"^\s*(?:ok|changed|skipping|included|ignoring|PLAY RECAP|PLAY \[|TASK \[|RUNNING HANDLER"
    r"|FAILED - RETRYING)"
)


# `node1 : ok=12 changed=3 unreachable=0 failed=1 skipped=4 rescued=0 ignored=2` (PLAY RECAP lines)
_RECAP_LINE = re.compile(
    r"^(?:.*?\| )?\s*(?P<host>[^\s:]+)\s*: ok=\d+\s+changed=\d+\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)"
)


def recap_line(line: str) -> tuple[str, bool] | None:
    """(host, ended well) of a PLAY RECAP line: no failed and no unreachable result left; else None."""
    found = _RECAP_LINE.match(line)
    if not found:
        return None
    return found.group("host"), found.group("unreachable") == "0" and found.group("failed") == "0"


@dataclass(frozen=True)
class Block:
    """A parsed result block: its record and the line index after it."""

    record: FailureRecord
    end: int  # index of the first line after the block
    ignored: bool


def is_result_start(line: str) -> bool:
    """True when `line` opens an Ansible failed/unreachable result."""
    return bool(_PLAYBOOK_RESULT.match(line) or _ADHOC_RESULT.match(line) or _BARE_RESULT.match(line))


# A result that succeeded and goes on over the next lines: `ok: [h] => {`, the YAML callback's `ok: [h] =>`,
# the minimal/ad-hoc `h | SUCCESS => {` and `h | CHANGED | rc=0 >>` (its stdout follows unindented).
_SUCCESS_OPENER = re.compile(
    r"^(?:.*?\| )?(?:(?:ok|changed): \[[^\]]+\](?: => \(item=.*?\))?(?: \(item=.*?\))? =>\s*\{?\s*$"
    r"|[^\s|]+ \| (?:SUCCESS|CHANGED)(?: \| rc=0)? (?:=>\s*\{?\s*$|>>))"
)
# Lines that end any result's output.
_RESULT_BOUNDARY = re.compile(
    r"^(?:.*?\| )?(?:\}\s*$|(?:fatal|failed|skipping|ok|changed): \[|TASK:? \[|PLAY |RUNNING HANDLER"
    r"|\S+ \| (?:FAILED|UNREACHABLE))"
)


def success_opener(line: str) -> bool | None:
    """True for a line opening a successful multi-line result, False for any other result boundary."""
    if _SUCCESS_OPENER.match(line):
        return True
    if _RESULT_BOUNDARY.match(line):
        return False
    return None


def is_noise(line: str) -> bool:
    """Lines that are never failures themselves (ok/changed/skipping results, headers, retries)."""
    return bool(_NOT_FAILURE_LINE.match(line))


def task_name(line: str) -> str | None:
    """The task name of a `TASK [...]` or `RUNNING HANDLER [...]` header line, or None."""
    found = _TASK_HEADER.search(line) or _RETRY_LINE.search(line)
    return found.group("name") if found else None


def parse_block(lines: list[str], start: int, task: str | None, order: int) -> Block | None:
    """Parse the result block whose first line is `lines[start]`; None when it is not one."""
    line = lines[start]
    found = _PLAYBOOK_RESULT.match(line) or _ADHOC_RESULT.match(line) or _BARE_RESULT.match(line)
    if not found:
        return None
    groups = found.groupdict()
    prefix = groups["prefix"] or ""
    host = groups.get("host")
    kind: RecordKind = "unreachable" if groups.get("status") == "UNREACHABLE" else "failed"
    # Ansible 2.0 printed loop items as `failed: [h] => (item=x) => {...}`
    rest = re.sub(r"^\(item=.*?\) =>\s*", "", groups["rest"].strip())
    payload, end = _payload(lines, start, rest, prefix)
    if end < len(lines) and lines[end].startswith("msg: ") and not payload.get("msg"):
        payload["msg"] = lines[end][5:]  # Ansible ≤2.0 printed the message on its own line
        end += 1
    end = _debug_sections(lines, end, payload)
    end = _traceback_after(lines, end, prefix, payload)
    if payload.get("unreachable") is True:
        kind = "unreachable"
    record = record_from_result(
        kind, host, task, _str(payload.get("action") or payload.get("task_action")), payload, order=order
    )
    delegate = groups.get("delegate")
    if delegate:
        record = replace(record, delegate=delegate.strip())
    evidence = _evidence(task, line)
    message = key_message(record.fields)
    if message and message not in evidence[-1]:
        evidence = (*evidence, f"  → {message}")  # the block spans lines: show what it says
    return Block(
        replace(record, evidence=with_ssh_reason(evidence, record.fields)), end, _ignored(lines, end)
    )


def _payload(lines: list[str], start: int, rest: str, prefix: str) -> tuple[dict[str, Any], int]:
    if rest.startswith("{"):
        try:
            return _as_dict(json.loads(rest)), start + 1
        except ValueError:
            pass
        if rest.endswith("}") and len(rest) < 100_000:
            try:  # Ansible 1.x printed Python dict reprs: {'msg': 'FAILED: timed out', 'failed': True}
                return _as_dict(ast.literal_eval(rest)), start + 1
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                pass
        return _multiline_json(lines, start, rest, prefix)
    if rest == "" or re.match(r"^\w+=", rest):
        return _yaml_block(lines, start, rest, prefix)
    return {"msg": rest}, start + 1  # Ansible 1.x: `fatal: [h] => SSH Error: …`


_SECTIONS = {"MSG:": "msg", "STDERR:": "stderr", "STDOUT:": "stdout", "MODULE_STDERR:": "module_stderr"}


def _debug_sections(lines: list[str], end: int, payload: dict[str, Any]) -> int:
    """The `debug` stdout callback prints msg/stdout/stderr after the block as `MSG:` paragraphs."""
    index = end
    while index < len(lines) and not lines[index].strip():
        index += 1
    while index < len(lines) and lines[index].strip() in _SECTIONS:
        key = _SECTIONS[lines[index].strip()]
        index += 1
        body: list[str] = []
        while index < len(lines) and not lines[index].strip():
            index += 1
        while index < len(lines) and lines[index].strip() and len(body) < MAX_BLOCK_LINES:
            body.append(lines[index])
            index += 1
        payload[key] = "\n".join(filter(None, [_text(payload.get(key)), *body]))
        end = index
        while index < len(lines) and not lines[index].strip():
            index += 1
    return end


MAX_TRACEBACK_LINES = 200


# What become printed before the module ran (`sudo` succeeded); old Ansible showed it with the output.
_BECOME_MARKER = re.compile(r"^(?:SUDO|BECOME|SU)-SUCCESS-\w+$")
_TRACEBACK = "Traceback (most recent call last)"


def _traceback_after(lines: list[str], end: int, prefix: str, payload: dict[str, Any]) -> int:
    """Old Ansible printed a module's traceback as plain lines after `failed: [h] => {...}`: keep it."""
    start = end
    if start < len(lines) and _BECOME_MARKER.match(_strip(lines[start], prefix).strip()):
        start += 1
    if start >= len(lines) or not _strip(lines[start], prefix).startswith(_TRACEBACK):
        return end
    body: list[str] = []
    index = start
    while index < len(lines) and len(body) < MAX_TRACEBACK_LINES:
        text = _strip(lines[index], prefix)
        if not text.strip() or is_result_start(lines[index]) or task_name(lines[index]) or is_noise(text):
            break
        body.append(text)
        index += 1
    payload["module_stdout"] = "\n".join(filter(None, [_text(payload.get("module_stdout")), *body]))
    return index


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strip(line: str, prefix: str) -> str:
    return line[len(prefix) :] if prefix and line.startswith(prefix) else line


def _multiline_json(lines: list[str], start: int, rest: str, prefix: str) -> tuple[dict[str, Any], int]:
    collected = [rest]
    index = start + 1
    limit = min(len(lines), start + MAX_BLOCK_LINES)
    while index < limit:
        text = _strip(lines[index], prefix)
        collected.append(text)
        index += 1
        if text.strip() in ("}", "}'", '}"'):
            try:
                return _as_dict(json.loads("\n".join(collected).rstrip("'\""))), index
            except ValueError:
                continue
        if is_result_start(lines[index - 1]) or task_name(lines[index - 1]):
            index -= 1  # a truncated paste ran into the next result
            collected.pop()
            break
    return _salvage("\n".join(collected)), index


def _yaml_block(lines: list[str], start: int, rest: str, prefix: str) -> tuple[dict[str, Any], int]:
    inline = dict(pair.split("=", 1) for pair in rest.split() if "=" in pair)
    body: list[str] = []
    index = start + 1
    while index < len(lines) and index < start + MAX_BLOCK_LINES:
        text = _strip(lines[index], prefix)
        if text.strip() and not text[:1].isspace():
            break
        body.append(text)
        index += 1
    try:
        parsed = yaml.safe_load(textwrap.dedent("\n".join(body))) if body else {}
    except yaml.YAMLError:
        parsed = None
    result: dict[str, Any] = dict(inline)
    if isinstance(parsed, dict):
        result.update(parsed)
    elif body:
        result["msg"] = "\n".join(body)
    if isinstance(result.get("rc"), str) and result["rc"].lstrip("-").isdigit():
        result["rc"] = int(result["rc"])
    return result, index


def _salvage(text: str) -> dict[str, Any]:
    """Fields of a JSON block that does not parse (cut off in a paste): recover them one by one."""
    out: dict[str, Any] = {}
    for found in _FIELD.finditer(text):
        try:
            value = json.loads('"' + found.group("value") + '"')
        except ValueError:
            value = found.group("value")
        key = found.group("key")
        out[key] = (out.get(key, "") + "\n" + value).strip()
    rc = _RC_FIELD.search(text)
    if rc:
        out["rc"] = int(rc.group("rc"))
    if not out:
        out["msg"] = text
    return out


def _ignored(lines: list[str], end: int) -> bool:
    for line in lines[end : end + 3]:
        if line.strip():
            return line.strip().endswith("...ignoring")
    return False


def _evidence(task: str | None, line: str) -> tuple[str, ...]:
    shown = line.strip()
    if len(shown) > MAX_EVIDENCE:
        shown = shown[: MAX_EVIDENCE - 1] + "…"
    return (f"TASK [{task}]", shown) if task else (shown,)


def text_evidence(line: str) -> tuple[str, ...]:
    """Evidence of a free-text line."""
    return _evidence(None, line)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"msg": value}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
