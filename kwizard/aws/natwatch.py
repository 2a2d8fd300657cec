"""HA NAT instances: the user data that makes an instance a NAT and starts its watcher, and the IAM
policy the watcher runs under.

One NAT instance per AZ carries its AZ's private route table (0.0.0.0/0). The watcher on each of them
checks the others and, when one fails, moves that AZ's route to itself, then gives it back once the peer
is healthy again. It never stops or terminates an instance: the classic NAT-monitor script did, and could
leave every NAT instance of a VPC stopped.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from importlib import resources
from typing import Any

from kwizard.errors import InputError
from kwizard.spec_values import DNS_LABEL

TAG_CLUSTER = "kwizard:cluster"
TAG_ROLE = "kwizard:role"
TAG_AZ = "kwizard:az"
# TAG_ROLE values the watcher looks for: the NAT instances, and the private subnets' route tables.
ROLE_NAT = "nat"
ROLE_PRIVATE_ROUTES = "private"

# Where the user data installs things on the instance.
WATCHER_PATH = "/usr/local/sbin/kwizard-natwatch"
FORWARD_PATH = "/usr/local/sbin/kwizard-nat-forward"
SETTINGS_PATH = "/etc/default/kwizard-natwatch"
UNIT_DIR = "/etc/systemd/system"
FALLBACK_LOG = "/var/log/kwizard-natwatch.log"

# The only calls the watcher makes (the integration test holds it to this list).
WATCHER_ACTIONS = ("ec2:DescribeInstances", "ec2:DescribeRouteTables", "ec2:ReplaceRoute", "ec2:CreateRoute")

IAM_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            # Describe calls cannot be limited to resources or tags: AWS only accepts "*" for them.
            "Sid": "FindNatInstancesAndRouteTables",
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances", "ec2:DescribeRouteTables"],
            "Resource": "*",
        },
        {
            # Only the private route tables of the cluster the role belongs to: the instance role carries
            # the kwizard:cluster tag, and the route table must carry the same value.
            "Sid": "MoveDefaultRoutesOfThisCluster",
            "Effect": "Allow",
            "Action": ["ec2:ReplaceRoute", "ec2:CreateRoute"],
            "Resource": "arn:aws:ec2:*:*:route-table/*",
            "Condition": {
                "StringEquals": {
                    f"ec2:ResourceTag/{TAG_CLUSTER}": f"${{aws:PrincipalTag/{TAG_CLUSTER}}}",
                    f"ec2:ResourceTag/{TAG_ROLE}": ROLE_PRIVATE_ROUTES,
                }
            },
        },
        {
            # Nothing above allows these; the explicit deny keeps it so if a broader policy is attached.
            "Sid": "NeverStopOrTerminate",
            "Effect": "Deny",
            "Action": ["ec2:StopInstances", "ec2:TerminateInstances"],
            "Resource": "*",
        },
    ],
}

TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
# An AZ name is its region plus a letter (us-east-1a), or a Local Zone (us-west-2-lax-1a).
_AZ_SUFFIX = re.compile(r"^(-[a-z]{3}(-[a-z0-9]+)?-[0-9])?[a-z]$")
_ENDPOINT = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")


def _data(name: str) -> str:
    return (resources.files("kwizard.aws") / "data" / name).read_text(encoding="utf-8")


def script() -> str:
    """The watcher: a POSIX shell script that needs the AWS CLI, curl and ping."""
    return _data("natwatch.sh")


def forward_script() -> str:
    """The forwarding part: IPv4 forwarding on, and masquerade for traffic leaving the VPC."""
    return _data("nat-forward.sh")


def _refuse(what: str, value: object, shape: str) -> InputError:
    return InputError(
        f"Invalid {what} for the NAT instances",
        f"{value!r} is not {shape}.",
        f"Give the {what} as {shape} (it ends up in the NAT instances' user data).",
    )


def _check(
    *,
    cluster: str,
    region: str,
    az: str,
    vpc_cidr: str,
    interval: int,
    threshold: int,
    endpoint_url: str | None,
) -> str:
    """Refuses every value that is not the shape it claims to be; returns the VPC CIDR, normalised."""
    if not isinstance(cluster, str) or not DNS_LABEL.match(cluster):
        raise _refuse("cluster name", cluster, "a DNS label (lower-case letters, digits and '-', ≤63)")
    if not isinstance(region, str) or not _REGION.match(region):
        raise _refuse("region", region, "an AWS region name such as eu-west-1")
    if not isinstance(az, str) or not az.startswith(region) or not _AZ_SUFFIX.match(az[len(region) :]):
        raise _refuse("availability zone", az, f"an availability zone of {region} such as {region}a")
    try:
        network = ipaddress.IPv4Network(vpc_cidr, strict=True)
    except (ValueError, TypeError):
        raise _refuse("VPC CIDR", vpc_cidr, "an IPv4 network such as 10.0.0.0/16") from None
    if not 16 <= network.prefixlen <= 28:
        raise _refuse("VPC CIDR", vpc_cidr, "a VPC-sized network (a prefix from /16 to /28)")
    for what, number, top in (("check interval", interval, 3600), ("failure threshold", threshold, 100)):
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= top:
            raise _refuse(what, number, f"a whole number from 1 to {top}")
    if endpoint_url is not None and (not isinstance(endpoint_url, str) or not _ENDPOINT.match(endpoint_url)):
        raise _refuse(
            "EC2 endpoint URL", endpoint_url, "an http(s) URL such as https://ec2.eu-west-1.amazonaws.com"
        )
    return str(network)


def _file(path: str, text: str, mode: str) -> str:
    """Shell lines that write `text` to `path` verbatim (a quoted here-document) with `mode`."""
    marker = "KWIZARD_FILE_END"
    if marker in text.splitlines():
        raise ValueError(f"{path}'s text contains the here-document marker {marker}")
    body = text if text.endswith("\n") else text + "\n"
    return f"cat > {shlex.quote(path)} <<'{marker}'\n{body}{marker}\nchmod {mode} {shlex.quote(path)}\n"


_FORWARD_UNIT = f"""[Unit]
Description=kwizard NAT: forwarding and masquerade for the VPC
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile={SETTINGS_PATH}
ExecStart={FORWARD_PATH} ${{NATWATCH_VPC_CIDR}}

