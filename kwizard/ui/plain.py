"""`kwizard --plain`: the wizard's questions as plain prompts (questionary), for dumb terminals.

It asks the same things as the Textual steps, in the same order, and produces the same ClusterSpec. Input
and output can be injected (prompt_toolkit pipe input in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import questionary
from pydantic import BaseModel, ValidationError

from kwizard import preset as presets
from kwizard.choices import CONTAINER_MANAGERS, NETWORK_PLUGINS, STORAGE_TYPES, parse_virtual_hosts
from kwizard.discovery.naming import to_hosts
from kwizard.discovery.ranges import parse_host_list
from kwizard.errors import KwizardError
from kwizard.options import RunOptions
from kwizard.paths import workdir_option, workspace
from kwizard.phases import PHASE_TITLES, USER_PHASES
from kwizard.roles import default_roles, parse_roles
from kwizard.spec import (
    Bastion,
    ClusterSpec,
    Host,
    KubesprayOptions,
    LoadBalancerSettings,
    SSHSettings,
    explain,
    is_rfc1123,
)


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


def _field(model: type[BaseModel], current: BaseModel, key: str, convert: Any = None) -> Any:
    """A validator that checks one answer as the model itself will (same rules as a preset)."""

    def check(text: str) -> None:
        value = (convert(text) if text else None) if convert else (text or None)
        model.model_validate(current.model_dump() | {key: value})

    return _validator(check)


def _cluster_name(text: str) -> None:
    if not is_rfc1123(text) or "." in text:
        raise ValueError("lower-case letters, digits and '-' only")


def _port(text: str) -> None:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError("a port number (1-65535)")


def _section(build: Callable[[], ClusterSpec]) -> ClusterSpec:
    """Ask a section until its answers fit together; only that section is asked again (earlier sections
    keep their answers)."""
    while True:
        try:
            return build()
        except KwizardError as error:
            print(f"{error.title}: {error.problem}\nFix: {error.fix}")
        except ValidationError as error:
            print(f"Not valid: {explain(error)}")


def ask_hosts(ask: Prompter, spec: ClusterSpec) -> list[Host]:
    """Hosts typed as in the wizard's Hosts step (addresses, ranges, NAME=ADDRESS, one `NAME ADDRESS ROLES`
    per line), each answer checked at once; then the cluster's role rules, fixed host by host."""
    hosts = list(spec.hosts)
    if hosts and not ask.confirm(f"Keep the {len(hosts)} hosts of the preset?", True):
        hosts = []
    while True:
        typed = ask.text(
            "Add hosts — addresses, ranges like 10.0.0.[11:13], NAME=ADDRESS (empty to finish)",
            "",
            _validator(_typed_hosts(hosts)),
        )
        if not typed:
            break
        roles = parse_roles(
            ask.text("Their roles (e.g. 'cp, etcd'; empty: automatic)", "", _validator(parse_roles))
        )
        new_hosts, _ = to_hosts(parse_host_list(typed).candidates, hosts)
        if roles:
            new_hosts = [h.model_copy(update={"roles": roles}) for h in new_hosts]
        hosts.extend(new_hosts)
        print("Added: " + ", ".join(f"{h.name} ({h.address})" for h in new_hosts))
    hosts = default_roles(hosts)
    while True:  # the rules across hosts (control plane, odd etcd count…): change one host's roles
        try:
            spec.updated(hosts=hosts)
            return hosts
        except KwizardError as error:
            print(f"{error.title}: {error.problem}")
        if not hosts:
            return hosts
        print("Hosts: " + "; ".join(f"{h.name}: {', '.join(h.roles) or '-'}" for h in hosts))
        name = ask.select("Change the roles of", [(h.name, h.name) for h in hosts], hosts[0].name)
        current = next(h for h in hosts if h.name == name)
        roles = parse_roles(
            ask.text(f"Roles of {name}", ", ".join(current.roles), _validator(_roles_for(current)))
        )
        hosts = [h.model_copy(update={"roles": roles}) if h.name == name else h for h in hosts]


def _typed_hosts(existing: list[Host]) -> Any:
    def check(text: str) -> None:
        if not text:
            return
        found = parse_host_list(text)
        _, problems = to_hosts(found.candidates, existing)
        problems = [*found.problems, *problems]
        if problems:
            raise ValueError("; ".join(f"{p.subject}: {p.problem}" for p in problems[:3]))
        if not found.candidates:
            raise ValueError("no host in that answer")

    return check


def _roles_for(host: Host) -> Any:
    def check(text: str) -> None:
        Host.model_validate(host.model_dump() | {"roles": parse_roles(text)})

    return check


