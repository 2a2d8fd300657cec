"""`--plain` driven through a prompt_toolkit pipe; the same answers give the same spec as the TUI."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from kwizard import preset as presets
from kwizard.options import RunOptions
from kwizard.spec import ClusterSpec
from kwizard.ui.app import WizardApp
from kwizard.ui.plain import Prompter, run_plain
from tests.tui.wizard_driver import HOSTS, add_hosts, type_into

ENTER = "\r"
DOWN = "\x1b[B"
CLEAR_LINE = "\x15"  # Ctrl-U: drop the prefilled default


def plain_keys(name: str) -> str:
    keys = [CLEAR_LINE + name + ENTER, DOWN + ENTER]  # cluster name; target: AWS
    for host, address, _ in HOSTS:
        keys += [f"{host}={address}" + ENTER, ENTER]  # as on the Hosts step; roles: automatic
    keys += [ENTER]  # no more hosts
    keys += [
        CLEAR_LINE + "ubuntu" + ENTER,
        ENTER,
        ENTER,
        CLEAR_LINE + "KW_PASS" + ENTER,
        ENTER,
    ]  # ssh, bastion
    keys += [ENTER, ENTER, DOWN + ENTER, ENTER, ENTER, ENTER]  # kubespray: cilium
    keys += [ENTER, CLEAR_LINE + "corp.test" + ENTER, ENTER, ENTER, ENTER]  # lb
    keys += [ENTER, "y", ENTER]  # storage none (default), grafana yes, phases as they are
    keys += [ENTER, ENTER]  # save; do not run it now
    return "".join(keys)


def run_plain_with(keys: str, root: Path) -> int:
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        return run_plain(None, RunOptions(), root=root, prompter=Prompter(input=pipe, output=DummyOutput()))


def test_plain_mode_saves_the_answers(kwizard_root: Path):
    assert run_plain_with(plain_keys("plain"), kwizard_root) == 0
    spec = presets.load(kwizard_root / "clusters" / "plain" / "preset.yaml")
    assert spec.target == "aws" and spec.ssh.user == "ubuntu" and spec.ssh.password_env == "KW_PASS"
    assert spec.kubespray.network_plugin == "cilium" and spec.loadbalancer.domain == "corp.test"
    assert spec.apps.grafana is True
    assert [h.address for h in spec.hosts] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


def test_plain_ctrl_c_says_nothing_changed(kwizard_root: Path, capsys):
    assert run_plain_with("\x03", kwizard_root) == 130
    assert "No changes were made" in capsys.readouterr().out
    assert not (kwizard_root / "clusters").exists()


async def test_plain_and_tui_give_the_same_spec(kwizard_root: Path):
    # prompt_toolkit runs its own event loop: keep it off this test's loop.
    assert await asyncio.to_thread(run_plain_with, plain_keys("same"), kwizard_root) == 0
    from_plain = presets.load(kwizard_root / "clusters" / "same" / "preset.yaml")

    app = WizardApp(ClusterSpec(name="same"), root=kwizard_root / "tui", start_step="hosts")
    async with app.run_test(size=(120, 48)) as pilot:
        await pilot.pause()
        app.screen.query_one("#target").value = "aws"  # type: ignore[attr-defined]
        await add_hosts(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        await type_into(pilot, "#ssh-user", "ubuntu")
        await type_into(pilot, "#password-env", "KW_PASS")
        for _ in range(2):
            await pilot.press("ctrl+n")
            await pilot.pause()
        app.screen.query_one("#network-plugin").value = "cilium"  # type: ignore[attr-defined]
        await type_into(pilot, "#lb-domain", "corp.test")
        await pilot.click("#grafana")
        await pilot.press("ctrl+s")
        await pilot.pause()
    from_tui = presets.load(kwizard_root / "tui" / "clusters" / "same" / "preset.yaml")
    assert from_tui.model_dump() == from_plain.model_dump()


def _tail_keys() -> str:
    """From the SSH user to the end, every default taken; saved, not run."""
    return ENTER * 5 + ENTER * 6 + ENTER * 5 + ENTER * 3 + ENTER + ENTER


def test_plain_checks_each_answer_when_given_and_keeps_the_others(kwizard_root: Path, capsys):
    """A duplicate address is refused at its own prompt (the name typed before stays), ranges are
    taken as on the Hosts step, and an even etcd count is fixed by changing one host's roles — no answer
    is lost and nothing is asked twice from the start."""
    keys = CLEAR_LINE + "checked" + ENTER + ENTER  # cluster name; bare metal
    keys += "10.0.0.[11:13]" + ENTER + "cp, etcd" + ENTER  # a range, three control planes
    keys += "10.0.0.12" + ENTER  # a duplicate: refused at the prompt…
    keys += CLEAR_LINE + "w1=10.0.0.20" + ENTER + "worker etcd" + ENTER  # …another answer is taken
    keys += ENTER  # no more hosts: 4 etcd members, an even count
    keys += DOWN * 3 + ENTER  # change the roles of w1
    keys += CLEAR_LINE + "worker" + ENTER
    keys += _tail_keys()
    assert run_plain_with(keys, kwizard_root) == 0
    spec = presets.load(kwizard_root / "clusters" / "checked" / "preset.yaml")
    assert [(h.name, h.address) for h in spec.hosts][-1] == ("w1", "10.0.0.20")
    assert [h.address for h in spec.hosts] == ["10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.20"]
    assert sum(h.has("etcd") for h in spec.hosts) == 3 and spec.host("w1").roles == ["worker"]
    out = capsys.readouterr().out
    assert "4 hosts have the etcd role" in out
    assert "go through it again" not in out


def test_plain_mode_does_not_load_textual():
    import subprocess
    import sys

    from tests.conftest import REPO, kwizard_env

    probe = "import sys, kwizard.ui.plain; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=kwizard_env(), cwd=REPO, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr


def test_plain_asks_before_a_new_cluster_replaces_a_saved_ones_preset(kwizard_root: Path, capsys):
    """Answers given for a new cluster under a saved cluster's name: saving asks first, and the default
    (Enter) keeps the saved preset."""
    saved = kwizard_root / "clusters" / "plain" / "preset.yaml"
    presets.save(ClusterSpec(name="plain", description="kept"), saved)
    keys = plain_keys("plain").removesuffix(ENTER + ENTER) + ENTER + ENTER + ENTER  # save; replace? no
    assert run_plain_with(keys, kwizard_root) == 0
    assert "Not saved. No changes were made." in capsys.readouterr().out
    assert presets.load(saved).description == "kept" and presets.load(saved).hosts == []
