"""A saved cluster's home screen: its hosts, its last runs, and what can be done to it.

Opened when an existing cluster is continued from the Welcome screen. Each action is one entry of
HOME_ACTIONS: a button that asks what it needs, checks it with the same core functions as the command
line, then runs the same engine on the run screen (kwizard.ui.screens.day2_run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Header, Label, Static

from kwizard.errors import InputError, KwizardError
from kwizard.ui.modals import AskModal, ChoiceModal, PickModal
from kwizard.ui.widgets.footer import Footer

if TYPE_CHECKING:
    from kwizard.day2.backup import Snapshot
    from kwizard.day2.overview import ClusterOverview
    from kwizard.paths import Workspace
    from kwizard.ui.app import WizardApp


@dataclass(frozen=True)
class HomeAction:
    """One button of the home screen: `start(home)` asks, checks and starts the action."""

    id: str
    label: str
    help: str
    start: Callable[[ClusterHome], None]
    variant: str = "default"
    when: Callable[[ClusterHome], bool] = lambda home: True  # shown only when this says so


class ClusterHome(Screen[None]):
    """Hosts, last runs and actions of the wizard's current (saved) cluster."""

    def __init__(self) -> None:
        super().__init__(id="home")
        self.overview: ClusterOverview | None = None

    @property
    def wizard(self) -> WizardApp:
        return cast("WizardApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="home-summary")
        with Horizontal(id="home-body"):
            with Vertical(id="home-tables"):
                yield Label("Hosts", classes="home-heading")
                yield DataTable(id="home-hosts", cursor_type="row", zebra_stripes=True)
                yield Label("Last runs", classes="home-heading")
                yield DataTable(id="home-runs", cursor_type="row", zebra_stripes=True)
            with Vertical(id="home-actions"):
                yield Label("Actions", classes="home-heading")
                for action in HOME_ACTIONS:
                    button = Button(action.label, id=f"action-{action.id}", variant=action.variant)  # type: ignore[arg-type]
                    button.tooltip = action.help
                    yield button
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#home-hosts", DataTable).add_columns("Host", "Address", "Roles")
        self.query_one("#home-runs", DataTable).add_columns("Run", "What", "Status", "Started")
        self.reload()

    def reload(self) -> None:
        """Read the cluster's folder again (after a run) and show it."""
        from kwizard import preset as presets
        from kwizard.day2.overview import overview

        wizard = self.wizard
        try:
            wizard.spec = presets.load(wizard.ws.preset_file)
            wizard.saved_spec = wizard.spec
        except KwizardError as error:
            wizard.show_error(error)
        self.overview = info = overview(wizard.ws, runs=6)
        state = " · [red]reset[/]" if info.reset else ""
        self.query_one("#home-summary", Static).update(
            f"Cluster [b]{info.name}[/b] · Kubespray {info.kubespray_version} · Kubernetes "
            f"{info.kube_version} · {len(info.hosts)} hosts{state}{_snapshots_text(wizard.ws)}"
        )
        hosts = self.query_one("#home-hosts", DataTable)
        hosts.clear()
        for host in info.hosts:
            hosts.add_row(host.name, host.address, ", ".join(host.roles))
        runs = self.query_one("#home-runs", DataTable)
        runs.clear()
        for run in info.runs:
            runs.add_row(run.run_id, run.command, _status(run.status), run.when)
        for action in HOME_ACTIONS:
            self.query_one(f"#action-{action.id}", Button).display = action.when(self)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        wanted = (event.button.id or "").removeprefix("action-")
        for action in HOME_ACTIONS:
            if action.id == wanted:
                try:
                    action.start(self)
                except KwizardError as error:
                    self.wizard.show_error(error)

    # -- helpers the actions use ---------------------------------------------------------------------
    def run(self, title: str, operation: dict[str, Any], resume: Path | None = None) -> None:
        """Run `operation` on the run screen; come back here (refreshed) when it is closed."""
        from kwizard.ui.screens.day2_run import Day2RunScreen

        self.app.push_screen(Day2RunScreen(title, operation, resume=resume), lambda _status: self.reload())

    def refuse_when_reset(self) -> None:
        if self.overview is not None and self.overview.reset:
            raise InputError(
                "The cluster was reset",
                f"{self.overview.name!r} was reset; it has no nodes to change.",
                "Build it again first: Open the wizard, then Deploy.",
            )

    def stopped_day2_run(self) -> tuple[Path, dict[str, Any]] | None:
        """The cluster's last run when it is a day-2 run that did not finish: folder and operation."""
        return last_operation(self.wizard.ws, stopped=True)


def last_operation(ws: Workspace, *, stopped: bool = True) -> tuple[Path, dict[str, Any]] | None:
    """The cluster's last run and its operation when it is a day-2 run (that did not finish)."""
    from kwizard.engine.journal import RunJournal, last_run

    directory = last_run(ws)
    if directory is None:
        return None
    try:
        record = RunJournal.load(directory).record
    except KwizardError:
        return None
    operation = record.options.get("operation")
    if (stopped and record.status == "ok") or not isinstance(operation, dict) or not operation.get("command"):
        return None
    return directory, operation


def _snapshots_text(ws: Workspace) -> str:
    """` · 2 etcd snapshots, the last 2026-12-06T21:47:23Z` (nothing when there is none)."""
    from kwizard.day2.backup import list_snapshots

    snapshots = list_snapshots(ws)
    if not snapshots:
        return ""
    count = f"{len(snapshots)} etcd snapshot" + ("s" if len(snapshots) > 1 else "")
    return f" · {count}, the last {snapshots[-1].taken_at}"


def _status(status: str) -> str:
    colour = {"ok": "green", "failed": "red", "interrupted": "yellow"}.get(status)
    return f"[{colour}]{status}[/]" if colour else status


# -- the actions -------------------------------------------------------------------------------------
def add_node(home: ClusterHome) -> None:
    """Ask for the new hosts (as on the Hosts step) and their roles, show Kubespray's plan, run it."""
    from kwizard.day2.addition import add_node_operation, playbook_steps

    home.refuse_when_reset()

    def hosts_given(text: str | None) -> None:
        if not text or not text.strip():
            return

        def roles_given(roles: str | None) -> None:
            if roles is None:
                return
            try:
                addition, operation = add_node_operation(home.wizard.spec, [text], roles.strip() or None)
            except KwizardError as error:
                home.wizard.show_error(error)
                return
            plan = " → ".join(
                step.playbook + (f" --limit {step.limit}" if step.limit else "")
                for step in playbook_steps(operation["hosts"])
            )
            listed = ", ".join(f"{h.name} ({h.address}: {', '.join(h.roles)})" for h in addition.hosts)

            def confirmed(choice: str | None) -> None:
                if choice == "add":
                    home.run(f"Adding {', '.join(addition.names)}", operation)

            home.app.push_screen(
                ChoiceModal(
                    "Add nodes",
                    f"Add {listed} to {home.wizard.spec.name}?\n\nKubespray: {plan}",
                    [("add", "Add"), ("cancel", "Cancel")],
                    cancel="cancel",
                ),
                confirmed,
            )

        home.app.push_screen(
            AskModal(
                "Add nodes", "Roles of the hosts that name none (control_plane, etcd, worker):", "worker"
            ),
            roles_given,
        )

    home.app.push_screen(
        AskModal("Add nodes", "New hosts, as on the Hosts step (10.0.0.[21:22], node6=10.0.0.16):"),
        hosts_given,
    )


def remove_node(home: ClusterHome) -> None:
    """Ask for the host names, check the removal as the command does, confirm, run remove-node.yml."""
    from kwizard.day2 import REMOVE_NODE
    from kwizard.day2.removal import plan_removal

    home.refuse_when_reset()

    def names_given(text: str | None) -> None:
        if not text or not text.strip():
            return
        try:
            removal = plan_removal(home.wizard.spec, text.replace(",", " ").split())
        except KwizardError as error:
            home.wizard.show_error(error)
            return
        operation = {"command": REMOVE_NODE, "nodes": removal.names, "ungraceful": False, "unreachable": []}

        def confirmed(choice: str | None) -> None:
            if choice == "remove":
                home.run(f"Removing {', '.join(removal.names)}", operation)

        home.app.push_screen(
            ChoiceModal(
                "Remove nodes",
                f"Drain, remove and reset {', '.join(removal.names)}? (Nodes that cannot be reached are "
                f"removed with kwizard remove-node {home.wizard.spec.name} NAME --ungraceful.)",
                [("remove", "Remove"), ("cancel", "Cancel")],
                cancel="cancel",
            ),
            confirmed,
        )

    names = ", ".join(h.name for h in home.wizard.spec.hosts)
    home.app.push_screen(AskModal("Remove nodes", f"Host names to remove ({names}):"), names_given)


def reset(home: ClusterHome) -> None:
    """Reset every host after the cluster's name is typed, as `kwizard reset` asks."""
    from kwizard.day2 import RESET

    name = home.wizard.spec.name
    ask_for_the_name(
        home,
        "Reset the cluster",
        f"This removes Kubernetes and its data from every host. Type the cluster's name ({name}):",
        lambda: home.run(f"Resetting {name}", {"command": RESET}),
    )


def ask_for_the_name(home: ClusterHome, title: str, text: str, then: Callable[[], None]) -> None:
    """A confirmation that needs the cluster's name typed; `then()` runs only when it was."""
    name = home.wizard.spec.name

    def typed(answer: str | None) -> None:
        if answer is None:
            return
        if answer.strip() != name:
            home.wizard.show_error(
                InputError("Not confirmed", f"{answer.strip()!r} is not {name!r}; nothing was changed.", "")
            )
            return
        then()

    home.app.push_screen(AskModal(title, text), typed)


def upgrade(home: ClusterHome) -> None:
    """Ask for the Kubernetes version, check the step as `kwizard upgrade` does, confirm, run it."""
    from kwizard.day2.upgrade import plan_upgrade
    from kwizard.kubespray.checkout import user_dir

    home.refuse_when_reset()
    spec = home.wizard.spec

    def version_given(text: str | None) -> None:
        if not text or not text.strip():
            return
        words = text.split()
        try:
            if len(words) > 2:
                raise InputError(
                    "Two versions at most",
                    f"{text.strip()!r} names {len(words)} versions.",
                    "Give the Kubernetes version, then optionally the Kubespray version: 1.35.4 v2.31.0",
                )
            kubespray = words[1] if len(words) == 2 else None
            plan = plan_upgrade(spec, words[0], kubespray, user_dir(spec, home.wizard.options))
        except KwizardError as error:
            home.wizard.show_error(error)
            return

        def confirmed(choice: str | None) -> None:
            if choice == "upgrade":
                home.run(f"Upgrading {spec.name}", plan.operation())

        home.app.push_screen(
            ChoiceModal(
                "Upgrade Kubernetes",
                f"{plan.text()}. The nodes are drained and upgraded one batch at a time; the preset pins the "
                "new versions only after the upgrade succeeded.",
                [("upgrade", "Upgrade"), ("cancel", "Cancel")],
                cancel="cancel",
            ),
            confirmed,
        )

    home.app.push_screen(
        AskModal(
            "Upgrade Kubernetes",
            f"Kubernetes version to upgrade to (now {spec.kubespray.kube_version}; one minor at a time), "
            f"then the Kubespray version to use if not {spec.kubespray.version} (e.g. 1.35.4 v2.31.0):",
        ),
        version_given,
    )


def backup(home: ClusterHome) -> None:
    """Take an etcd snapshot into the cluster's folder, as `kwizard backup` does."""
    from kwizard.day2.backup import etcd_members

    home.refuse_when_reset()
    etcd_members(home.wizard.spec)  # refused (with the reason) before a run starts
    home.run(f"Backing up etcd of {home.wizard.spec.name}", {"command": "backup"})


def restore(home: ClusterHome) -> None:
    """Pick a snapshot of the cluster's folder; it is checked, what is lost named, the name typed."""
    from kwizard.day2.backup import backups_dir, etcd_members, list_snapshots

    home.refuse_when_reset()
    spec, ws = home.wizard.spec, home.wizard.ws
    etcd_members(spec)  # refused (with the reason) before anything is asked
    snapshots = list(reversed(list_snapshots(ws)))
    if not snapshots:
        raise InputError(
            "No snapshot to restore",
            f"{spec.name!r} has no etcd snapshot in {backups_dir(ws)}.",
            f"Take one first: Back up etcd here, or kwizard backup {spec.name}.",
        )
    options = [(snapshot.path.name, _snapshot_label(snapshot)) for snapshot in snapshots]

    def picked(name: str | None) -> None:
        if name:
            _restore_snapshot(home, name)

    home.app.push_screen(PickModal("Restore etcd", "The cluster's snapshots, newest first:", options), picked)


def _snapshot_label(snapshot: Snapshot) -> str:
    revision = (snapshot.meta.get("status") or {}).get("revision", "?")
    host = snapshot.meta.get("host", "?")
    return f"{snapshot.taken_at} · on {host} · revision {revision} · {snapshot.path.name}"


def _restore_snapshot(home: ClusterHome, name: str) -> None:
    """The chosen snapshot's sha256 checked as `kwizard restore` checks it (in a thread: a snapshot can
    be gigabytes), then the typed confirmation."""
    from kwizard.day2.backup import find_snapshot, sha256_of

    try:
        snapshot = find_snapshot(home.wizard.ws, name)
    except KwizardError as error:
        home.wizard.show_error(error)
        return

    def check() -> None:
        try:
            whole = sha256_of(snapshot.path) == snapshot.sha256
        except OSError as error:
            problem = InputError("Cannot read the snapshot", f"{snapshot.path}: {error.strerror}", "")
            home.app.call_from_thread(home.wizard.show_error, problem)
            return
        home.app.call_from_thread(_confirm_restore, home, snapshot, whole)

    home.notify(f"Checking the sha256 of {snapshot.path.name}…")
    home.run_worker(check, thread=True, exclusive=True, group="restore-check")


def _confirm_restore(home: ClusterHome, snapshot: Snapshot, whole: bool) -> None:
    import time

    from kwizard.day2.restore import operation, what_is_lost

    spec = home.wizard.spec
    if not whole:
        home.wizard.show_error(
            InputError(
                "The snapshot is damaged",
                f"The sha256 of {snapshot.path} is not the {snapshot.sha256} recorded when it was taken.",
                "Restore another snapshot, or take a new backup.",
            )
        )
        return
    wanted = operation(snapshot, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    ask_for_the_name(
        home,
        "Restore etcd",
        f"{what_is_lost(spec, snapshot)}\n\nType the cluster's name ({spec.name}) to restore it:",
        lambda: home.run(f"Restoring {spec.name} from {snapshot.path.name}", wanted),
    )


def resume(home: ClusterHome) -> None:
    """Continue the cluster's stopped day-2 run (what kwizard --resume CLUSTER --yes does)."""
    stopped = home.stopped_day2_run()
    if stopped is not None:
        directory, operation = stopped
        home.run(f"Resuming {operation['command']} run {directory.name}", operation, resume=directory)


def open_wizard(home: ClusterHome) -> None:
    """The wizard's steps over the cluster's preset (change it, then Deploy)."""
    home.app.switch_screen(home.wizard.make_step(0))


HOME_ACTIONS: tuple[HomeAction, ...] = (
    HomeAction(
        "resume",
        "Resume last run",
        "Continue the stopped run",
        resume,
        "warning",
        when=lambda home: home.stopped_day2_run() is not None,
    ),
    HomeAction(
        "add-node", "Add nodes…", "New hosts join (scale.yml, or cluster.yml for control plane)", add_node
    ),
    HomeAction("remove-node", "Remove nodes…", "Kubespray remove-node.yml, then the preset", remove_node),
    HomeAction(
        "upgrade", "Upgrade…", "Kubespray upgrade-cluster.yml one supported step, then the preset", upgrade
    ),
    HomeAction(
        "backup", "Back up etcd", "An etcd snapshot into the cluster's folder, with its sha256", backup
    ),
    HomeAction(
        "restore",
        "Restore etcd…",
        "etcd back to a snapshot of the cluster's folder (names what is lost)",
        restore,
    ),
    HomeAction(
        "reset", "Reset cluster…", "Kubespray reset.yml on every host; the folder is kept", reset, "error"
    ),
    HomeAction(
        "edit", "Open the wizard", "Change the preset step by step, then Deploy", open_wizard, "primary"
    ),
)
