"""The Hosts step driven with real keys: typed ranges, edits, a network scan and an import."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp
from tests.banner_servers import banner_servers


def hosts_app(tmp_path: Path, spec: ClusterSpec | None = None) -> WizardApp:
    return WizardApp(spec or ClusterSpec(name="demo"), root=tmp_path, start_step="hosts")


async def wait_for(pilot: Pilot[object], condition: Callable[[], bool], what: str) -> None:
    for _ in range(200):  # bounded: 10 s
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def type_hosts(pilot: Pilot[object], text: str) -> None:
    await pilot.click("#add-hosts")
    await pilot.press(*text, "enter")


def table_rows(app: WizardApp) -> list[list[str]]:
    table = app.screen.query_one("#hosts-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_typed_ranges_fill_the_table_and_bad_tokens_are_explained(tmp_path: Path) -> None:
    app = hosts_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_hosts(pilot, "10.0.0.[11:13] db[1:2].example.com 10.0.0.300 node[1:3 10.0.0.12")
        rows = table_rows(app)
        assert [r[:2] for r in rows] == [
            ["node1", "10.0.0.11"],
            ["node2", "10.0.0.12"],
            ["node3", "10.0.0.13"],
            ["db1", "db1.example.com"],
            ["db2", "db2.example.com"],
        ]
        assert rows[0][3] == "control_plane, etcd (auto)" and rows[3][3] == "worker, loadbalancer (auto)"
        problems = str(app.screen.query_one("#problems", Static).render())
        assert "10.0.0.300: '10.0.0.300' is not a valid IP address" in problems
        assert "node[1:3: 'node[1:3': unbalanced" in problems
        assert "10.0.0.12: duplicate address" in problems
        # The bad input stays in the field so it can be corrected.
        assert app.screen.query_one("#add-hosts").value.startswith("10.0.0.[11:13]")  # type: ignore[attr-defined]
        await pilot.press("ctrl+n")
        assert [h.name for h in app.spec.hosts] == ["node1", "node2", "node3", "db1", "db2"]
        assert [h.roles for h in app.spec.hosts][3] == ["worker", "loadbalancer"]


async def test_rename_edit_roles_and_remove_with_keys(tmp_path: Path) -> None:
    app = hosts_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await type_hosts(pilot, "n[1:4]=10.0.0.[1:4]")
        await pilot.click("#hosts-table")
        await pilot.press("down", "n")
        await pilot.press(*"\b\b", *"gluster-a", "enter")
        assert table_rows(app)[1][0] == "gluster-a"
        await pilot.press("r")
        await pilot.press("ctrl+a", "ctrl+k")
        await pilot.press(*"cp,etcd,storage", "enter")
        rows = table_rows(app)
        # Editing one host fixed the automatic roles of the others.
        assert [r[3] for r in rows] == [
            "control_plane, etcd",
            "control_plane, etcd, storage",
            "control_plane, etcd",
            "worker, loadbalancer",
        ]
        await pilot.press("r", "ctrl+a", "ctrl+k", *"chef", "enter")  # an unknown role: an error, no change
        assert "Unknown role" in str(app.screen.query_one("#dialog-title").render())
        await pilot.press("escape")
        await pilot.press("down", "down", "delete")
        assert [r[0] for r in table_rows(app)] == ["n1", "gluster-a", "n3"]


@pytest.fixture
def ssh_listeners() -> Iterator[int]:
    """Two SSH-speaking listeners on 127.0.8.3 and 127.0.8.6 (same free port)."""
    with banner_servers(dict.fromkeys(("127.0.8.3", "127.0.8.6"), b"SSH-2.0-OpenSSH_9.2\r\n")) as port:
        yield port


async def test_scan_adds_the_ssh_hosts_it_finds(tmp_path: Path, ssh_listeners: int) -> None:
    app = hosts_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.click("#scan")
        await pilot.press(*f"127.0.8.0/29 {ssh_listeners}", "enter")
        await wait_for(pilot, lambda: len(table_rows(app)) == 2, "the scan results")
        assert [(r[1], r[2]) for r in table_rows(app)] == [
            ("127.0.8.3", f":{ssh_listeners}"),
            ("127.0.8.6", f":{ssh_listeners}"),
        ]


async def test_large_scan_asks_first(tmp_path: Path) -> None:
    app = hosts_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.click("#scan")
        await pilot.press(*"10.0.0.0/16", "enter")
        await wait_for(pilot, lambda: bool(app.screen.query("#dialog-title")), "the confirmation")
        assert "Large network range" in str(app.screen.query_one("#dialog-title").render())
        assert "65,536 addresses" in str(app.screen.query_one("#dialog-problem").render())
        await pilot.click("#cancel")
        assert table_rows(app) == []


async def test_import_from_ssh_config(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host web1\n  HostName 10.1.0.5\n  User admin\nHost *\n  User root\n")
    app = hosts_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.click("#import")
        await pilot.click("#tfstate")  # the state-file dialog first: a missing file is an error modal
        await pilot.press(*"missing.tfstate", "enter")
        await wait_for(pilot, lambda: bool(app.screen.query("#dialog.error")), "the error")
        assert "Cannot read the state file" in str(app.screen.query_one("#dialog-title").render())
        await pilot.press("escape")
        app.screen.import_hosts("ssh_config", str(config))  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: len(table_rows(app)) == 1, "the import")
        assert table_rows(app)[0][:3] == ["web1", "10.1.0.5", "admin"]


async def three_hosts_second_renamed(pilot: Pilot[object]) -> None:
    """n1..n3, with n2 renamed (an edit that a crash would lose) and selected."""
    await type_hosts(pilot, "n[1:3]=10.0.0.[1:3]")
    await pilot.click("#hosts-table")
    await pilot.press("down", "n", "ctrl+a", "ctrl+k", *"renamed", "enter")


async def edit_roles(pilot: Pilot[object], typed: str) -> None:
    await pilot.press("r", "ctrl+a", "ctrl+k", *typed, "enter")
    await pilot.pause()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("cp, master", "control_plane"), ("worker, lb, loadbalancer", "worker, loadbalancer")],
)
async def test_aliases_of_one_role_count_once_and_keep_earlier_edits(
    tmp_path: Path, typed: str, expected: str
) -> None:
    app = hosts_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await three_hosts_second_renamed(pilot)
        await edit_roles(pilot, typed)
        assert app.is_running
        rows = table_rows(app)
        assert [r[0] for r in rows] == ["n1", "renamed", "n3"]
        assert rows[1][3] == expected


async def test_a_role_list_the_host_model_refuses_shows_a_dialog_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hosts_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await three_hosts_second_renamed(pilot)
        before = table_rows(app)
        # Whatever slips past the parser, the Host model's own refusal must reach the user as a dialog.
        monkeypatch.setattr("kwizard.ui.screens.hosts.parse_roles", lambda text: ["worker", "worker"])
        await edit_roles(pilot, "worker")
        assert app.is_running
        assert "Invalid roles" in str(app.screen.query_one("#dialog-title").render())
        assert "listed twice" in str(app.screen.query_one("#dialog-problem").render())
        await pilot.press("escape")
        assert table_rows(app) == before  # the rename stays; no role was fixed or changed