def ask_spec(prompter: Prompter, spec: ClusterSpec) -> ClusterSpec:
    """Ask every question of the wizard, prefilled from `spec`; returns the validated answers.

    Each answer is checked when it is given; a section whose answers do not fit together (e.g. two equal
    NodePorts) is asked again on its own, the earlier sections' answers kept.
    """
    ask = prompter
    # Step 1 — Hosts
    name = ask.text("Cluster name", spec.name, _validator(_cluster_name))
    target = ask.select("Target", [("Bare metal / VMs", "baremetal"), ("AWS EC2", "aws")], spec.target)
    spec = spec.updated(name=name, target=target)
    spec = spec.updated(hosts=ask_hosts(ask, spec))

    # Step 2 — Access
    def access() -> ClusterSpec:
        current = spec.ssh
        ssh = current.model_dump() | {
            "user": ask.text("SSH user", current.user, _field(SSHSettings, current, "user")),
            "port": int(ask.text("SSH port", str(current.port), _validator(_port))),
            "key": ask.text("Private key", current.key, _field(SSHSettings, current, "key")),
            "password_env": ask.text(
                "Environment variable holding the SSH password (optional)",
                current.password_env or "",
                _field(SSHSettings, current, "password_env"),
            )
            or None,
        }
        bastion_address = ask.text(
            "Bastion address (empty: none)",
            spec.bastion.address if spec.bastion else "",
            _validator(lambda t: t and Bastion(address=t)),
        )
        bastion = None
        if bastion_address:
            previous = spec.bastion.model_dump() if spec.bastion else {}
            bastion_user = ask.text(
                "Bastion user (empty: same as SSH user)",
                (spec.bastion.user or "") if spec.bastion else "",
                _validator(lambda t: t and Bastion(address=bastion_address, user=t)),
            )
            bastion = previous | {"address": bastion_address, "user": bastion_user or None}
        return spec.updated(ssh=ssh, bastion=bastion)

    spec = _section(access)

    # Step 4 — Roles & options (step 3, preflight, has no questions)
    def kubespray() -> ClusterSpec:
        ks = spec.kubespray
        return spec.updated(
            kubespray=ks.model_dump()
            | {
                "version": ask.text("Kubespray version", ks.version, _field(KubesprayOptions, ks, "version")),
                "kube_version": ask.text(
                    "Kubernetes version", ks.kube_version, _field(KubesprayOptions, ks, "kube_version")
                ),
                "network_plugin": ask.select(
                    "Network plugin", [(p, p) for p in NETWORK_PLUGINS], ks.network_plugin
                ),
                "container_manager": ask.select(
                    "Container runtime", [(c, c) for c in CONTAINER_MANAGERS], ks.container_manager
                ),
                "http_proxy": ask.text(
                    "HTTP proxy (empty: none)",
                    ks.http_proxy or "",
                    _field(KubesprayOptions, ks, "http_proxy"),
                )
                or None,
                "https_proxy": ask.text(
                    "HTTPS proxy (empty: none)",
                    ks.https_proxy or "",
                    _field(KubesprayOptions, ks, "https_proxy"),
                )
                or None,
            }
        )

    spec = _section(kubespray)

    def loadbalancer() -> ClusterSpec:
        lb = spec.loadbalancer
        return spec.updated(
            loadbalancer=lb.model_dump()
            | {
                "enabled": ask.confirm("Deploy the HA ingress load balancer?", lb.enabled),
                "domain": ask.text("Domain", lb.domain, _field(LoadBalancerSettings, lb, "domain")),
                "http_node_port": int(ask.text("HTTP NodePort", str(lb.http_node_port), _validator(_port))),
                "https_node_port": int(
                    ask.text("HTTPS NodePort", str(lb.https_node_port), _validator(_port))
                ),
                "virtual_hosts": parse_virtual_hosts(
                    "\n".join(
                        ask.text(
                            "Virtual hosts, ';'-separated: HOST SERVICE [NAMESPACE] [PORT]",
                            "; ".join(
                                f"{v.host} {v.service} {v.namespace} {v.port}" for v in lb.virtual_hosts
                            ),
                            _validator(lambda t: parse_virtual_hosts("\n".join(t.split(";")))),
                        ).split(";")
                    )
                ),
            }
        )

    spec = _section(loadbalancer)

    def rest() -> ClusterSpec:
        storage = spec.storage.model_dump() | {
            "type": ask.select("Storage", STORAGE_TYPES, spec.storage.type)
        }
        apps = {"grafana": ask.confirm("Deploy the Grafana sample app?", spec.apps.grafana)}
        phases = ask.checkbox("Phases to run", [(PHASE_TITLES[p], p) for p in USER_PHASES], list(spec.phases))
        return spec.updated(storage=storage, apps=apps, phases=phases)

    return _section(rest)


def run_plain(
    spec: ClusterSpec | None,
    options: RunOptions,
    *,
    root: Path | None = None,
    prompter: Prompter | None = None,
) -> int:
    """The plain wizard: ask, review, save the preset, and offer to run it. Returns the exit code."""
    prompter = prompter or Prompter()
    start = spec or ClusterSpec(name="mycluster")
    try:
        answers = ask_spec(prompter, start)
        print(presets.dump(answers))
        save = prompter.confirm("Save this preset?", True)
        saved = workspace(answers.name, root).preset_file
        if save and answers.name != start.name and saved.exists():  # another cluster's, not this one's
            question = f"A cluster named {answers.name} is saved ({saved}). Replace its preset?"
            save = prompter.confirm(question, False)
    except Cancelled:
        print("Cancelled. No changes were made.")
        return 130
    if not save:
        print("Not saved. No changes were made.")
        return 0
    ws = workspace(answers.name, root).create()
    path = presets.save(answers, ws.preset_file)
    print(f"Preset saved to {path}")
    try:
        run = prompter.confirm("Run it now (headless, with progress)?", False)
        trust = run and prompter.confirm(
            "Trust host keys seen for the first time? (their fingerprints are printed as they are trusted; "
            "a changed key is always refused)",
            options.accept_new_host_keys,
        )
    except Cancelled:
        run = False
    if not run:
        print(f"Run it with: kwizard --preset {path} --yes{workdir_option(ws.root)}")
        return 0
    from dataclasses import replace

    from kwizard.engine.journal import cluster_lock
    from kwizard.headless import run_headless

    with cluster_lock(ws):
        return run_headless(answers, ws, replace(options, accept_new_host_keys=trust), holds_lock=True)