[Install]
WantedBy=multi-user.target
"""

_WATCH_UNIT = f"""[Unit]
Description=kwizard NAT watcher: takes over the route of a failed NAT instance, and gives it back
After=network-online.target kwizard-nat.service
Wants=network-online.target

[Service]
EnvironmentFile={SETTINGS_PATH}
ExecStart={WATCHER_PATH}
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
"""

_INSTALL_TOOLS = """\
# The tools the watcher and the forwarding need; images differ in what they ship.
missing=""
command -v iptables >/dev/null 2>&1 || missing="$missing iptables"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v ping >/dev/null 2>&1 || missing="$missing iputils-ping"
command -v timeout >/dev/null 2>&1 || missing="$missing coreutils"
if [ -n "$missing" ]; then
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq $missing
fi
# Debian ships the AWS CLI as a package, Ubuntu 24.04 only as a snap.
if ! command -v aws >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq awscli \\
    || snap install aws-cli --classic
fi
"""

_START = f"""\
{FORWARD_PATH} "$vpc_cidr"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now kwizard-nat.service kwizard-natwatch.service
else
  # No systemd: run the watcher in the background, its lines in a file and in syslog.
  (
    set -a
    # shellcheck source=/dev/null
    . {SETTINGS_PATH}
    set +a
    NATWATCH_SYSLOG=1 nohup {WATCHER_PATH} >>{FALLBACK_LOG} 2>&1 </dev/null &
  )
fi
echo "kwizard NAT instance ready: forwarding for $vpc_cidr, watcher started"
"""


def user_data(
    *,
    cluster: str,
    region: str,
    az: str,
    vpc_cidr: str,
    interval: int = 5,
    threshold: int = 3,
    endpoint_url: str | None = None,
) -> str:
    """The NAT instance's whole user data: forwarding + masquerade for the VPC, then the watcher."""
    cidr = _check(
        cluster=cluster,
        region=region,
        az=az,
        vpc_cidr=vpc_cidr,
        interval=interval,
        threshold=threshold,
        endpoint_url=endpoint_url,
    )
    settings = {
        "NATWATCH_CLUSTER": cluster,
        "NATWATCH_REGION": region,
        "NATWATCH_AZ": az,
        "NATWATCH_VPC_CIDR": cidr,
        "NATWATCH_INTERVAL": str(interval),
        "NATWATCH_THRESHOLD": str(threshold),
    }
    if endpoint_url:
        settings["NATWATCH_ENDPOINT_URL"] = endpoint_url
    settings_text = "".join(f"{key}={shlex.quote(value)}\n" for key, value in settings.items())
    parts = [
        "#!/bin/sh\n",
        f"# kwizard NAT instance of cluster {cluster} in {az}: forwarding for the VPC and the NAT watcher.\n",
        "set -eu\n",
        "umask 022\n",
        f"vpc_cidr={shlex.quote(cidr)}\n",
        f"install -d -m 0755 /usr/local/sbin /etc/default {UNIT_DIR}\n",
        _file(SETTINGS_PATH, settings_text, "0644"),
        _file(FORWARD_PATH, forward_script(), "0755"),
        _file(WATCHER_PATH, script(), "0755"),
        _file(f"{UNIT_DIR}/kwizard-nat.service", _FORWARD_UNIT, "0644"),
        _file(f"{UNIT_DIR}/kwizard-natwatch.service", _WATCH_UNIT, "0644"),
        _INSTALL_TOOLS,
        _START,
    ]
    return "".join(parts)
