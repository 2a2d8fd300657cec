"""Helpers for the diagnostics tests: the public failure corpus and real Ansible runs."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "diagnostics"
CORPUS = FIXTURES / "corpus"
CLEAN = FIXTURES / "clean"  # real logs of successful runs (retries, ignored errors, rescues …)
PLAYBOOKS = FIXTURES / "playbooks"


@dataclass(frozen=True)
class CorpusCase:
    name: str
    source: str
    cause: str
    category: str
    excerpt: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # Rule or remedy ids whose fix would solve the cause the thread established.
    fix_ok: tuple[str, ...] = ()


def corpus_cases() -> list[CorpusCase]:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        cases.append(
            CorpusCase(
                name=path.stem,
                source=data["source"],
                cause=data["cause"],
                category=data["category"],
                excerpt=data["excerpt"],
                evidence=data.get("evidence") or {},
                fix_ok=tuple(data.get("fix_ok") or ()),
            )
        )
    return cases


def clean_logs() -> list[Path]:
    """The real clean logs (any file below clean/ that is not a README)."""
    if not CLEAN.is_dir():
        return []
    return sorted(p for p in CLEAN.rglob("*") if p.is_file() and not p.name.lower().startswith("readme"))


def ansible_env(home: Path) -> dict[str, str]:
    """Environment for real ansible runs: no colour, all state below `home`, no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_HOME=str(home / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(home / "local-tmp"),
        ANSIBLE_REMOTE_TEMP=str(home / "remote-tmp"),
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_CONFIG=str(home / "no-ansible.cfg"),
        # ansible-runner finds ansible-playbook on PATH: the one next to this Python comes first
        PATH=os.pathsep.join([str(ansible_playbook().parent), env.get("PATH", "")]),
    )
    return env


def ansible_playbook() -> Path:
    return Path(sys.executable).with_name("ansible-playbook")
