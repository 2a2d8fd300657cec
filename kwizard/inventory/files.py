"""The inventory files as changes against the disk: what the Review screen shows and what gets written."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kwizard.fsutil import atomic_write, ensure_private_dir
from kwizard.inventory.render import render
from kwizard.paths import Workspace
from kwizard.spec import ClusterSpec

ChangeStatus = Literal["new", "changed", "unchanged"]


@dataclass(frozen=True)
class FileChange:
    """One generated file: its new text and what is on disk now (None when absent)."""

    relative: str
    path: Path
    new_text: str
    old_text: str | None

    @property
    def status(self) -> ChangeStatus:
        if self.old_text is None:
            return "new"
        return "unchanged" if self.old_text == self.new_text else "changed"

    def diff(self) -> str:
        """Unified diff from the file on disk to the new text ('' when unchanged)."""
        if self.status == "unchanged":
            return ""
        old = (self.old_text or "").splitlines(keepends=True)
        new = self.new_text.splitlines(keepends=True)
        before = f"a/{self.relative}" if self.old_text is not None else "/dev/null"
        return "".join(difflib.unified_diff(old, new, before, f"b/{self.relative}"))


def plan(spec: ClusterSpec, ws: Workspace, results: Mapping[str, Any] | None = None) -> list[FileChange]:
    """The inventory files of `spec` compared with the workspace's current ones."""
    rendered = render(spec, ws.known_hosts, results)
    changes = []
    for relative, text in rendered.files.items():
        path = ws.inventory_dir / relative
        changes.append(FileChange(relative, path, text, _read(path)))
    return changes


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return ""  # not text kwizard wrote: show it as replaced


def write(changes: list[FileChange], inventory_dir: Path) -> list[Path]:
    """Write the new and changed files atomically (0600, folders 0700); returns the paths written."""
    written = []
    for change in changes:
        if change.status == "unchanged":
            continue
        folder = inventory_dir
        ensure_private_dir(folder)
        for part in change.path.parent.relative_to(inventory_dir).parts:
            folder = ensure_private_dir(folder / part)
        atomic_write(change.path, change.new_text)
        written.append(change.path)
    return written
