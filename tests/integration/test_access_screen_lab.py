"""The Access step on real lab hosts, driven with keys: generate a key, trust host keys, type the password."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button

from kwizard import lab as kwlab
from kwizard.access import ensure_key_pair
from kwizard.hostkeys import KnownHosts
from kwizard.paths import Workspace
from kwizard.roles import default_roles
from kwizard.spec import ClusterSpec, Host, SSHSettings
from kwizard.ui.app import WizardApp
from kwizard.ui.hostkey import HostKeyModal, HostKeysModal
from kwizard.ui.modals import AskModal

LabFactory = Callable[..., kwlab.Lab]


async def wait_for(
    pilot: Pilot[object], condition: Callable[[], bool], what: str, seconds: float = 30
) -> None:
    for _ in range(int(seconds / 0.05)):  # bounded
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_check_access_generates_trusts_and_installs(lab_factory: LabFactory, tmp_path: Path) -> None:
    made = lab_factory(*(kwlab.HostTraits(name=f"ui{i}") for i in (1, 2, 3)))
    hosts = default_roles([Host(name=h.name, address=h.address) for h in made.hosts])
    spec = ClusterSpec(
        name="uitest", hosts=hosts, ssh=SSHSettings(user=made.user, key=str(tmp_path / "absent"))
    )
    app = WizardApp(spec, root=tmp_path / "kw", start_step="access")
    ws = Workspace((tmp_path / "kw").resolve(), "uitest")
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: bool(app.screen.query("#dialog-title")), "the no-key question")
        assert "No SSH key" in str(app.screen.query_one("#dialog-title").render())
        await pilot.click("#generate")
        # One list for the keys met in parallel, each host with its fingerprint, then "trust all shown".
        await wait_for(pilot, lambda: isinstance(app.screen, HostKeysModal), "the host-key list")
        lists, shown = 0, ""
        while not app.screen.query("Input#answer"):  # a host slow to connect may make a second round
            modal = app.screen
            if isinstance(modal, HostKeysModal):
                await wait_for(pilot, lambda m=modal: bool(m.query(".fingerprint-row")), "the list's rows")
                lists += 1
                shown += "\n".join(str(row.render()) for row in modal.query(".fingerprint-row"))
                await pilot.press("a")
            elif isinstance(modal, HostKeyModal):
                await wait_for(pilot, lambda m=modal: bool(m.query("#fingerprint")), "the fingerprint")
                shown += str(modal.query_one("#fingerprint").render())
                await pilot.press("t")
            await wait_for(
                pilot,
                lambda m=modal: (
                    app.screen is not m
                    and (
                        isinstance(app.screen, (HostKeysModal, HostKeyModal))
                        or bool(app.screen.query("Input#answer"))
                    )
                ),
                "the next question",
            )
        assert lists >= 1
        for host in made.hosts:
            (entry,) = KnownHosts(made.known_hosts).lookup(host.address, 22)
            assert entry.fingerprint in shown
        assert app.screen.query_one("Input#answer").password  # type: ignore[attr-defined]
        await pilot.press(*made.password, "enter")
        await wait_for(pilot, lambda: not app.screen.query_one("#check", Button).disabled, "the check to end")
        step = app.screen
        assert {name: row.status for name, row in step.rows.items()} == {
            h.name: "installed" for h in made.hosts
        }  # type: ignore[attr-defined]
        assert app.spec.ssh.key == str(ws.ssh_dir / "id_ed25519")
    key_data = (ws.ssh_dir / "id_ed25519.pub").read_text().split()[1]
    for host in made.hosts:
        assert host.exec(["cat", f"/home/{made.user}/.ssh/authorized_keys"]).stdout.count(key_data) == 1
        assert len(KnownHosts(ws.known_hosts).lookup(host.address, 22)) == 1
    leaks = subprocess.run(["grep", "-rlF", made.password, str(tmp_path)], capture_output=True, text=True)
    assert leaks.returncode == 1, f"password found in {leaks.stdout}"


async def test_host_keys_one_by_one_and_rejected_ones_are_not_stored(
    lab_factory: LabFactory, tmp_path: Path
) -> None:
    made = lab_factory(*(kwlab.HostTraits(name=f"ob{i}", user_key=True) for i in (1, 2, 3)))
    hosts = default_roles([Host(name=h.name, address=h.address) for h in made.hosts])
    spec = ClusterSpec(name="onebyone", hosts=hosts, ssh=SSHSettings(user=made.user, key=str(made.key_path)))
    app = WizardApp(spec, root=tmp_path / "kw", start_step="access")
    ws = Workspace((tmp_path / "kw").resolve(), "onebyone")
    async with app.run_test(size=(80, 24)) as pilot:  # the list and its buttons fit a small terminal
        await pilot.press("ctrl+t")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, HostKeysModal) and bool(app.screen.query("#each")),
            "the host-key list",
        )
        await pilot.press("o")
        answers: list[str] = []
        asked: list[object] = []
        for _ in made.hosts:  # then one question per host: trust two, reject the last
            await wait_for(
                pilot,
                lambda: (
                    isinstance(app.screen, HostKeyModal)
                    and app.screen not in asked
                    and bool(app.screen.query("#fingerprint"))
                ),
                "a host-key question",
            )
            asked.append(app.screen)
            fingerprint = str(app.screen.query_one("#fingerprint").render())
            assert fingerprint.startswith("SHA256:")
            answers.append("t" if len(answers) < 2 else "escape")
            await pilot.press(answers[-1])
        await wait_for(pilot, lambda: not app.screen.query_one("#check", Button).disabled, "the check to end")
    stored = [len(KnownHosts(ws.known_hosts).lookup(h.address, 22)) for h in made.hosts]
    assert sorted(stored) == [0, 1, 1]


async def test_password_from_the_named_variable_installs_the_key_without_asking(
    lab_factory: LabFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ssh.password_env set and exported: the Access step uses it (as headless does) and asks nothing."""
    made = lab_factory(kwlab.HostTraits(name="envpw"))  # the sudo user logs in with its password only
    monkeypatch.setenv("KW_TEST_SSH_PASSWORD", made.password)
    monkeypatch.setenv("KW_TEST_BECOME_PASSWORD", made.password)
    key = ensure_key_pair(tmp_path / "id_ed25519", comment="kwizard-envpw")
    hosts = default_roles([Host(name=h.name, address=h.address) for h in made.hosts])
    ssh = SSHSettings(
        user=made.user,
        key=str(key.private),
        password_env="KW_TEST_SSH_PASSWORD",
        become_password_env="KW_TEST_BECOME_PASSWORD",
    )
    spec = ClusterSpec(name="envpw", hosts=hosts, ssh=ssh)
    ws = Workspace((tmp_path / "kw").resolve(), "envpw").create()
    shutil.copy(made.known_hosts, ws.known_hosts)  # host keys trusted before: only the password matters
    app = WizardApp(spec, root=tmp_path / "kw", start_step="access")
    asked: list[str] = []
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)

        def finished() -> bool:
            if isinstance(app.screen, AskModal):
                asked.append(type(app.screen).__name__)
                return True
            return not app.screen.query_one("#check", Button).disabled

        await wait_for(pilot, finished, "the check to end")
        assert asked == []  # no password dialog
        step = app.screen
        assert {name: row.status for name, row in step.rows.items()} == {"envpw": "installed"}  # type: ignore[attr-defined]
        assert app.secrets.ssh_password is None  # nothing typed; the variable stays the source
    authorized = made.hosts[0].exec(["cat", f"/home/{made.user}/.ssh/authorized_keys"]).stdout
    assert key.public_line.split()[1] in authorized
