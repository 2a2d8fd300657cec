"""`kwizard --plain`: the wizard's questions as plain prompts (questionary), for dumb terminals.

It asks the same things as the Textual steps, in the same order, and produces the same ClusterSpec. Input
and output can be injected (prompt_toolkit pipe input in tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import questionary
from pydantic import ValidationError

from kwizard import preset as presets
from kwizard.errors import KwizardError
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.phases import PHASE_TITLES, PHASES
from kwizard.roles import default_roles
from kwizard.spec import ROLES, ClusterSpec, Host, explain, is_rfc1123
from kwizard.ui.screens.options import CONTAINER_MANAGERS, NETWORK_PLUGINS, STORAGE_TYPES, parse_virtual_hosts


class Cancelled(Exception):
    """The user pressed Ctrl-C / Ctrl-D at a prompt."""


class Prompter:
    """Thin wrapper over questionary so every prompt shares input/output and cancellation handling."""

    def __init__(self, **io: Any) -> None:
        self.io = io  # input=/output= for prompt_toolkit, empty for the real terminal

    def _ask(self, question: questionary.Question) -> Any:
        try:
            answer = question.unsafe_ask()
        except (KeyboardInterrupt, EOFError):
            raise Cancelled from None
        if answer is None:
            raise Cancelled
        return answer

    def text(self, message: str, default: str = "", validate: Any = None) -> str:
        question = questionary.text(message, default=default, validate=validate, **self.io)
        return str(self._ask(question)).strip()

    def select(self, message: str, choices: list[tuple[str, str]], default: str) -> str:
        options = [questionary.Choice(title, value=value) for title, value in choices]
        chosen = next((c for c in options if c.value == default), options[0])
        return str(self._ask(questionary.select(message, choices=options, default=chosen, **self.io)))

    def checkbox(self, message: str, choices: list[tuple[str, str]], checked: list[str]) -> list[str]:
        options = [questionary.Choice(t, value=v, checked=v in checked) for t, v in choices]
        return list(self._ask(questionary.checkbox(message, choices=options, **self.io)))

    def confirm(self, message: str, default: bool = True) -> bool:
        return bool(self._ask(questionary.confirm(message, default=default, **self.io)))


def _validator(check: Any) -> Any:
    def validate(text: str) -> bool | str:
        try:
            check(text.strip())
        except KwizardError as error:
            return error.problem
        except ValidationError as error:
            return explain(error)
        except ValueError as error:
            return str(error)
        return True

    return validate


def _cluster_name(text: str) -> None:
    if not is_rfc1123(text) or "." in text:
        raise ValueError("lower-case letters, digits and '-' only")


def _port(text: str) -> None:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError("a port number (1-65535)")


def ask_spec(prompter: Prompter, spec: ClusterSpec) -> ClusterSpec:
    """Ask every question of the wizard, prefilled from `spec`; returns the validated answers."""
    ask = prompter
    # Step 1 — Hosts
    name = ask.text("Cluster name", spec.name, _validator(_cluster_name))
    target = ask.select("Target", [("Bare metal / VMs", "baremetal"), ("AWS EC2", "aws")], spec.target)
    hosts = list(spec.hosts)
    if hosts and not ask.confirm(f"Keep the {len(hosts)} hosts of the preset?", True):
        hosts = []
    while True:
        host_name = ask.text("Add a host — name (empty to finish)", "")
        if not host_name:
            break
        address = ask.text(f"Address of {host_name}", "", _validator(lambda t: Host(name="x", address=t)))
        roles = ask.checkbox(
            f"Roles of {host_name} (none: automatic)", [(r.replace("_", " "), r) for r in ROLES], []
        )
        try:
            host = Host.model_validate({"name": host_name, "address": address, "roles": roles})
        except ValidationError as error:
            print(f"Not added: {explain(error)}")
            continue
        hosts.append(host)
    spec = spec.updated(name=name, target=target, hosts=default_roles(hosts))

    # Step 2 — Access
    ssh = spec.ssh.model_dump() | {
        "user": ask.text("SSH user", spec.ssh.user),
        "port": int(ask.text("SSH port", str(spec.ssh.port), _validator(_port))),
        "key": ask.text("Private key", spec.ssh.key),
        "password_env": ask.text(
            "Environment variable holding the SSH password (optional)", spec.ssh.password_env or ""
        )
        or None,
    }
    bastion_address = ask.text("Bastion address (empty: none)", spec.bastion.address if spec.bastion else "")
    bastion = None
    if bastion_address:
        previous = spec.bastion.model_dump() if spec.bastion else {}
        bastion_user = ask.text(
            "Bastion user (empty: same as SSH user)", (spec.bastion.user or "") if spec.bastion else ""
        )
        bastion = previous | {"address": bastion_address, "user": bastion_user or None}
    spec = spec.updated(ssh=ssh, bastion=bastion)

    # Step 4 — Roles & options (step 3, preflight, has no questions)
    ks = spec.kubespray
    kubespray = ks.model_dump() | {
        "version": ask.text("Kubespray version", ks.version),
        "kube_version": ask.text("Kubernetes version", ks.kube_version),
        "network_plugin": ask.select("Network plugin", [(p, p) for p in NETWORK_PLUGINS], ks.network_plugin),
        "container_manager": ask.select(
            "Container runtime", [(c, c) for c in CONTAINER_MANAGERS], ks.container_manager
        ),
        "http_proxy": ask.text("HTTP proxy (empty: none)", ks.http_proxy or "") or None,
        "https_proxy": ask.text("HTTPS proxy (empty: none)", ks.https_proxy or "") or None,
    }
    lb = spec.loadbalancer
    loadbalancer = lb.model_dump() | {
        "enabled": ask.confirm("Deploy the HA ingress load balancer?", lb.enabled),
        "domain": ask.text("Domain", lb.domain),
        "http_node_port": int(ask.text("HTTP NodePort", str(lb.http_node_port), _validator(_port))),
        "https_node_port": int(ask.text("HTTPS NodePort", str(lb.https_node_port), _validator(_port))),
        "virtual_hosts": parse_virtual_hosts(
            "\n".join(
                ask.text(
                    "Virtual hosts, ';'-separated: HOST SERVICE [NAMESPACE] [PORT]",
                    "; ".join(f"{v.host} {v.service} {v.namespace} {v.port}" for v in lb.virtual_hosts),
                ).split(";")
            )
        ),
    }
    storage = spec.storage.model_dump() | {"type": ask.select("Storage", STORAGE_TYPES, spec.storage.type)}
    apps = {"grafana": ask.confirm("Deploy the Grafana sample app?", spec.apps.grafana)}
    phases = ask.checkbox("Phases to run", [(PHASE_TITLES[p], p) for p in PHASES], list(spec.phases))
    return spec.updated(
        kubespray=kubespray, loadbalancer=loadbalancer, storage=storage, apps=apps, phases=phases
    )


def run_plain(
    spec: ClusterSpec | None,
    options: RunOptions,
    *,
    root: Path | None = None,
    prompter: Prompter | None = None,
) -> int:
    """The plain wizard: ask, review, save the preset. Returns the exit code."""
    prompter = prompter or Prompter()
    start = spec or ClusterSpec(name="mycluster")
    while True:
        try:
            answers = ask_spec(prompter, start)
        except Cancelled:
            print("Cancelled. No changes were made.")
            return 130
        except KwizardError as error:
            print(f"{error.title}: {error.problem}\nFix: {error.fix}\nLet's go through it again.")
            continue
        break
    print(presets.dump(answers))
    try:
        save = prompter.confirm("Save this preset?", True)
    except Cancelled:
        print("Cancelled. No changes were made.")
        return 130
    if not save:
        print("Not saved. No changes were made.")
        return 0
    path = presets.save(answers, workspace(answers.name, root).create().preset_file)
    print(f"Preset saved to {path}")
    print(f"Run it with: kwizard --preset {path} --yes")
    return 0
