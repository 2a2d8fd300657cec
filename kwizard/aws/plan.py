"""The plan shown before anything is created or deleted: what, how many, and a monthly estimate."""

from __future__ import annotations

from dataclasses import dataclass

from kwizard.aws import catalog
from kwizard.aws.layout import az_count, hosts
from kwizard.aws.settings import ProvisionSettings

BASTION_DISK_GB = 8
NAT_DISK_GB = 8


@dataclass(frozen=True)
class PlanLine:
    what: str
    count: int
    detail: str = ""
    monthly_usd: float | None = None  # None: free, or not in the price table


@dataclass(frozen=True)
class Plan:
    lines: tuple[PlanLine, ...]
    region: str
    price_region: str  # whose prices the estimate uses (the region itself when the table has it)

    @property
    def monthly_usd(self) -> float:
        return sum(line.monthly_usd or 0.0 for line in self.lines)

    def text_lines(self) -> list[str]:
        """The plan as plain lines (headless output, logs)."""
        rows = [
            f"  {line.count:>3} × {line.what}"
            + (f" ({line.detail})" if line.detail else "")
            + (f" — ${line.monthly_usd:,.2f}/month" if line.monthly_usd else "")
            for line in self.lines
        ]
        return [*rows, self.footer()]

    def footer(self) -> str:
        note = "" if self.price_region == self.region else f", {self.price_region} prices"
        return (
            f"  ≈ ${self.monthly_usd:,.2f}/month on demand (list prices of {catalog.PRICES_AS_OF}{note}; "
            "traffic and NAT data processing not included)"
        )


def _monthly(region: str, item: str, count: int = 1, units: float = 1.0) -> float | None:
    price, _ = catalog.hourly(region, item)
    if price is None:
        return None
    per_month = price * units if item.endswith("-month") else price * catalog.HOURS_PER_MONTH * units
    return round(per_month * count, 2)


def _instances(
    region: str, what: str, count: int, instance_type: str, disk_gb: int, extra: str = ""
) -> PlanLine:
    compute = _monthly(region, instance_type, count)
    disk = _monthly(region, "gp3-gb-month", count, disk_gb)
    total = None if compute is None else compute + (disk or 0.0)
    detail = f"{instance_type}, {disk_gb} GB gp3" + (f", {extra}" if extra else "")
    return PlanLine(what, count, detail, total)


def provision_plan(settings: ProvisionSettings) -> Plan:
    """What `provision` creates for these settings (whatever of it exists already is kept)."""
    region = settings.region
    azs = az_count(settings)
    planned = hosts(settings)
    public_nodes = sum(h.public for h in planned)
    lines = [
        PlanLine("VPC", 1, settings.vpc_cidr),
        PlanLine("public subnet", azs, "one per AZ"),
    ]
    if settings.nat != "none":
        lines.append(PlanLine("private subnet", azs, "one per AZ"))
    lines += [
        PlanLine("internet gateway", 1),
        PlanLine("route table", 1 + (azs if settings.nat != "none" else 0), "public + one private per AZ"),
        PlanLine("security group", 4, f"SSH to the bastion only from {settings.operator_cidr}"),
    ]
    for group in settings.groups:
        if group.count:
            lines.append(
                _instances(
                    region,
                    f"{group.name} instance",
                    group.count,
                    group.instance_type,
                    group.disk_gb,
                    "+".join(group.roles),
                )
            )
    lines.append(_instances(region, "bastion", 1, settings.bastion_instance_type, BASTION_DISK_GB))
    eips = 1
    if settings.nat == "instances":
        lines.append(
            _instances(region, "NAT instance", azs, settings.nat_instance_type, NAT_DISK_GB, "HA: one per AZ")
        )
        eips += azs
    elif settings.nat == "gateway":
        lines.append(
            PlanLine("NAT gateway", azs, "managed, one per AZ", _monthly(region, "nat-gateway", azs))
        )
        eips += azs
    lines.append(
        PlanLine(
            "Elastic IP",
            eips,
            "bastion" + (", NAT" if settings.nat != "none" else ""),
            _monthly(region, "public-ipv4", eips),
        )
    )
    if public_nodes:
        lines.append(
            PlanLine(
                "public IPv4 address",
                public_nodes,
                "load-balancer nodes",
                _monthly(region, "public-ipv4", public_nodes),
            )
        )
    if settings.dns is not None:
        lb_nodes = sum("loadbalancer" in h.roles for h in planned)
        where = f"zone {settings.dns.zone or settings.dns.zone_id}"
        names = ", ".join(settings.dns.records)
        lines.append(
            PlanLine("Route53 A record", len(settings.dns.records), f"{names} → {lb_nodes} LB nodes, {where}")
        )
    _, price_region = catalog.hourly(region, "public-ipv4")
    return Plan(tuple(lines), region, price_region)
