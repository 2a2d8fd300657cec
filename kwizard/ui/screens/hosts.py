"""Step 1 — Hosts: the cluster's name and target, and one editable host table fed by every source.

Typed lists and ranges are added at once; a network scan and the imports (~/.ssh/config, Terraform,
EC2) run in thread workers and post their results back. Bad input never stops the rest: each bad
token, duplicate or failed source becomes a line in the problems panel with its fix.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, ProgressBar, Select, Static

from kwizard.discovery.model import Discovery, HostProblem
from kwizard.discovery.naming import to_hosts
from kwizard.discovery.ranges import parse_host_list
from kwizard.errors import InputError, KwizardError
from kwizard.roles import default_roles, parse_roles
from kwizard.spec import ROLES, Bastion, ClusterSpec, Host, Role, explain, is_rfc1123
from kwizard.ui.modals import AskModal, ChoiceModal
from kwizard.ui.steps import StepScreen

ROLE_LABELS = {
    "control_plane": "control plane",
    "etcd": "etcd",
    "worker": "worker",
    "loadbalancer": "LB",
    "storage": "storage",
}
IMPORT_CHOICES = [
    ("ssh_config", "~/.ssh/config"),
    ("terraform", "Terraform folder"),
    ("tfstate", "Terraform state file"),
    ("ec2", "AWS EC2 by tag"),
    ("cancel", "Cancel"),
]


@dataclass
class HostsFound(Message):
    """A source finished: its candidates and problems (added to the table by the screen)."""

    discovery: Discovery
    source: str


@dataclass
class DiscoveryFailed(Message):
    error: KwizardError
    retry_large: tuple[str, int] | None = None


@dataclass
class AwsHostsCreated(Message):
    """The provision section's hosts exist on AWS: the instances and the bastion that reaches them."""

    hosts: list[Host]
    bastion: Bastion


class ScanProgressed(Message):
    def __init__(self, done: int, total: int, found: int) -> None:
        super().__init__()
        self.done, self.total, self.found = done, total, found


