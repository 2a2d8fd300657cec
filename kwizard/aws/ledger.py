"""The ledger: every AWS resource kwizard created for a cluster, by a stable key ("vpc", "nat:eu-west-1a").

It lives in the cluster's folder (0700) as `aws-ledger.json` (0600) and is rewritten atomically after
every create, so a kwizard killed at any point leaves a ledger naming everything it had seen created.
Resources are also tagged with the cluster and their key at creation, which covers the one gap (killed
between AWS answering and the ledger being written): a re-run finds them by tag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kwizard.errors import KwizardError
from kwizard.fsutil import atomic_write, ensure_private_dir

LEDGER_FILE = "aws-ledger.json"
LEDGER_VERSION = 1


@dataclass(frozen=True)
class Entry:
    key: str  # kwizard's name for it: "vpc", "subnet:private:eu-west-1a", "instance:cp-a"…
    kind: str  # vpc, subnet, igw, route-table, security-group, instance, eip, nat-gateway, iam-role…
    id: str  # the AWS id (or name, for IAM)


@dataclass
class Ledger:
    path: Path
    cluster: str
    region: str = ""
    entries: dict[str, Entry] = field(default_factory=dict)

    @classmethod
    def load(cls, cluster_dir: Path, cluster: str) -> Ledger:
        path = cluster_dir / LEDGER_FILE
        if not path.exists():
            return cls(path, cluster)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = {e["key"]: Entry(e["key"], e["kind"], e["id"]) for e in data.get("resources", [])}
            return cls(path, str(data.get("cluster", cluster)), str(data.get("region", "")), entries)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KwizardError(
                "The AWS ledger cannot be read",
                f"{path}: {exc}",
                "Restore it from a backup; without it kwizard still finds its resources by their "
                "kwizard:cluster tag (move the file away and run again).",
            ) from None

    def get(self, key: str) -> str | None:
        entry = self.entries.get(key)
        return entry.id if entry else None

    def record(self, key: str, kind: str, resource_id: str) -> None:
        """Remember a resource and write the ledger at once."""
        self.entries[key] = Entry(key, kind, resource_id)
        self.save()

    def forget(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            self.save()

    def of_kind(self, kind: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.kind == kind]

    def save(self) -> None:
        ensure_private_dir(self.path.parent)
        payload: dict[str, Any] = {
            "version": LEDGER_VERSION,
            "cluster": self.cluster,
            "region": self.region,
            "resources": [e.__dict__ for e in self.entries.values()],
        }
        atomic_write(self.path, json.dumps(payload, indent=1) + "\n")
