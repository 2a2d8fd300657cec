"""Route53 A records for the load-balancer nodes (the guide's DNS round robin), in a zone that exists.

Record sets carry no tags, so the ledger is what makes one kwizard's: its entry (`dns:NAME`, id
`ZONE/NAME`) is written before the change is sent (a kill right after the change leaves it owned), and
a record set that exists without such an entry is refused, before anything is created, rather than
overwritten. Destroy deletes the ledger's record sets only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kwizard.aws.client import Clients, aws_errors
from kwizard.aws.ledger import Ledger
from kwizard.aws.settings import DnsSettings, in_zone
from kwizard.errors import InputError

KIND = "route53-record"


@dataclass(frozen=True)
class Zone:
    id: str  # without the /hostedzone/ prefix
    name: str  # without the trailing dot
    private: bool


def hosted_zone(clients: Clients, dns: DnsSettings) -> Zone:
    """The settings' hosted zone, checked to hold every record name (before anything is created)."""
    r53 = clients.route53
    with aws_errors("look up the Route53 hosted zone"):
        if dns.zone_id:
            found = [r53.get_hosted_zone(Id=dns.zone_id)["HostedZone"]]
        else:
            listed = r53.list_hosted_zones_by_name(DNSName=dns.zone, MaxItems="10")["HostedZones"]
            found = [z for z in listed if _bare(z["Name"]) == dns.zone]
    if not found:
        raise InputError(
            "Route53 hosted zone not found",
            f"No hosted zone is named {dns.zone!r} in this account.",
            "Create it (aws route53 create-hosted-zone --name ZONE --caller-reference NOW) and delegate "
            "the domain to it, or fix provision.dns.zone.",
        )
    if len(found) > 1:
        ids = ", ".join(z["Id"].removeprefix("/hostedzone/") for z in found)
        raise InputError(
            "Two hosted zones have that name",
            f"{dns.zone!r} is the name of the zones {ids} (a public and a private one, for instance).",
            "Name the one to use by its id: provision.dns.zone_id.",
        )
    zone = Zone(
        found[0]["Id"].removeprefix("/hostedzone/"),
        _bare(found[0]["Name"]),
        bool(found[0].get("Config", {}).get("PrivateZone")),
    )
    outside = [name for name in dns.records if not in_zone(name, zone.name)]
    if outside:
        raise InputError(
            "DNS record outside its zone",
            f"{outside[0]!r} is not a name in the hosted zone {zone.name!r} ({zone.id}).",
            f"Use names ending in .{zone.name} in provision.dns.records, or another zone.",
        )
    return zone


def checked_zone(clients: Clients, ledger: Ledger, dns: DnsSettings) -> Zone:
    """The hosted zone, once each record name is known free or the ledger's (before anything is created)."""
    zone = hosted_zone(clients, dns)
    for name in dns.records:
        _refuse_foreign(_record_set(clients, zone.id, name), ledger, zone, name)
    return zone


def _refuse_foreign(current: dict[str, Any] | None, ledger: Ledger, zone: Zone, name: str) -> None:
    if current is None or ledger.get(f"dns:{name}") == f"{zone.id}/{name}":
        return
    values = [v["Value"] for v in current.get("ResourceRecords", [])]
    raise InputError(
        "DNS record exists already",
        f"{name} (A) in the zone {zone.name} holds {', '.join(values) or 'an alias'}; kwizard did not "
        "create it and does not overwrite it.",
        "Delete it in Route53 if it is no longer used, or choose another name in provision.dns.records.",
    )


def lb_addresses(clients: Clients, instance_ids: list[str], private_zone: bool) -> list[str]:
    """One address per load-balancer node: its public IPv4 address (private in a private zone, or when
    it has none), in the order given."""
    with aws_errors("read the load-balancer nodes' addresses"):
        reservations = clients.ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
    by_id = {i["InstanceId"]: i for r in reservations for i in r["Instances"]}
    addresses = []
    for instance_id in instance_ids:
        instance = by_id.get(instance_id, {})
        public = None if private_zone else instance.get("PublicIpAddress")
        address = public or instance.get("PrivateIpAddress")
        if address:
            addresses.append(str(address))
    return addresses


