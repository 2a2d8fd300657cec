"""Snapshots of the Hosts and Access steps and the host-key dialog (what a reviewer should see)."""

from __future__ import annotations

import time
from pathlib import Path

from textual.pilot import Pilot

from kwizard.protocol.phase import Event, HostKeyPrompt
from kwizard.roles import default_roles
from kwizard.spec import Bastion, ClusterSpec, Host, SSHSettings
from kwizard.ui.app import WizardApp
from kwizard.ui.hostkey import HostKeyModal
from kwizard.ui.screens.access import HostStatusChanged

SIZE = (110, 42)


def lab_spec() -> ClusterSpec:
    hosts = [Host(name=f"lab{i}", address=f"10.77.0.{10 + i}") for i in range(1, 6)]
    hosts[0] = hosts[0].model_copy(update={"az": "eu-west-1a", "instance_type": "t3.medium"})
    return ClusterSpec(
        name="lab",
        hosts=default_roles(hosts),
        ssh=SSHSettings(user="kwuser", key="~/.ssh/id_ed25519", password_env="KWIZARD_LAB_PASSWORD"),
    )


def test_hosts_step_with_typed_range_and_problems(snap_compare: object, tmp_path: Path) -> None:
    """The host table after typing a range, a DNS name and two bad tokens.

    A reviewer should see: five lab hosts with their roles (lab1 with its AZ and instance type), then
    node1/node2 from `10.0.1.[1:2]` marked "worker (auto)", the role summary line, and a
    yellow-bordered problems panel naming `10.0.1.300` (invalid IP) and `web[1:3` (unbalanced bracket)
    with their fixes.
    """

    async def type_hosts(pilot: Pilot[object]) -> None:
        await pilot.click("#add-hosts")
        await pilot.press(*"10.0.1.[1:2] 10.0.1.300 web[1:3", "enter")

    app = WizardApp(lab_spec(), root=tmp_path, start_step="hosts")
    assert snap_compare(app, terminal_size=SIZE, run_before=type_hosts)  # type: ignore[operator]


def test_access_step_with_status_rows(snap_compare: object, tmp_path: Path) -> None:
    """The Access step after a check, fed with recorded host_status events (the worker's message path).

    A reviewer should see the login settings (user kwuser, the key, the password variable, a bastion),
    then one row per host: lab1 "✓ key installed", lab2 "✓ key works", lab3 "✗ failed" (wrong password),
    lab4 "? password needed", lab5 "✗ failed" (unreachable), and under the table the selected row's
    detail with its fix in green.
    """
    spec = lab_spec().updated(bastion=Bastion(address="10.77.0.2", user="ops"))
    recorded = [
        ("lab1", "installed", "Key installed.", ""),
        ("lab2", "ok", "The key already logs in.", ""),
        (
            "lab3",
            "failed",
            "lab3 (10.77.0.13:22) refused the password for user 'kwuser'.",
            "Type the password again.",
        ),
        ("lab4", "needs-password", "The key is not authorised for kwuser yet.", "Type the password."),
        ("lab5", "failed", "Cannot connect to lab5 (10.77.0.15:22): no route to host.", "Check the address."),
    ]

    async def feed(pilot: Pilot[object]) -> None:
        screen = pilot.app.screen
        for host, status, detail, fix in recorded:
            data = {"status": status, "detail": detail, "fix": fix}
            screen.post_message(HostStatusChanged(Event("host_status", "access", host, data, time.time())))
        await pilot.pause()
        await pilot.click("#access-table")
        await pilot.press("down", "down")

    app = WizardApp(spec, root=tmp_path, start_step="access")
    assert snap_compare(app, terminal_size=SIZE, run_before=feed)  # type: ignore[operator]


def test_host_key_dialog(snap_compare: object, tmp_path: Path) -> None:
    """The trust-on-first-use dialog.

    A reviewer should see "New host key — trust it?", the host lab1 with `[10.77.0.11]:2222`, the key
    type, the SHA256 fingerprint highlighted on its own line, how to check it on the host, where it will
    be stored, and the buttons "Trust (t)" and "Reject (Esc)".
    """
    prompt = HostKeyPrompt(
        "lab1", "10.77.0.11", 2222, "ssh-ed25519", "SHA256:hDYnJa56aezBSZiMKA7sIiqwaMp9xoPQr2+5FOOHoxU"
    )

    async def show(pilot: Pilot[object]) -> None:
        pilot.app.push_screen(HostKeyModal(prompt, "/home/op/.local/share/kwizard/clusters/lab/known_hosts"))
        await pilot.pause()

    app = WizardApp(lab_spec(), root=tmp_path, start_step="access")
    assert snap_compare(app, terminal_size=SIZE, run_before=show)  # type: ignore[operator]


async def test_aws_access_without_a_key_points_to_the_ec2_key_pair(tmp_path) -> None:
    """Stock AMIs have no password login: no "generate a key" offer, the EC2 key pair file instead."""
    from kwizard.spec import ClusterSpec, Host, SSHSettings
    from kwizard.ui.app import WizardApp

    spec = ClusterSpec(
        name="ec2",
        target="aws",
        hosts=[Host(name="n1", address="10.0.1.10", roles=["control_plane", "etcd", "worker"])],
        ssh=SSHSettings(user="ubuntu", key=str(tmp_path / "missing.pem")),
    )
    app = WizardApp(spec, root=tmp_path / "kw", start_step="access")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one("#generate").display
        await pilot.press("ctrl+t")
        for _ in range(100):  # bounded
            if app.screen.query("#dialog-title"):
                break
            await pilot.pause(0.05)
        assert "No EC2 key pair file" in str(app.screen.query_one("#dialog-title").render())
        assert not app.screen.query("#generate")  # the dialog offers no key generation
    assert not (tmp_path / "missing.pem").exists()


async def test_many_new_host_keys_fit_a_small_terminal_with_their_buttons(tmp_path) -> None:
    """Twelve new keys at 80×24: the list scrolls, the three answers stay on screen."""
    from kwizard.protocol.phase import HostKeyPrompt
    from kwizard.spec import ClusterSpec
    from kwizard.ui.app import WizardApp
    from kwizard.ui.hostkey import HostKeysModal

    prompts = [
        HostKeyPrompt(f"node{i}", f"10.0.0.{i}", 22, "ssh-ed25519", "SHA256:" + "A" * 43)
        for i in range(1, 13)
    ]
    for size in ((80, 24), (160, 48)):
        app = WizardApp(ClusterSpec(name="many"), root=tmp_path / "kw", start_step="access")
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.push_screen(HostKeysModal(prompts, str(tmp_path / "known_hosts")))
            await pilot.pause(0.3)
            # What is drawn, not where the widgets think they are (a clipped button keeps its region).
            drawn = _screen_text(app)
            for label in ("Trust all shown", "One by one", "Reject all"):
                assert label in drawn, (size, label, drawn)
            await pilot.press("a")
            await pilot.pause()
            assert not isinstance(app.screen, HostKeysModal)


def _screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """The text drawn on the screen now, row by row (from Textual's own screenshot)."""
    import html
    import re

    rows: dict[float, list[str]] = {}
    for match in re.finditer(r'<text[^>]*y="([0-9.]+)"[^>]*>(.*?)</text>', app.export_screenshot()):
        text = html.unescape(re.sub("<[^>]+>", "", match.group(2))).replace("\xa0", " ")
        rows.setdefault(float(match.group(1)), []).append(text)
    return "\n".join("".join(parts) for _, parts in sorted(rows.items()))