class HostsStep(StepScreen):
    step_id = "hosts"

    BINDINGS: ClassVar = [
        *StepScreen.BINDINGS,
        Binding("r", "edit_roles", "Roles"),
        Binding("n", "rename", "Rename"),
        Binding("delete", "remove", "Remove"),
    ]

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
        with Horizontal(classes="row", id="add-row"):
            yield Input(
                id="add-hosts",
                placeholder="node1 10.0.0.11 cp,etcd — or many: 10.0.0.[11:15] node[01:03].example.com",
            )
            yield Input(id="host-roles", placeholder="roles: automatic")
            yield Button("Add", id="add", variant="primary")
        yield ProgressBar(id="scan-progress", show_eta=False)
        yield DataTable(id="hosts-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="role-summary")
        with Horizontal(classes="row", id="edit-row"):
            yield Button("Rename (n)", id="rename")
            yield Button("Roles (r)", id="roles")
            yield Button("Remove (Del)", id="remove")
            yield Button("Scan network…", id="scan")
            yield Button("Import…", id="import")
            yield Button("Create on AWS…", id="create-aws")
        yield Static("", id="problems")

    def load_spec(self, spec: ClusterSpec) -> None:
        self._scan_cancel = threading.Event()
        self.hosts: list[Host] = list(spec.hosts)
        self.bastion_hint: str | None = None
        self.created_bastion: Bastion | None = None  # the bastion of hosts created on AWS
        # A preset with a provision section has its hosts created here (plan first), then listed.
        self.query_one("#create-aws", Button).display = spec.provision is not None
        self.query_one("#cluster-name", Input).value = spec.name
        self.query_one("#target", Select).value = spec.target
        self.query_one("#scan-progress", ProgressBar).display = False
        table = self.query_one("#hosts-table", DataTable)
        table.add_columns("Name", "Address", "Login", "Roles", "Zone / type")
        self._refresh_table()
        # Start where the typing is: the cluster name for a new cluster, else the host list.
        self.query_one("#add-hosts" if spec.name else "#cluster-name", Input).focus()

    # ── the table ──────────────────────────────────────────────────────────
    def _refresh_table(self, select: str | None = None) -> None:
        table = self.query_one("#hosts-table", DataTable)
        table.clear()
        explicit = any(h.roles for h in self.hosts)
        shown = default_roles(self.hosts)
        for host, effective in zip(self.hosts, shown, strict=True):
            roles = ", ".join(effective.roles)
            if not host.roles:
                roles += " (auto)" if explicit or roles else "(auto)"
            login = (
                f"{host.user or ''}{'@' if host.user else ''}:{host.port}" if host.port else (host.user or "")
            )
            place = " ".join(filter(None, [host.az, host.instance_type]))
            table.add_row(host.name, host.address, login, roles, place, key=host.name)
        if select is not None:
            names = [h.name for h in self.hosts]
            if select in names:
                table.move_cursor(row=names.index(select))
        summary = self.query_one("#role-summary", Static)
        counts = [(ROLE_LABELS[r], sum(h.has(r) for h in shown)) for r in ROLES]
        summary.update(f"{len(self.hosts)} hosts: " + ", ".join(f"{n} {label}" for label, n in counts if n))

    def _selected(self) -> Host | None:
        table = self.query_one("#hosts-table", DataTable)
        if not self.hosts or table.cursor_row is None or not 0 <= table.cursor_row < len(self.hosts):
            return None
        return self.hosts[table.cursor_row]

    def _show_problems(
        self, problems: list[HostProblem], notes: tuple[str, ...] = (), added: int = 0
    ) -> None:
        # Content, not markup: the offending input is shown verbatim, brackets and all.
        parts: list[str | tuple[str, str]] = []
        if added or problems:
            parts.append(f"Added {added} host{'s' if added != 1 else ''}.")
        for problem in problems:
            parts += ["\n", (problem.subject, "bold"), f": {problem.problem}"]
            if problem.fix:
                parts += [" — ", (problem.fix, "green")]
        for note in notes:
            parts += ["\n", (note, "dim")]
        panel = self.query_one("#problems", Static)
        panel.set_class(bool(problems), "has-problems")
        panel.update(Content.assemble(*parts))

    def _merge(self, discovery: Discovery, roles: list[Role] | None = None) -> None:
        new_hosts, problems = to_hosts(discovery.candidates, self.hosts)
        if roles:  # typed roles are taken as given (no etcd added to a lone control plane)
            new_hosts = [Host.model_validate(h.model_dump() | {"roles": roles}) for h in new_hosts]
        self.hosts.extend(new_hosts)
        if discovery.bastion and self.bastion_hint is None:
            self.bastion_hint = discovery.bastion
        notes = discovery.notes
        if discovery.bastion:
            notes += (f"bastion {discovery.bastion} will be set on the Access step",)
        self._refresh_table(select=new_hosts[0].name if new_hosts else None)
        self._show_problems([*discovery.problems, *problems], notes, added=len(new_hosts))

    # ── adding ─────────────────────────────────────────────────────────────
    def _add_typed(self) -> None:
        field = self.query_one("#add-hosts", Input)
        roles_field = self.query_one("#host-roles", Input)
        if not field.value.strip():
            return
        try:
            roles = parse_roles(roles_field.value)
        except InputError as error:
            self.wizard.show_error(error)
            return
        found = parse_host_list(field.value)
        self._merge(found, roles=roles)
        if not found.problems:
            field.value = ""
            roles_field.value = ""
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("add-hosts", "host-roles"):
            event.stop()
            self._add_typed()

    @on(Button.Pressed, "#add")
    def _add_pressed(self) -> None:
        self._add_typed()

    @on(Button.Pressed, "#scan")
    def _scan_pressed(self) -> None:
        self._ask_scan()

    @on(Button.Pressed, "#import")
    def _import_pressed(self) -> None:
        self._ask_import()

    @on(Button.Pressed, "#rename")
    def _rename_pressed(self) -> None:
        self.action_rename()

    @on(Button.Pressed, "#roles")
    def _roles_pressed(self) -> None:
        self.action_edit_roles()

    @on(Button.Pressed, "#remove")
    def _remove_pressed(self) -> None:
        self.action_remove()

    @on(Button.Pressed, "#create-aws")
    def _create_aws_pressed(self) -> None:
        self._ask_create_on_aws()

    def _ask_scan(self) -> None:
        def answered(text: str | None) -> None:
            if text and text.strip():
                cidr, _, port = text.strip().partition(" ")
                if port and not port.strip().isdigit():
                    self.wizard.show_error(
                        InputError("Invalid port", f"{port!r} is not a port", "Use e.g. 22.")
                    )
                    return
                self.scan(cidr, int(port) if port.strip() else self.wizard.spec.ssh.port)

        prompt = "Network range to scan for SSH, optionally with a port: 10.0.0.0/24 or 10.0.0.0/24 2222"
        self.app.push_screen(AskModal("Scan network", prompt), answered)

    def _ask_import(self) -> None:
        def chosen(choice: str | None) -> None:
            if choice in (None, "cancel"):
                return
            if choice == "ssh_config":
                self.import_hosts("ssh_config", "~/.ssh/config")
                return
            prompts = {
                "terraform": (
                    "Terraform folder",
                    "Folder where `terraform apply` ran (its outputs are read).",
                    ".",
                ),
                "tfstate": ("Terraform state", "Path of the state file.", "terraform.tfstate"),
                "ec2": (
                    "AWS EC2",
                    "Tag of the instances, as KEY or KEY=VALUE, then the region (optional).",
                    "",
                ),
            }
            title, text, value = prompts[choice]
            self.app.push_screen(
                AskModal(title, text, value), lambda answer: self._import_answer(choice, answer)
            )

        self.app.push_screen(
            ChoiceModal("Import hosts", "Where are the servers listed?", IMPORT_CHOICES, "cancel"), chosen
        )

    def _import_answer(self, kind: str, answer: str | None) -> None:
        if answer and answer.strip():
            self.import_hosts(kind, answer.strip())

    @work(thread=True, exclusive=True, group="discovery")
    def scan(self, cidr: str, port: int, allow_large: bool = False) -> None:
        from kwizard.discovery.scan import LargeScan
        from kwizard.discovery.scan import scan as scan_range

        try:
            found = scan_range(
                cidr,
                port,
                allow_large=allow_large,
                cancel=self._scan_cancel,
                progress=self._post_progress,
            )
        except LargeScan as large:
            self.post_message(DiscoveryFailed(large, retry_large=(cidr, port)))
            return
        except KwizardError as error:
            self.post_message(DiscoveryFailed(error))
            return
        self.post_message(HostsFound(found, f"scan {cidr}"))

    @work(thread=True, exclusive=True, group="discovery")
    def import_hosts(self, kind: str, argument: str) -> None:
        try:
            found = _import(kind, argument)
        except KwizardError as error:
            self.post_message(DiscoveryFailed(error))
            return
        self.post_message(HostsFound(found, kind))

    def _ask_create_on_aws(self) -> None:
        from kwizard.aws.plan import provision_plan
        from kwizard.ui.provision_plan import ProvisionPlanModal

        spec = self.wizard.spec
        if spec.provision is None:
            return

        def answered(create: bool | None) -> None:
            if create:
                self.create_on_aws()

        self.app.push_screen(ProvisionPlanModal(spec.name, provision_plan(spec.provision)), answered)

    @work(thread=True, exclusive=True, group="discovery")
    def create_on_aws(self) -> None:
        """Create what is missing of the provision section's hosts, then list them (blocking: a worker)."""
        from kwizard.aws.phase import create_hosts

        self.app.call_from_thread(self.notify, "Creating the AWS hosts…", timeout=4)
        try:
            hosts, bastion = create_hosts(
                self.wizard.spec, self.wizard.ws, lambda text: None, cancel=self._scan_cancel
            )
        except KwizardError as error:
            self.post_message(DiscoveryFailed(error))
            return
        self.post_message(AwsHostsCreated(hosts, bastion))

    def on_aws_hosts_created(self, message: AwsHostsCreated) -> None:
        self.hosts = list(message.hosts)
        self.created_bastion = message.bastion
        self._refresh_table(select=self.hosts[0].name if self.hosts else None)
        note = f"bastion {message.bastion.address} (its Elastic IP) is set for the Access step"
        self._show_problems([], (note,), added=len(self.hosts))

    def _post_progress(self, done: int, total: int, found: int) -> None:
        # About a hundred updates per scan, however large: a /16 must not post 65 534 messages.
        if done == total or done % max(1, total // 100) == 0:
            self.post_message(ScanProgressed(done, total, found))

    def on_unmount(self) -> None:
        self._scan_cancel.set()  # leaving the step stops a running scan within one probe timeout

    def on_scan_progressed(self, message: ScanProgressed) -> None:
        bar = self.query_one("#scan-progress", ProgressBar)
        bar.display = message.done < message.total
        bar.update(total=message.total, progress=message.done)
        bar.tooltip = f"{message.found} found"

    def on_hosts_found(self, message: HostsFound) -> None:
        self.query_one("#scan-progress", ProgressBar).display = False
        self._merge(message.discovery)

    def on_discovery_failed(self, message: DiscoveryFailed) -> None:
        self.query_one("#scan-progress", ProgressBar).display = False
        if message.retry_large is None:
            self.wizard.show_error(message.error)
            return
        cidr, port = message.retry_large

        def decided(choice: str | None) -> None:
            if choice == "scan":
                self.scan(cidr, port, allow_large=True)

        text = f"{message.error.problem}\nThis can take a long time and may alarm network monitoring."
        choices = [("scan", "Scan anyway"), ("cancel", "Cancel")]
        self.app.push_screen(ChoiceModal("Large network range", text, choices, "cancel"), decided)

    # ── editing ────────────────────────────────────────────────────────────
    def action_rename(self) -> None:
        host = self._selected()
        if host is None:
            return

        def renamed(name: str | None) -> None:
            name = (name or "").strip()
            if not name or name == host.name:
                return
            if not is_rfc1123(name):
                self.wizard.show_error(
                    InputError(
                        "Invalid host name",
                        f"{name!r} is not a valid host name",
                        "Use lower-case letters, digits and '-'.",
                    )
                )
                return
            if any(h.name == name for h in self.hosts):
                self.wizard.show_error(
                    InputError("Duplicate host", f"{name!r} is already used.", "Pick another name.")
                )
                return
            index = self.hosts.index(host)
            self.hosts[index] = host.model_copy(update={"name": name})
            self._refresh_table(select=name)

        self.app.push_screen(
            AskModal("Rename host", f"New name for {host.name} ({host.address}):", host.name), renamed
        )

    def action_edit_roles(self) -> None:
        host = self._selected()
        if host is None:
            return
        current = default_roles(self.hosts)[self.hosts.index(host)]

        def edited(text: str | None) -> None:
            if text is None:
                return
            # Editing one host fixes the automatic roles of the others, so they do not shift under the user.
            # The new list replaces self.hosts only once the answer is valid: a rejected answer leaves every
            # earlier edit (renames, roles) as it was.
            hosts = [h.model_copy(update={"roles": list(h.roles)}) for h in default_roles(self.hosts)]
            index = next(i for i, h in enumerate(hosts) if h.name == host.name)
            try:
                hosts[index] = Host.model_validate(hosts[index].model_dump() | {"roles": parse_roles(text)})
            except InputError as error:
                self.wizard.show_error(error)
                return
            except ValidationError as error:  # the Host model's own checks, in the same dialog
                self.wizard.show_error(
                    InputError("Invalid roles", explain(error), "Correct the roles and try again.")
                )
                return
            self.hosts = hosts
            self._refresh_table(select=host.name)

        prompt = f"Roles of {host.name}: {', '.join(ROLES)} (cp, lb are short forms)."
        self.app.push_screen(AskModal("Roles", prompt, ", ".join(current.roles)), edited)

    def action_remove(self) -> None:
        host = self._selected()
        if host is not None:
            self.hosts.remove(host)
            self._refresh_table()

    def apply_to(self, spec: ClusterSpec) -> ClusterSpec:
        target = self.query_one("#target", Select).value
        changes: dict[str, object] = {
            "name": self.query_one("#cluster-name", Input).value.strip(),
            "target": target,
            "hosts": default_roles(self.hosts),
        }
        if self.created_bastion is not None:
            changes["bastion"] = self.created_bastion
        elif self.bastion_hint and spec.bastion is None:
            changes["bastion"] = Bastion(address=self.bastion_hint)
        return spec.updated(**changes)


def _import(kind: str, argument: str) -> Discovery:
    """Run one import source (blocking)."""
    if kind == "ssh_config":
        from kwizard.discovery.sshconfig import from_ssh_config

        return from_ssh_config(Path(argument))
    if kind == "terraform":
        from kwizard.discovery.terraform import from_terraform_dir

        return from_terraform_dir(Path(argument))
    if kind == "tfstate":
        from kwizard.discovery.terraform import from_state_file

        return from_state_file(Path(argument))
    from kwizard.discovery.aws import from_ec2

    words = argument.split()
    tag, _, value = words[0].partition("=")
    return from_ec2(tag, value or None, region=words[1] if len(words) > 1 else None)
