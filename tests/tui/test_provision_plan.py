"""The AWS plan dialog shown before a run creates hosts: what it shows (snapshot), its answers (Pilot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from kwizard import preset
from kwizard.aws.plan import Plan, provision_plan
from kwizard.resources import stylesheet
from kwizard.ui.provision_plan import ProvisionPlanModal


def shipped_plan() -> Plan:
    spec = preset.load("presets/aws-3az.yaml")
    assert spec.provision is not None
    return provision_plan(spec.provision)


class PlanHost(App[None]):
    """A bare app showing only the plan dialog, with the wizard's shared stylesheet."""

    CSS_PATH: ClassVar = [stylesheet("app")]

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        self.answers: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(ProvisionPlanModal("aws-3az", self.plan), self.answers.append)


def test_provision_plan_dialog(snap_compare: Any) -> None:
    """The shipped aws-3az preset's plan: "AWS hosts for aws-3az in eu-west-1", a table from VPC to
    the three public IPv4 addresses with 3 cp (t3.medium), 3 worker (t3.large), 1 bastion and 3 NAT
    instances and their $/month, the total line with "list prices of 2025-06-01", and the buttons
    "Create them" (focused) and "Cancel"."""
    assert snap_compare(PlanHost(shipped_plan()), terminal_size=(120, 40))


async def test_the_plan_lists_every_line_and_its_total() -> None:
    plan = shipped_plan()
    app = PlanHost(plan)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#plan-table", DataTable)
        rows = [table.get_row_at(index) for index in range(table.row_count)]
        assert [row[0] for row in rows] == [line.what for line in plan.lines]
        nat = next(row for row in rows if row[0] == "NAT instance")
        assert nat[:3] == ["NAT instance", "3", "t3.small, 8 GB gp3, HA: one per AZ"]
        total = str(app.screen.query_one("#plan-total", Static).render())
        assert f"${plan.monthly_usd:,.2f}/month" in total


async def test_enter_creates_and_escape_cancels() -> None:
    app = PlanHost(shipped_plan())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")  # "Create them" has the focus
        await pilot.pause()
    assert app.answers == [True]
    app = PlanHost(shipped_plan())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.answers == [False]


async def test_deploy_shows_the_plan_first_and_creates_only_once_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Deploy step of an AWS preset with a provision section, against moto's server: Cancel in the
    plan creates nothing; Create runs provision and discovery, which fill in the hosts."""
    from textual.widgets import Button

    from kwizard.ui.app import WizardApp
    from kwizard.ui.screens.deploy import DeployStep
    from tests.deploy_driver import wait_until_idle
    from tests.moto_server import moto_server, prepare_account

    spec = preset.load("presets/aws-3az.yaml").updated(phases=["discover"])
    with moto_server() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        prepare_account(server, "kwizard-aws")
        ec2 = server.client()
        app = WizardApp(spec, root=tmp_path / "root", start_step="deploy")
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            step = app.screen
            assert isinstance(step, DeployStep)
            step.query_one("#deploy-start", Button).press()
            await pilot.pause()
            assert isinstance(app.screen, ProvisionPlanModal)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is step and step.engine is None
            assert (
                ec2.describe_vpcs(Filters=[{"Name": "tag:kwizard:cluster", "Values": ["aws-3az"]}])["Vpcs"]
                == []
            )

            step.query_one("#deploy-start", Button).press()
            await pilot.pause()
            app.screen.query_one("#plan-create", Button).press()
            step = await wait_until_idle(pilot, app, seconds=240)
            state = step.query_one("Dashboard").state  # type: ignore[attr-defined]
            assert state.status == "ok", state
            assert [p for p in ("provision", "discover") if state.phase(p).status == "ok"] == [
                "provision",
                "discover",
            ]
        saved = preset.load(tmp_path / "root" / "clusters" / "aws-3az" / "preset.yaml")
        assert sorted(h.name for h in saved.hosts) == [
            "cp-a",
            "cp-b",
            "cp-c",
            "worker-a",
            "worker-b",
            "worker-c",
        ]
        assert saved.bastion is not None


async def test_the_hosts_step_creates_the_aws_hosts_after_the_plan_and_lists_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hosts step of the shipped AWS preset, against moto's server: "Create on AWS…" shows the plan,
    "Create them" creates the hosts and lists them with their zones and types; the bastion is set."""
    from textual.widgets import Button

    from kwizard.ui.app import WizardApp
    from kwizard.ui.screens.hosts import HostsStep
    from tests.moto_server import moto_server, prepare_account

    spec = preset.load("presets/aws-3az.yaml")
    with moto_server() as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        prepare_account(server, "kwizard-aws")
        app = WizardApp(spec, root=tmp_path / "root")
        async with app.run_test(size=(120, 45)) as pilot:
            await pilot.pause()
            step = app.screen
            assert isinstance(step, HostsStep)
            button = step.query_one("#create-aws", Button)
            assert button.display
            button.press()
            await pilot.pause()
            assert isinstance(app.screen, ProvisionPlanModal)
            app.screen.query_one("#plan-create", Button).press()
            table = step.query_one("#hosts-table", DataTable)
            for _ in range(600):  # bounded: 60 s
                await pilot.pause(0.1)
                if table.row_count:
                    break
            rows = [table.get_row_at(index) for index in range(table.row_count)]
            assert [row[0] for row in rows] == ["cp-a", "cp-b", "cp-c", "worker-a", "worker-b", "worker-c"]
            assert rows[0][4] == "eu-west-1a t3.medium" and rows[5][4] == "eu-west-1c t3.large"
            updated = step.apply_to(app.spec)
        ec2 = server.client()
        addresses = {a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]}
        assert updated.bastion is not None and updated.bastion.address in addresses
        private = {
            i["PrivateIpAddress"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
        }
        assert {h.address for h in updated.hosts} <= private


async def test_the_create_on_aws_button_is_only_there_for_a_provision_section(tmp_path: Path) -> None:
    from textual.widgets import Button

    from kwizard.ui.app import WizardApp

    app = WizardApp(preset.load("presets/baremetal-ha.yaml"), root=tmp_path / "root")
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one("#create-aws", Button).display
