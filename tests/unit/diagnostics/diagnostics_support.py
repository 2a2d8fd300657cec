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
CLEAN = FIXTURES / "clean"
PLAYBOOKS = FIXTURES / "playbooks"


@dataclass(frozen=True)
class CorpusCase:
    name: str
    source: str
    cause: str
    category: str
    excerpt: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix_ok: tuple[str, ...] = ()  # rule or remedy ids whose fix would solve the established cause
    known_miss: bool = False  # today's rules do not name it first (kept as data, not a weaker test)


@dataclass(frozen=True)
class CleanLog:
    """A real log of a run that succeeded: any finding on it is a false alarm."""

    name: str
    source: str
    what: str
    log: bytes
    known_false_alarm: bool = False


def clean_logs() -> list[CleanLog]:
    logs = []
    for meta in sorted(CLEAN.glob("*.yaml")):
        data = yaml.safe_load(meta.read_text(encoding="utf-8"))
        logs.append(
            CleanLog(
                name=meta.stem,
                source=data["source"],
                what=data["what"],
                log=meta.with_suffix(".log").read_bytes(),
                known_false_alarm=bool(data.get("known_false_alarm", False)),
            )
        )
    return logs


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
                known_miss=bool(data.get("known_miss", False)),
            )
        )
    return cases


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
