"""Persistent storage for the cluster: GlusterFS (kwizard's playbook), AWS EBS CSI, local-path or none.

The phase entry point is `run_phase`; the wizard uses `default_storage_type`, `options_for` and the texts;
preflight uses `storage_checks` with `device_probe_command`/`parse_device_probe`.
"""

from __future__ import annotations

from kwizard.storage.checks import (
    DeviceFacts,
    StorageCheck,
    device_probe_command,
    parse_device_probe,
    storage_checks,
)
from kwizard.storage.choice import (
    STORAGE_OPTIONS,
    WHY_NOT_IN_TREE,
    StorageOption,
    default_storage_type,
    option,
    options_for,
)
from kwizard.storage.phase import run_phase
from kwizard.storage.summary import summary_text

__all__ = [
    "STORAGE_OPTIONS",
    "WHY_NOT_IN_TREE",
    "DeviceFacts",
    "StorageCheck",
    "StorageOption",
    "default_storage_type",
    "device_probe_command",
    "option",
    "options_for",
    "parse_device_probe",
    "run_phase",
    "storage_checks",
    "summary_text",
]
