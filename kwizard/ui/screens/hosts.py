"""Step 1 — Hosts: cluster name, target, and the host table (typed entries; roles default sensibly)."""

from __future__ import annotations

from typing import ClassVar, cast

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Input, Label, Select

from kwizard.errors import InputError
from kwizard.roles import default_roles
from kwizard.spec import ROLES, ClusterSpec, Host, Role, explain
from kwizard.ui.steps import StepScreen


def parse_roles(text: str) -> list[Role]:
    """`cp,etcd` / `control_plane etcd` → canonical role names; InputError on unknown ones."""
    aliases = {"cp": "control_plane", "master": "control_plane", "lb": "loadbalancer", "node": "worker"}
    roles: list[Role] = []
    for word in text.replace(",", " ").split():
        role = aliases.get(word.lower(), word.lower())
        if role not in ROLES:
            raise InputError(
                "Unknown role", f"{word!r} is not a role", f"Use any of: {', '.join(ROLES)} (or cp, lb)."
            )
        roles.append(cast(Role, role))
    return roles


class HostsStep(StepScreen):
    step_id = "hosts"

    BINDINGS: ClassVar = [*StepScreen.BINDINGS]

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="row"):
            yield Label("Cluster name", classes="field-label")
            yield Input(id="cluster-name", placeholder="mycluster")
            yield Label("Target", classes="field-label")
            yield Select(
                [("Bare metal / VMs", "baremetal"), ("AWS EC2", "aws")],
                id="target",
                allow_blank=False,
                value="baremetal",
            )
        yield DataTable(id="hosts-table", cursor_type="row")
        with Horizontal(classes="row", id="add-row"):
            yield Input(id="host-name", placeholder="name — or all at once: node1 10.0.0.11 cp,etcd")
            yield Input(id="host-address", placeholder="address (10.0.0.11)")
            yield Input(id="host-roles", placeholder="roles (cp,etcd,worker,lb,storage) — blank: automatic")
            yield Button("Add host", id="add-host")
            yield Button("Remove", id="remove-host")

    def load_spec(self, spec: ClusterSpec) -> None:
        self.hosts: list[Host] = list(spec.hosts)
        self.query_one("#cluster-name", Input).value = spec.name
        self.query_one("#target", Select).value = spec.target
        table = self.query_one("#hosts-table", DataTable)
        table.add_columns("Name", "Address", "Roles")
        self._refresh_table()
        # The name field is the one that changes least; start where the typing is.
        self.query_one("#host-name" if spec.name else "#cluster-name", Input).focus()

    def _refresh_table(self) -> None:
        table = self.query_one("#hosts-table", DataTable)
        table.clear()
        for host in self.hosts:
            table.add_row(host.name, host.address, ", ".join(host.roles) or "(automatic)", key=host.name)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        # Textual also calls StepScreen's handler (navigation buttons) unless the default is prevented.
        if event.button.id == "add-host":
            event.prevent_default()
            self._add_host()
        elif event.button.id == "remove-host":
            event.prevent_default()
            table = self.query_one("#hosts-table", DataTable)
            if self.hosts and table.cursor_row is not None and table.cursor_row < len(self.hosts):
                del self.hosts[table.cursor_row]
                self._refresh_table()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("host-name", "host-address", "host-roles"):
            event.stop()
            # Enter in the name field moves on to the address, unless the whole host was typed there
            # ("node1 10.0.0.11 cp,etcd"); Enter in the address or roles field adds the host.
            address = self.query_one("#host-address", Input)
            quick_entry = len(event.value.split()) > 1
            if event.input.id == "host-name" and not address.value.strip() and not quick_entry:
                address.focus()
                return
            self._add_host()

    def _add_host(self) -> None:
        name_input = self.query_one("#host-name", Input)
        address_input = self.query_one("#host-address", Input)
        roles_input = self.query_one("#host-roles", Input)
        name, address, roles_text = name_input.value.strip(), address_input.value.strip(), roles_input.value
        words = name.split()
        if len(words) > 1 and not address:  # quick entry: NAME ADDRESS [ROLES…] in the name field
            name, address, roles_text = words[0], words[1], " ".join(words[2:]) or roles_text
        try:
            roles = parse_roles(roles_text)
            host = Host(name=name, address=address, roles=roles)
        except InputError as error:
            self.wizard.show_error(error)
            return
        except ValidationError as error:
            self.wizard.show_error(InputError("Invalid host", explain(error), "Correct the name or address."))
            return
        for existing in self.hosts:
            for attribute in ("name", "address"):
                if getattr(existing, attribute) == getattr(host, attribute):
                    self.wizard.show_error(
                        InputError(
                            "Duplicate host",
                            f"A host with {attribute} {getattr(host, attribute)!r} is already listed.",
                            f"Each host needs its own {attribute}.",
                        )
                    )
                    return
        self.hosts.append(host)
        for widget in (name_input, address_input, roles_input):
            widget.value = ""
        name_input.focus()
        self._refresh_table()

    def apply_to(self, spec: ClusterSpec) -> ClusterSpec:
        target = self.query_one("#target", Select).value
        return spec.updated(
            name=self.query_one("#cluster-name", Input).value.strip(),
            target=target,
            hosts=default_roles(self.hosts),
        )
