"""What is checked on AWS before anything is created: the AZs, the instance types they offer, the image
and the key pair. Each refusal names the preset key to change and how to look the value up."""

from __future__ import annotations

from typing import Any

from kwizard.aws.client import aws_errors
from kwizard.aws.layout import hosts
from kwizard.aws.settings import AmiChoice, ProvisionSettings
from kwizard.errors import InputError


class PreCreateChecks:
    """The checks of `Provisioner` (kwizard.aws.create) that run before its first create."""

    settings: ProvisionSettings
    root_device: str

    @property
    def ec2(self) -> Any:
        raise NotImplementedError  # Provisioner's EC2 client

    def zones(self) -> list[str]:
        """The AZs to use: the listed ones, else the region's first N available ones."""
        with aws_errors("list the region's availability zones"):
            available = [
                z["ZoneName"]
                for z in self.ec2.describe_availability_zones(
                    Filters=[{"Name": "state", "Values": ["available"]}]
                )["AvailabilityZones"]
                if z.get("ZoneType", "availability-zone") == "availability-zone"
            ]
        wanted = self.settings.azs
        if isinstance(wanted, list):
            missing = [az for az in wanted if az not in available]
            if missing:
                raise InputError(
                    "Availability zone not available",
                    f"{', '.join(missing)} is not an available AZ of {self.settings.region} "
                    f"(available: {', '.join(available)})",
                    "Fix provision.azs, or give a number of AZs and let kwizard pick them.",
                )
            return list(wanted)
        available.sort()
        if len(available) < wanted:
            raise InputError(
                "Not enough availability zones",
                f"{self.settings.region} has {len(available)} available AZs; the preset asks for {wanted}",
                f"Set provision.azs to {len(available)} (at least 2), or pick another region.",
            )
        return available[:wanted]

    def check_offerings(self, zones: list[str]) -> None:
        """Refuse early when an AZ does not offer an instance type the plan uses there."""
        needed: dict[str, set[str]] = {}
        for host in hosts(self.settings):
            needed.setdefault(host.instance_type, set()).add(zones[host.az_index])
        if self.settings.nat == "instances":
            needed.setdefault(self.settings.nat_instance_type, set()).update(zones)
        needed.setdefault(self.settings.bastion_instance_type, set()).add(zones[0])
        with aws_errors("list the instance types offered per AZ"):
            offered: set[tuple[str, str]] = set()
            pages = self.ec2.get_paginator("describe_instance_type_offerings").paginate(
                LocationType="availability-zone",
                Filters=[{"Name": "instance-type", "Values": sorted(needed)}],
            )
            for page in pages:
                for offer in page["InstanceTypeOfferings"]:
                    offered.add((offer["InstanceType"], offer["Location"]))
        refused = [
            f"{instance_type} is not offered in {', '.join(missing)}"
            for instance_type, where in sorted(needed.items())
            if (missing := sorted(az for az in where if (instance_type, az) not in offered))
        ]
        if refused:
            types = ",".join(sorted({line.split()[0] for line in refused}))
            raise InputError(
                "Instance type not offered in an AZ",
                "; ".join(refused),
                "Pick other instance types, or list AZs that offer them in provision.azs (aws ec2 "
                "describe-instance-type-offerings --location-type availability-zone --filters "
                f"Name=instance-type,Values={types}).",
            )

    def image(self) -> str:
        """The AMI id: the given one (checked), or the newest match of the owner/name filter."""
        ami = self.settings.ami
        with aws_errors("look up the AMI"):
            if ami.id:
                images = self.ec2.describe_images(ImageIds=[ami.id])["Images"]
            else:
                owner, name = ami.owner_and_name() or ("", "")
                images = self.ec2.describe_images(
                    Owners=[owner],
                    Filters=[
                        {"Name": "name", "Values": [name]},
                        {"Name": "state", "Values": ["available"]},
                    ],
                )["Images"]
        # The instance types kwizard sizes are x86_64 ones (an image that does not say is taken as such).
        images = [image for image in images if image.get("Architecture") in (None, "x86_64")]
        if not images:
            raise InputError(
                "AMI not found",
                f"No image matches {ami.describe()} in {self.settings.region}.",
                _ami_fix(ami, self.settings.region),
            )
        images.sort(key=lambda image: str(image.get("CreationDate", "")), reverse=True)
        # The root disk is sized through the image's own root device (/dev/sda1 on Ubuntu, /dev/xvda on
        # Debian): another name would add a second, unused volume.
        self.root_device = str(images[0].get("RootDeviceName") or "/dev/sda1")
        return str(images[0]["ImageId"])

    def check_key_pair(self) -> None:
        with aws_errors(f"find the EC2 key pair {self.settings.key_name!r}"):
            self.ec2.describe_key_pairs(KeyNames=[self.settings.key_name])


def _ami_fix(ami: AmiChoice, region: str) -> str:
    """What to change when no x86_64 image matches, for the way the preset chose it."""
    if ami.id:
        return (
            f"An AMI id exists in one region only: check that {ami.id} is in {region} (aws ec2 "
            "describe-images --image-ids ID --region REGION), or use 'distro: ubuntu-24.04' or "
            "'distro: debian-12'."
        )
    if ami.distro:
        return (
            f"The publisher's images of {ami.distro} are not visible in {region} to these credentials: check "
            "the region (and, on a private endpoint or a restricted account, that public images are "
            "allowed), or give an image of that region by 'id: ami-…'."
        )
    return (
        "Check provision.ami: the name filter (aws ec2 describe-images --owners OWNER --filters "
        "Name=name,Values=PATTERN) and that the owner is the publisher's account id; or use "
        "'distro: ubuntu-24.04' or 'distro: debian-12'."
    )
