"""Failed Ansible results as every reader sees them: the failed items of a loop, and one telling message.

A looped task (`loop`, `with_items`) fails with only "One or more items failed"; what went wrong is in its
failed items. The runner's event translation, the diagnostics, the dashboard's failure line and the phases'
summaries all read those items through this module, so none of them can miss one again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Messages that only say *that* something failed; the module's own output says what.
GENERIC_MESSAGE = re.compile(
    r"^(?:MODULE FAILURE|non-zero return code|Assertion failed|All items completed|One or more items failed)|"
    r"module failed to execute correctly|The following modules failed to execute"
)
_MESSAGE_FIELDS = ("msg", "stderr", "module_stderr", "module_stdout", "stdout")
_OUTPUT_FIRST = ("stderr", "module_stderr", "module_stdout", "msg", "stdout")


def failed_items(res: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The failed (or unreachable) items of a loop result, in loop order; [] for a task without a loop.

    Journals written before every item was kept hold the first failed item alone under `item`
    (`{"label": …, "msg": …}`); it is read as well, so their runs can still be diagnosed.
    """
    items = res.get("results")
    found = (
        [i for i in items if isinstance(i, Mapping) and (i.get("failed") or i.get("unreachable"))]
        if isinstance(items, list)
        else []
    )
    legacy = res.get("item")
    if not found and isinstance(legacy, Mapping) and "label" in legacy:
        found = [legacy]
    return found


def item_label(item: Mapping[str, Any]) -> str:
    """What Ansible shows as `(item=…)`: the loop_control label when the task set one."""
    for key in ("_ansible_item_label", "label", "item"):
        value = item.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def result_message(res: Mapping[str, Any]) -> str:
    """The most telling line of one result: its msg, or its output when the msg is only generic."""
    msg = str(res.get("msg") or "")
    order = _OUTPUT_FIRST if not msg.strip() or GENERIC_MESSAGE.search(msg) else _MESSAGE_FIELDS
    for key in order:
        value = res.get(key)
        lines = [line.strip() for line in str(value or "").splitlines() if line.strip()]
        if lines:
            # apt and dnf put their error after progress lines: the last `E:`/`Error:` line says it.
            errors = [line for line in lines if line.startswith(("E:", "Error:", "fatal:"))]
            return errors[0] if errors and key != "msg" else lines[0]
    return ""


def failure_message(res: Mapping[str, Any], limit: int = 300) -> str:
    """One line saying why a task failed; for a loop, each failed item with its label."""
    items = failed_items(res)
    if items:
        parts = []
        for item in items:
            label, message = item_label(item), result_message(item) or "failed"
            parts.append(f"{label}: {message}" if label else message)
        text = "; ".join(parts)
    else:
        text = result_message(res) or "(no message)"
    return text if len(text) <= limit else text[: limit - 1] + "…"
