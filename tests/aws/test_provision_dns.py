"""Route53 A records for the load-balancer nodes, through the real CLI against moto's server.

What is asserted is read back from Route53 and EC2 on the same endpoint, not taken from kwizard's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kwizard import preset
from kwizard.aws.resources import TAG_CLUSTER
from kwizard.errors import PresetError
from tests.aws.conftest import provision_preset, write_preset
from tests.aws.test_provision_cli import tagged
from tests.cli import run_kwizard
from tests.moto_server import MotoServer

EX = "example.com"
DNS = {"zone": "example.com", "records": ["*.example.com", "ingress.example.com"], "ttl": 120}


def in_zone(zone: str, *records: str, **more: Any) -> dict[str, Any]:
    return {"zone": zone, "records": list(records), **more}


def in_zone_id(zone_id: str, *records: str) -> dict[str, Any]:
    return {"zone_id": zone_id, "records": list(records)}


def zone_of(server: MotoServer, name: str = "example.com", *, private: bool = False) -> str:
    """A hosted zone as the operator would have it; its bare id."""
    r53 = server.client("route53")
    arguments: dict[str, Any] = {"Name": name, "CallerReference": f"{name}-{private}"}
    if private:
        vpc = server.client().create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        arguments.update(VPC={"VPCRegion": "eu-west-1", "VPCId": vpc}, HostedZoneConfig={"PrivateZone": True})
    return str(r53.create_hosted_zone(**arguments)["HostedZone"]["Id"]).removeprefix("/hostedzone/")


def a_records(server: MotoServer, zone: str) -> dict[str, tuple[int, list[str]]]:
    sets = server.client("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {
        s["Name"].replace("\\052", "*"): (s["TTL"], sorted(r["Value"] for r in s["ResourceRecords"]))
        for s in sets
        if s["Type"] == "A"
    }


def lb_addresses(server: MotoServer, cluster: str, field: str) -> list[str]:
    reservations = server.client().describe_instances(
        Filters=[
            {"Name": f"tag:{TAG_CLUSTER}", "Values": [cluster]},
            {"Name": "tag:kwizard:host", "Values": ["worker-*"]},
        ]
    )["Reservations"]
    return sorted(i[field] for r in reservations for i in r["Instances"])


def test_records_point_at_the_lb_nodes_and_go_with_destroy(aws: MotoServer, tmp_path: Path) -> None:
    zone = zone_of(aws)
    data = provision_preset("awsr", nat="none", dns=DNS)
    args = ("--preset", str(write_preset(tmp_path / "r.yaml", data)), "--yes", "--until", "inventory")
    run = run_kwizard(tmp_path, *args, home=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 × Route53 A record (*.example.com, ingress.example.com → 3 LB nodes, zone example.com)" in (
        run.stdout
    )
    public = lb_addresses(aws, "awsr", "PublicIpAddress")
    assert len(public) == 3 and public != lb_addresses(aws, "awsr", "PrivateIpAddress")
    assert a_records(aws, zone) == {"*.example.com.": (120, public), "ingress.example.com.": (120, public)}
    ledger = json.loads((tmp_path / "clusters/awsr/aws-ledger.json").read_text())["resources"]
    assert {r["key"]: r["id"] for r in ledger if r["kind"] == "route53-record"} == {
        "dns:*.example.com": f"{zone}/*.example.com",
        "dns:ingress.example.com": f"{zone}/ingress.example.com",
    }

    # A second run changes nothing; one with another TTL updates the records in place.
    again = run_kwizard(tmp_path, *args, home=tmp_path, timeout=300)
    assert again.returncode == 0 and "all existed already" in again.stdout, again.stdout + again.stderr
    assert a_records(aws, zone)["ingress.example.com."] == (120, public)
    write_preset(tmp_path / "r.yaml", provision_preset("awsr", nat="none", dns={**DNS, "ttl": 300}))
    assert run_kwizard(tmp_path, *args, home=tmp_path, timeout=300).returncode == 0
    assert a_records(aws, zone) == {"*.example.com.": (300, public), "ingress.example.com.": (300, public)}
    # A record of the ledger deleted by hand (or a kill between the ledger and the change) comes back.
    r53 = aws.client("route53")
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    (wildcard,) = [s for s in sets if s["Type"] == "A" and not s["Name"].startswith("ingress.")]
    r53.change_resource_record_sets(
        HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": wildcard}]}
    )
    assert "*.example.com." not in a_records(aws, zone)
    assert run_kwizard(tmp_path, *args, home=tmp_path, timeout=300).returncode == 0
    assert a_records(aws, zone) == {"*.example.com.": (300, public), "ingress.example.com.": (300, public)}
    # A name taken out of the preset is deleted from the zone and the ledger.
    fewer = {**DNS, "records": ["ingress.example.com"]}
    write_preset(tmp_path / "r.yaml", provision_preset("awsr", nat="none", dns=fewer))
    assert run_kwizard(tmp_path, *args, home=tmp_path, timeout=300).returncode == 0
    assert a_records(aws, zone) == {"ingress.example.com.": (120, public)}
    ledger = json.loads((tmp_path / "clusters/awsr/aws-ledger.json").read_text())["resources"]
    assert [r["key"] for r in ledger if r["kind"] == "route53-record"] == ["dns:ingress.example.com"]
    # A name taken out of the preset is deleted from the zone and the ledger.
    fewer = {**DNS, "records": ["ingress.example.com"]}
    write_preset(tmp_path / "r.yaml", provision_preset("awsr", nat="none", dns=fewer))
    assert run_kwizard(tmp_path, *args, home=tmp_path, timeout=300).returncode == 0
    assert a_records(aws, zone) == {"ingress.example.com.": (120, public)}
    ledger = json.loads((tmp_path / "clusters/awsr/aws-ledger.json").read_text())["resources"]
    assert [r["key"] for r in ledger if r["kind"] == "route53-record"] == ["dns:ingress.example.com"]

    # Destroy lists the records, deletes them with the rest, and leaves the zone's other records alone.
    gone = run_kwizard(tmp_path, "aws", "destroy", "awsr", "--yes", home=tmp_path, timeout=300)
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert gone.stdout.index("1 × route53-record") < gone.stdout.index("deleted route53-record")
    assert a_records(aws, zone) == {} and tagged(aws, "awsr") == {}
    kinds = {
        r["Type"]
        for r in aws.client("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    }
    assert kinds == {"NS", "SOA"}
    twice = run_kwizard(tmp_path, "aws", "destroy", "awsr", "--yes", home=tmp_path, timeout=120)
    assert twice.returncode == 0 and "Nothing to delete" in twice.stdout


def test_a_private_zone_by_id_gets_the_private_addresses(aws: MotoServer, tmp_path: Path) -> None:
    zone = zone_of(aws, "internal.example", private=True)
    dns = {"zone_id": f"/hostedzone/{zone}", "records": ["apps.internal.example"]}
    data = provision_preset("awsp", nat="none", dns=dns)
    args = ("--preset", str(write_preset(tmp_path / "p.yaml", data)), "--yes", "--only", "provision")
    run = run_kwizard(tmp_path, *args, home=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert a_records(aws, zone) == {
        "apps.internal.example.": (60, lb_addresses(aws, "awsp", "PrivateIpAddress"))
    }
    assert (
        run_kwizard(tmp_path, "aws", "destroy", "awsp", "--yes", home=tmp_path, timeout=300).returncode == 0
    )
    assert a_records(aws, zone) == {}


SOMEONES = "ingress.example.com (A) in the zone example.com holds 192.0.2.10"
OUTSIDE = "'a.example.org' is not a name in the hosted zone 'example.com'"


@pytest.mark.parametrize(
    ("dns", "setup", "title", "says"),
    [
        (DNS, "someone's record", "DNS record exists already", SOMEONES),
        (DNS, "no zone", "Route53 hosted zone not found", "No hosted zone is named 'example.com'"),
        (in_zone_id("ZNOSUCH1", "a.example.com"), "", "Route53 hosted zone not found", "NoSuchHostedZone"),
        (in_zone_id("ZONEID", "a.example.org"), "zone id", "DNS record outside its zone", OUTSIDE),
    ],
)
def test_dns_refusals_come_before_anything_is_created(
    aws: MotoServer, tmp_path: Path, dns: dict[str, Any], setup: str, title: str, says: str
) -> None:
    if setup != "no zone":
        zone = zone_of(aws)
        dns = {**dns, "zone_id": zone} if setup == "zone id" else dns
    if setup == "someone's record":
        record = {
            "Name": "ingress.example.com.",
            "Type": "A",
            "TTL": 300,
            "ResourceRecords": [{"Value": "192.0.2.10"}],
        }
        aws.client("route53").change_resource_record_sets(
            HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]}
        )
    data = provision_preset("awsx", nat="none", dns=dns)
    args = ("--preset", str(write_preset(tmp_path / "x.yaml", data)), "--yes", "--only", "provision")
    run = run_kwizard(tmp_path, *args, home=tmp_path, timeout=300)
    assert run.returncode != 0
    output = " ".join((run.stdout + run.stderr).split())
    assert title in output and says in output and "Traceback" not in output
    assert tagged(aws, "awsx") == {}  # nothing was created
    if setup == "someone's record":
        assert a_records(aws, zone) == {"ingress.example.com.": (300, ["192.0.2.10"])}


@pytest.mark.parametrize(
    ("dns", "says"),
    [
        (in_zone(EX, "bad_name.example.com"), "the label 'bad_name' is not 1-63 letters"),
        (in_zone(EX, "-x.example.com"), "'-x.example.com' is not a DNS record name"),
        (in_zone(EX, "localhost"), "it needs at least two labels"),
        (in_zone(EX, "a.*.example.com"), "the label '*' is not"),
        (in_zone(EX, "x" * 64 + ".example.com"), "is not 1-63 letters"),
        (in_zone(EX, "grafana.example.org"), "'grafana.example.org' is not in the zone 'example.com'"),
        (in_zone(EX), "provision.dns.records"),
        (in_zone(EX, "a.example.com", "A.example.com."), "listed twice"),
        (in_zone("example..com", "a.example.com"), "is not a DNS zone name"),
        (in_zone(EX, "a.example.com", zone_id="Z123"), "name the hosted zone one way"),
        ({"records": ["a.example.com"]}, "name the hosted zone one way"),
        (in_zone_id("Z12 3; rm", "a.example.com"), "is not a Route53 hosted zone id"),
        (in_zone(EX, "a.example.com", ttl=1), "provision.dns.ttl"),
    ],
)
def test_bad_dns_settings_are_refused_on_load(dns: dict[str, Any], says: str) -> None:
    with pytest.raises(PresetError) as refused:
        preset.parse(yaml.safe_dump(provision_preset(dns=dns)), "p.yaml")
    assert says in refused.value.problem and "p.yaml:" in refused.value.problem


def test_records_need_load_balancer_nodes() -> None:
    groups = [{"name": "cp", "count": 3, "roles": ["control_plane", "etcd", "worker"]}]
    with pytest.raises(PresetError) as refused:
        preset.parse(yaml.safe_dump(provision_preset(groups=groups, dns=DNS)), "p.yaml")
    assert "no group has that role" in refused.value.problem


def test_names_are_kept_as_route53_writes_them() -> None:
    spec = preset.parse(
        yaml.safe_dump(provision_preset(dns={"zone": "Example.COM.", "records": ["*.Apps.example.com."]})),
        "p.yaml",
    )
    assert spec.provision is not None and spec.provision.dns is not None
    assert (spec.provision.dns.zone, spec.provision.dns.records) == ("example.com", ["*.apps.example.com"])