def update(
    clients: Clients,
    ledger: Ledger,
    zone: Zone | None,
    dns: DnsSettings | None,
    lb_nodes: list[str],
    log: Callable[[str], None],
) -> list[str]:
    """The preset's records pointed at the LB nodes (instance ids), and the ledger's records the preset no
    longer names deleted; the ledger keys created."""
    created = []
    if zone is not None and dns is not None:
        addresses = lb_addresses(clients, lb_nodes, zone.private)
        created = ensure_records(clients, ledger, zone, dns, addresses, log)
    wanted = {f"{zone.id}/{name}" for name in dns.records} if zone and dns else set()
    for entry in ledger.of_kind(KIND):
        if entry.id not in wanted:
            delete_record(clients, entry.id)
            ledger.forget(entry.key)
            log(f"deleted DNS record {entry.key.removeprefix('dns:')}: the preset no longer names it")
    return created


def ensure_records(
    clients: Clients,
    ledger: Ledger,
    zone: Zone,
    dns: DnsSettings,
    addresses: list[str],
    log: Callable[[str], None],
) -> list[str]:
    """Each record set with exactly `addresses` (created, updated, or kept); the ledger keys created."""
    created = []
    wanted = sorted(set(addresses))
    for name in dns.records:
        key, rid = f"dns:{name}", f"{zone.id}/{name}"
        current = _record_set(clients, zone.id, name)
        _refuse_foreign(current, ledger, zone, name)  # made by someone else since the check
        values = sorted(v["Value"] for v in (current or {}).get("ResourceRecords", []))
        if ledger.get(key) != rid:
            ledger.record(key, KIND, rid)  # before the change: a kill after it leaves it owned
        if current is not None and values == wanted and current.get("TTL") == dns.ttl:
            continue
        record_set = {
            "Name": f"{name}.",
            "Type": "A",
            "TTL": dns.ttl,
            "ResourceRecords": [{"Value": a} for a in wanted],
        }
        _change(clients, zone.id, "UPSERT", record_set, f"write the DNS record {name}")
        log(f"{'updated' if current else 'created'} DNS record {name} → {', '.join(wanted)}")
        if current is None:
            created.append(key)
    return created


def record_exists(clients: Clients, rid: str) -> bool:
    zone, name = rid.split("/", 1)
    with aws_errors(f"look up the DNS record {name}"):
        return _record_set(clients, zone, name) is not None


def delete_record(clients: Clients, rid: str) -> None:
    """Delete the A record set `ZONE/NAME` as it is now (gone already: nothing to do)."""
    zone, name = rid.split("/", 1)
    current = _record_set(clients, zone, name)
    if current is not None:
        _change(clients, zone, "DELETE", current, f"delete the DNS record {name}")


def _record_set(clients: Clients, zone: str, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        with aws_errors(f"read the DNS record {name}"):
            found = clients.route53.list_resource_record_sets(
                HostedZoneId=zone, StartRecordName=f"{name}.", StartRecordType="A", MaxItems="1"
            )["ResourceRecordSets"]
    except InputError as error:
        if "NoSuchHostedZone" in error.problem:
            return None  # the zone is gone, and its records with it
        raise
    except ClientError:  # pragma: no cover - aws_errors maps every ClientError
        raise
    for record_set in found:
        if _bare(record_set["Name"]) == name and record_set["Type"] == "A":
            return dict(record_set)
    return None


def _change(clients: Clients, zone: str, action: str, record_set: dict[str, Any], doing: str) -> None:
    batch = {"Comment": "kwizard", "Changes": [{"Action": action, "ResourceRecordSet": record_set}]}
    with aws_errors(doing):
        clients.route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=batch)


def _bare(name: str) -> str:
    """A name as Route53 returns it (trailing dot, '*' escaped as \\052), as the preset writes it."""
    return name.removesuffix(".").replace("\\052", "*").lower()
