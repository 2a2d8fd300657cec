"""Step 2 — Access: how kwizard logs in, and one status row per host while the key is installed.

"Check access" runs `kwizard.access.secure_hosts` in a thread worker: the key is tried on every host;
where it is refused, the password is asked once (masked, kept in memory only) and the key installed;
new host keys are shown for confirmation. Rows update from the same host_status events the dashboard
uses. A host with a different password gets its own from "Password for host…".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, Static
from textual.worker import Worker

from kwizard.access import HostAccess, KeyPair, cluster_key_path, ensure_key_pair, secure_hosts
from kwizard.errors import InputError, KwizardError
from kwizard.protocol.phase import Event
from kwizard.spec import Bastion, ClusterSpec, Host
from kwizard.ui.hostkey import ask_from_thread
from kwizard.ui.modals import AskModal, ChoiceModal
from kwizard.ui.steps import StepScreen

# status → (symbol, words, style)
STATUS_LOOK: dict[str, tuple[str, str, str]] = {
    "waiting": ("·", "not checked", "dim"),
    "connecting": ("…", "connecting", "yellow"),
    "installing": ("…", "installing key", "yellow"),
    "verifying": ("…", "verifying", "yellow"),
    "ok": ("✓", "key works", "green"),
    "installed": ("✓", "key installed", "green"),
    "needs-password": ("?", "password needed", "yellow"),
    "skipped": ("-", "skipped", "dim"),
    "failed": ("✗", "failed", "red"),
}
# Rows of (label, field id, placeholder); two short fields share a row to keep the table in view.
FIELD_ROWS = [
    [("SSH user", "ssh-user", "root"), ("SSH port", "ssh-port", "22")],
    [("Private key", "ssh-key", "~/.ssh/id_ed25519")],
    [
        ("Password variable", "password-env", "for headless runs"),
        ("Become variable", "become-env", "env var of the sudo password"),
    ],
    [("Bastion address", "bastion-address", "none"), ("Bastion user", "bastion-user", "as SSH user")],
    [("Bastion key", "bastion-key", "same as the private key")],
]


@dataclass
class HostStatusChanged(Message):
    event: Event


class AccessChecked(Message):
    def __init__(
        self, rows: list[HostAccess], key: KeyPair | None, error: KwizardError | None = None
    ) -> None:
        super().__init__()
        self.rows, self.key, self.error = rows, key, error


class AccessStep(StepScreen):
    step_id = "access"
    CHECKS = True

    BINDINGS: ClassVar = [*StepScreen.BINDINGS, Binding("ctrl+t", "check", "Check access", priority=True)]

    def compose_body(self) -> ComposeResult:
        for fields in FIELD_ROWS:
            with Horizontal(classes="row field-row"):
                for label, field_id, placeholder in fields:
                    yield Label(label, classes="field-label")
                    yield Input(id=field_id, placeholder=placeholder)
                if fields[0][1] == "ssh-key":
                    yield Button("New key for this cluster", id="generate")
        with Horizontal(classes="row", id="access-actions"):
            yield Button("Check access (^t)", id="check", variant="primary")
            yield Button("Password for host…", id="host-password")
            yield Static("", id="key-info")
        yield DataTable(id="access-table", cursor_type="row")
        yield Static("", id="row-detail")

    def load_spec(self, spec: ClusterSpec) -> None:
        self._cancel = threading.Event()
        self.rows: dict[str, HostAccess] = {}
        self.details: dict[str, tuple[str, str, str]] = {}  # host → (detail, fix, note)
        values = {
            "ssh-user": spec.ssh.user,
            "ssh-port": str(spec.ssh.port),
            "ssh-key": spec.ssh.key,
            "password-env": spec.ssh.password_env or "",
            "become-env": spec.ssh.become_password_env or "",
            "bastion-address": spec.bastion.address if spec.bastion else "",
            "bastion-user": (spec.bastion.user or "") if spec.bastion else "",
            "bastion-key": (spec.bastion.key or "") if spec.bastion else "",
        }
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = value
        # EC2 hosts take only the key pair they were launched with: no new key to generate and install.
        self.query_one("#generate", Button).display = spec.target != "aws"
        table = self.query_one("#access-table", DataTable)
        table.add_column("Host", key="host")
        table.add_column("Address", key="address")
        table.add_column("Status", key="status", width=17)
        table.add_column("Detail", key="detail")
        for host in spec.hosts:
            self._set_row(host.name, host.address, "waiting", "")
        kept = self.wizard.check_results.get("access", spec)
        if kept is not None:  # checked before with the same hosts and settings (Back/Next)
            self.post_message(kept)
        self.query_one("#ssh-user", Input).focus()

    def on_unmount(self) -> None:
        self._cancel.set()

    # ── form ───────────────────────────────────────────────────────────────
    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def apply_to(self, spec: ClusterSpec) -> ClusterSpec:
        port_text = self._value("ssh-port") or "22"
        if not port_text.isdigit():
            raise InputError("Invalid SSH port", f"{port_text!r} is not a number", "Use a port like 22.")
        ssh = spec.ssh.model_dump() | {
            "user": self._value("ssh-user") or "root",
            "port": int(port_text),
            "key": self._value("ssh-key") or "~/.ssh/id_ed25519",
            "password_env": self._value("password-env") or None,
            "become_password_env": self._value("become-env") or None,
        }
        address = self._value("bastion-address")
        bastion = None
        if address:
            previous = spec.bastion.model_dump() if spec.bastion else {}
            bastion = Bastion.model_validate(
                previous
                | {
                    "address": address,
                    "user": self._value("bastion-user") or None,
                    "key": self._value("bastion-key") or None,
                }
            )
        return spec.updated(ssh=ssh, bastion=bastion)

    # ── rows ───────────────────────────────────────────────────────────────
    def _set_row(
        self, name: str, address: str, status: str, detail: str, fix: str = "", note: str = ""
    ) -> None:
        table = self.query_one("#access-table", DataTable)
        symbol, words, style = STATUS_LOOK.get(status, ("·", status, ""))
        # Rich Text cells: DataTable measures them to widen the column as details arrive.
        first_line = detail.splitlines()[0] if detail else ""
        cells = [name, address, Text(f"{symbol} {words}", style=style), Text(first_line)]
        self.details[name] = (detail, fix, note)
        if name in table.rows:
            for column, value in zip(("host", "address", "status", "detail"), cells, strict=True):
                table.update_cell(name, column, value, update_width=True)
        else:
            table.add_row(*cells, key=name)
        self._show_detail()

    def _selected_name(self) -> str | None:
        table = self.query_one("#access-table", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _show_detail(self) -> None:
        name = self._selected_name()
        detail, fix, note = self.details.get(name or "", ("", "", ""))
        parts: list[str | tuple[str, str]] = []
        if detail:
            parts += [(f"{name}: ", "bold"), detail]
        if fix:
            parts += ["\nFix: ", (fix, "green")]
        if note:
            parts += ["\nNote: ", (note, "yellow")]
        self.query_one("#row-detail", Static).update(Content.assemble(*parts))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_host_status_changed(self, message: HostStatusChanged) -> None:
        event = message.event
        if event.host is None:
            return
        address = next((h.address for h in self.wizard.spec.hosts if h.name == event.host), "")
        if event.host == "bastion" and self.wizard.spec.bastion:
            address = self.wizard.spec.bastion.address
        self._set_row(
            event.host,
            address,
            str(event.data.get("status", "")),
            str(event.data.get("detail", "")),
            str(event.data.get("fix", "")),
        )

    def on_access_checked(self, message: AccessChecked) -> None:
        self.query_one("#check", Button).disabled = False
        if message.error is not None:
            self.record_outcome(False)
            self.wizard.show_error(message.error)
            return
        self.wizard.check_results.keep("access", self.apply_to(self.wizard.spec), message)
        for row in message.rows:
            self.rows[row.host] = row
            self._set_row(row.host, row.address, row.status, row.detail, row.fix, " ".join(row.warnings))
        if message.key is not None:
            self.query_one("#key-info", Static).update(Content(f"key {message.key.fingerprint}"))
        ready = sum(r.ok for r in self.rows.values())
        self.record_outcome(ready == len(self.wizard.spec.hosts) > 0)
        self.notify(f"{ready} of {len(self.wizard.spec.hosts)} hosts accept the key", title="Access checked")

    # ── actions ────────────────────────────────────────────────────────────
    @on(Button.Pressed, "#check")
    def _check_pressed(self) -> None:
        self.action_check()

    @on(Button.Pressed, "#generate")
    def _generate_pressed(self) -> None:
        self._generate_key()

    @on(Button.Pressed, "#host-password")
    def _host_password_pressed(self) -> None:
        self._host_password()

    def _generate_key(self) -> None:
        path = cluster_key_path(self.wizard.ws)
        try:
            self.wizard.ws.create()
            pair = ensure_key_pair(path, comment=f"kwizard-{self.wizard.spec.name}")
        except KwizardError as error:
            self.wizard.show_error(error)
            return
        self.query_one("#ssh-key", Input).value = str(pair.private)
        verb = "Generated" if pair.generated else "Using the existing"
        self.query_one("#key-info", Static).update(Content(f"key {pair.fingerprint}"))
        self.notify(f"{verb} key pair {pair.private}", title="Key")

    def action_check(self, only: list[str] | None = None) -> None:
        if not self.wizard.collect():
            return
        spec = self.wizard.spec
        if not spec.hosts:
            self.wizard.show_error(
                InputError("No hosts", "There is nothing to connect to yet.", "Add hosts on the Hosts step.")
            )
            return
        key_path = Path(spec.ssh.key).expanduser()
        if not key_path.exists():
            self._offer_key(key_path)
            return
        hosts = [h for h in spec.hosts if only is None or h.name in only]
        for host in hosts:
            self._set_row(host.name, host.address, "waiting", "")
        self.query_one("#check", Button).disabled = True
        self.check_hosts(spec, hosts)

    def _offer_key(self, missing: Path) -> None:
        def chosen(choice: str | None) -> None:
            if choice == "generate":
                self._generate_key()
                self.action_check()

        if self.wizard.spec.target == "aws":
            # Stock AMIs have no password login: a generated key could never be installed. The way in is
            # the EC2 key pair the instances were launched with.
            text = (
                f"There is no private key at {missing}. EC2 instances from stock AMIs accept only the "
                "EC2 key pair chosen when they were launched (no password login), so kwizard cannot install "
                "a new key. Set 'Private key' to that key pair's file (e.g. ~/.ssh/my-keypair.pem, mode "
                "0600) and the user to the AMI's (ubuntu, admin, ec2-user)."
            )
            self.app.push_screen(ChoiceModal("No EC2 key pair file", text, [("cancel", "OK")], "cancel"))
            return
        text = (
            f"There is no private key at {missing}. kwizard can generate an ed25519 key pair for this "
            f"cluster in {cluster_key_path(self.wizard.ws)} (private key mode 0600) and install it on "
            "every host."
        )
        choices = [("generate", "Generate key pair"), ("cancel", "Cancel")]
        self.app.push_screen(ChoiceModal("No SSH key", text, choices, "cancel"), chosen)

    def _host_password(self) -> None:
        name = self._selected_name()
        if name is None or name == "bastion":
            return
        user = self.wizard.spec.ssh.user

        def typed(password: str | None) -> None:
            if password:
                self.wizard.secrets.per_host_password[name] = password
                self.action_check(only=[name])

        prompt = f"Password of {user} on {name} (used once to install the key; never saved):"
        self.app.push_screen(AskModal("Host password", prompt, password=True), typed)

    @work(thread=True, exclusive=True, group="access")
    def check_hosts(self, spec: ClusterSpec, hosts: list[Host]) -> None:
        try:
            # Typed passwords first, then the variables the preset names: no dialog when one is set.
            ctx = self.wizard.phase_context(spec, self._cancel, emit=self._emit_from_thread)
            key = ensure_key_pair(Path(spec.ssh.key), comment=f"kwizard-{spec.name}")
            rows = secure_hosts(ctx, hosts, key, ask_password=lambda names: self._ask_password(spec, names))
        except KwizardError as error:
            self.post_message(AccessChecked([], None, error))
            return
        self.post_message(AccessChecked(rows, key))

    def worker_failed(self, worker: Worker[object]) -> None:
        self.query_one("#check", Button).disabled = False

    def _emit_from_thread(self, event: Event) -> None:
        self.post_message(HostStatusChanged(event))

    def _ask_password(self, spec: ClusterSpec, names: list[str]) -> str | None:
        shown = ", ".join(names[:6]) + (" …" if len(names) > 6 else "")
        prompt = (
            f"The key is not authorised yet on {shown}. Password of {spec.ssh.user} there, used once to "
            "install the key (kept in memory only, never saved):"
        )
        password = ask_from_thread(self.app, AskModal("SSH password", prompt, password=True), self._cancel)
        if password:  # kept for the later steps (the context's Secrets is a resolved copy)
            self.wizard.secrets.ssh_password = password
        return password
