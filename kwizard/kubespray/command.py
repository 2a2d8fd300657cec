"""The command line equivalent to kwizard's Kubespray run, for the Review screen and the docs.

It names the same checkout, venv, ansible.cfg and inventory the run uses, so an operator can paste it
into a shell and get the same run by hand.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kwizard.inventory.render import HOSTS_FILE, key_path
from kwizard.kubespray import checkout as checkouts
from kwizard.kubespray.venv import venv_dir
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.spec import ClusterSpec


@dataclass(frozen=True)
class PlannedRun:
    """Where everything of a Kubespray run is (or will be), computed without touching disk or network."""

    checkout: Path
    venv: Path
    inventory: Path
    playbook: str = "cluster.yml"

    @property
    def ansible_cfg(self) -> Path:
        return self.checkout / "ansible.cfg"

    @property
    def ansible_playbook(self) -> Path:
        return self.venv / "bin" / "ansible-playbook"


def planned_run(spec: ClusterSpec, ws: Workspace, options: RunOptions | None = None) -> PlannedRun:
    mine = checkouts.user_dir(spec, options)
    path = checkouts.planned_dir(spec, ws, options)
    version = spec.kubespray.version
    return PlannedRun(
        checkout=path,
        venv=venv_dir(ws, path, version, user_supplied=mine is not None),
        inventory=ws.inventory_dir / HOSTS_FILE,
    )


def argv(
    spec: ClusterSpec, run: PlannedRun, extravars: Mapping[str, Any] | None = None, limit: str | None = None
) -> list[str]:
    """ansible-playbook's arguments (run from the checkout with ANSIBLE_CONFIG set)."""
    args = [
        str(run.ansible_playbook),
        "-i",
        str(run.inventory),
        run.playbook,
        "-b",
        "--private-key",
        str(key_path(spec)),
    ]
    for name, value in (extravars or {}).items():
        args += ["-e", f"{name}={_cli_value(value)}"]
    if limit:
        args += ["--limit", limit]
    if spec.ssh.become_password_env:
        args.append("--ask-become-pass")  # kwizard passes it through ansible-runner, never the environment
    return args


def _cli_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def command_line(
    spec: ClusterSpec,
    ws: Workspace,
    options: RunOptions | None = None,
    *,
    playbook: str = "cluster.yml",
    extravars: Mapping[str, Any] | None = None,
    limit: str | None = None,
    inventory: Path | None = None,
) -> str:
    """`cd <ks> && ANSIBLE_CONFIG=<ks>/ansible.cfg <venv>/bin/ansible-playbook -i … cluster.yml -b …`."""
    run = replace(planned_run(spec, ws, options), playbook=playbook)
    if inventory is not None:
        run = replace(run, inventory=inventory)
    return (
        f"cd {shlex.quote(str(run.checkout))} && "
        f"ANSIBLE_CONFIG={shlex.quote(str(run.ansible_cfg))} {shlex.join(argv(spec, run, extravars, limit))}"
    )
