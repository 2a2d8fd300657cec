"""The NAT watcher run for real: the shipped shell script and the AWS CLI against moto's EC2 server on
loopback, with the user data's forwarding part run in network namespaces.

The test drives the watcher's clock (NATWATCH_SLEEP) one round at a time and its probe (NATWATCH_PROBE)
through flag files, then reads the route tables back from moto. moto records every request it serves;
the watcher signs with its own access key, so its calls can be told from the test's own.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import boto3
import pytest

from kwizard.aws import natwatch

REGION = "eu-west-1"
CLUSTER = "natlab"
VPC_CIDR = "10.20.0.0/16"
WATCHER_KEY = "AKIANATWATCHER000001"
TEST_KEY = "AKIATESTSETUP0000001"
BIN = Path(sys.executable).parent
AWS_CLI = BIN / "aws"
NETNS_PREFIX = os.environ.get("KWIZARD_TEST_LAB", "kwtest")[:6]

pytestmark = pytest.mark.slow


def _bounded_wait(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class MotoServer:
    """moto's server on 127.0.0.1 with its request recorder on."""

    process: subprocess.Popen[str]
    endpoint: str
    recording: Path

    def post(self, path: str) -> None:
        request = urllib.request.Request(self.endpoint + path, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def reset(self) -> None:
        self.post("/moto-api/reset")
        self.post("/moto-api/recorder/reset-recording")

    def calls(self) -> list[tuple[str, str]]:
        """(access key, action) of every request recorded since the last reset."""
        calls = []
        text = self.recording.read_text() if self.recording.exists() else ""
        for line in text.splitlines():
            entry = json.loads(line)
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode()
            action = parse_qs(body).get("Action", [""])[0]
            auth = entry["headers"].get("Authorization", "")
            key = auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else ""
            calls.append((key, action))
        return calls


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    assert AWS_CLI.exists(), "the AWS CLI is part of the dev extra: pip install -e '.[dev]'"
    folder = tmp_path_factory.mktemp("moto")
    recording = folder / "recording.jsonl"
    log = folder / "server.log"
    env = dict(os.environ, MOTO_ENABLE_RECORDING="true", MOTO_RECORDER_FILEPATH=str(recording))
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        marker = "Running on http://127.0.0.1:"

        def started() -> bool:
            assert process.poll() is None, f"moto's server ended:\n{log.read_text()}"
            return marker in log.read_text()

        _bounded_wait(started, 60, "moto's server")
        endpoint = log.read_text().split("Running on ", 1)[1].split()[0]
        yield MotoServer(process, endpoint, recording)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Gate:
    """A TCP relay on loopback in front of moto: open, it passes bytes through; closed, connections are
    refused, as when EC2's endpoint cannot be reached."""

    def __init__(self, target: str):
        self.target = ("127.0.0.1", int(target.rsplit(":", 1)[1]))
        self.port = _closed_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: socket.socket | None = None

    def open(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def close(self) -> None:
        if self.server:
            self.server.close()
            self.server = None

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=30)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@dataclass
class Vpc:
    """A cluster's VPC in moto: per AZ a NAT instance and a private route table through it."""

    ec2: object
    nat: dict[str, str] = field(default_factory=dict)  # AZ -> instance id
    address: dict[str, str] = field(default_factory=dict)  # AZ -> the NAT's private address
    table: dict[str, str] = field(default_factory=dict)  # AZ -> private route table id

    def route(self, az: str) -> str | None:
        """The instance the AZ's 0.0.0.0/0 route leads to, read from moto."""
        tables = self.ec2.describe_route_tables(RouteTableIds=[self.table[az]])["RouteTables"]  # type: ignore[attr-defined]
        for route in tables[0]["Routes"]:
            if route.get("DestinationCidrBlock") == "0.0.0.0/0":
                return route.get("InstanceId")
        return None

    def states(self) -> dict[str, str]:
        reservations = self.ec2.describe_instances(InstanceIds=list(self.nat.values()))["Reservations"]  # type: ignore[attr-defined]
        return {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}


def _tags(resource: str, **values: str) -> list[dict[str, object]]:
    keys = {"cluster": natwatch.TAG_CLUSTER, "role": natwatch.TAG_ROLE, "az": natwatch.TAG_AZ}
    return [{"ResourceType": resource, "Tags": [{"Key": keys[k], "Value": v} for k, v in values.items()]}]


def build_vpc(moto: MotoServer, zones: str = "ab") -> Vpc:
    moto.reset()
    ec2 = boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=moto.endpoint,
        aws_access_key_id=TEST_KEY,
        aws_secret_access_key="test-secret",
    )
    vpc = Vpc(ec2)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    for index, letter in enumerate(zones):
        az = REGION + letter
        public = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=az)
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.20.{100 + index}.0/24", AvailabilityZone=az)
        instance = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            SubnetId=public["Subnet"]["SubnetId"],
            TagSpecifications=_tags("instance", cluster=CLUSTER, role=natwatch.ROLE_NAT, az=az),
        )["Instances"][0]
        vpc.nat[az] = instance["InstanceId"]
        vpc.address[az] = instance["PrivateIpAddress"]
        table = ec2.create_route_table(
            VpcId=vpc_id,
            TagSpecifications=_tags("route-table", cluster=CLUSTER, role=natwatch.ROLE_PRIVATE_ROUTES, az=az),
        )["RouteTable"]["RouteTableId"]
        ec2.create_route(
            RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", InstanceId=instance["InstanceId"]
        )
        vpc.table[az] = table
    # Another cluster's route table in the same VPC: the watcher must never touch it.
    other = ec2.create_route_table(
        VpcId=vpc_id,
        TagSpecifications=_tags(
            "route-table", cluster="other", role=natwatch.ROLE_PRIVATE_ROUTES, az=REGION + "b"
        ),
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=other, DestinationCidrBlock="0.0.0.0/0", InstanceId=vpc.nat[REGION + "a"])
    vpc.table["other"] = other
    return vpc


CLOCK = """#!/bin/sh
# The test's clock: notes each pause the watcher asks for, then waits for the test's go-ahead.
d=$(dirname "$0")
echo "$1" >>"$d/pauses"
n=$(wc -l <"$d/pauses")
i=0
while [ ! -e "$d/go.$n" ]; do
  i=$((i + 1))
  [ "$i" -le 1200 ] || exit 1
  sleep 0.05
done
"""


class Watcher:
    """The shipped watcher script running as the NAT instance of one AZ."""

    def __init__(self, folder: Path, moto: MotoServer, vpc: Vpc, az: str, *, threshold: int, **env: str):
        self.folder = folder
        folder.mkdir()
        (folder / "natwatch.sh").write_text(natwatch.script())
        (folder / "clock.sh").write_text(CLOCK)
        self.log = folder / "watcher.log"
        environment = {
            "PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(folder),
            "AWS_ACCESS_KEY_ID": WATCHER_KEY,
            "AWS_SECRET_ACCESS_KEY": "watcher-secret",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "NATWATCH_CLUSTER": CLUSTER,
            "NATWATCH_REGION": REGION,
            "NATWATCH_AZ": az,
            "NATWATCH_ENDPOINT_URL": moto.endpoint,
            "NATWATCH_INSTANCE_ID": vpc.nat[az],
            "NATWATCH_INTERVAL": "5",
            "NATWATCH_THRESHOLD": str(threshold),
            # A peer is down while a file named after its address exists.
            "NATWATCH_PROBE": f'test ! -e {folder}/down-"$1"',
            "NATWATCH_SLEEP": f'sh {folder}/clock.sh "$1"',
            **env,
        }
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                ["sh", str(folder / "natwatch.sh")],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        self.wait_rounds(1)

    def rounds(self) -> int:
        pauses = self.folder / "pauses"
        return len(pauses.read_text().splitlines()) if pauses.exists() else 0

    def wait_rounds(self, count: int) -> None:
        def done() -> bool:
            assert self.process.poll() is None, f"the watcher ended early:\n{self.log.read_text()}"
            return self.rounds() >= count

        _bounded_wait(done, 90, f"round {count} of the watcher")

    def next_round(self, times: int = 1) -> None:
        for _ in range(times):
            done = self.rounds()
            (self.folder / f"go.{done}").touch()
            self.wait_rounds(done + 1)

    def set_down(self, address: str, down: bool) -> None:
        flag = self.folder / f"down-{address}"
        if down:
            flag.touch()
        else:
            flag.unlink()

    def pauses(self) -> list[str]:
        return (self.folder / "pauses").read_text().split()

    def stop(self) -> str:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            code = self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        text = self.log.read_text()
        assert code == 0, text
        return text


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    started: list[Watcher] = []
    yield started
    for watcher in started:
        if watcher.process.poll() is None:
            os.killpg(watcher.process.pid, signal.SIGKILL)
            watcher.process.wait(timeout=10)


def assert_only_allowed_calls(moto: MotoServer) -> list[str]:
    """The watcher's calls, checked against its IAM policy; nobody stopped or terminated anything."""
    calls = moto.calls()
    watcher_actions = [action for key, action in calls if key == WATCHER_KEY]
    assert watcher_actions, "no call of the watcher was recorded"
    assert {f"ec2:{a}" for a in watcher_actions} <= set(natwatch.WATCHER_ACTIONS), watcher_actions
    assert not [c for c in calls if c[1] in {"StopInstances", "TerminateInstances"} and c[0] == WATCHER_KEY]
    return watcher_actions


def test_route_moves_after_threshold_failures_and_returns(
    moto: MotoServer, tmp_path: Path, watchers: list
) -> None:
    """Peer healthy: no change; failing 3 checks: its AZ's route moves here; healthy again: it returns."""
    vpc = build_vpc(moto)
    a, b = REGION + "a", REGION + "b"
    watcher = Watcher(tmp_path / "a", moto, vpc, a, threshold=3)
    watchers.append(watcher)

    watcher.next_round()  # two healthy rounds
    assert (vpc.route(a), vpc.route(b)) == (vpc.nat[a], vpc.nat[b])

    watcher.set_down(vpc.address[b], True)
    watcher.next_round(2)  # two failures: below the threshold
    assert vpc.route(b) == vpc.nat[b]
    watcher.next_round()  # the third
    assert vpc.route(b) == vpc.nat[a]
    watcher.next_round(2)  # still down: stays here, no further change
    assert vpc.route(b) == vpc.nat[a]

    watcher.set_down(vpc.address[b], False)
    watcher.next_round(2)
    assert vpc.route(b) == vpc.nat[a]
    watcher.next_round()
    assert vpc.route(b) == vpc.nat[b]
    assert vpc.route(a) == vpc.nat[a]
    assert vpc.route("other") == vpc.nat[a]

    log = watcher.stop()
    assert "moved from 'i-" in log and "given back to " + vpc.nat[b] in log, log
    assert set(watcher.pauses()) == {"5"}  # every pause was the interval: no API error happened
    actions = assert_only_allowed_calls(moto)
    assert actions.count("ReplaceRoute") == 2, actions
    assert set(vpc.states().values()) == {"running"}


def test_stopped_peer_loses_its_route_and_gets_it_back(
    moto: MotoServer, tmp_path: Path, watchers: list
) -> None:
    """A peer that answers the probe but is stopped in EC2 fails the check; started again, it is healthy."""
    vpc = build_vpc(moto)
    a, b = REGION + "a", REGION + "b"
    watcher = Watcher(tmp_path / "a", moto, vpc, a, threshold=2)
    watchers.append(watcher)

    vpc.ec2.stop_instances(InstanceIds=[vpc.nat[b]])  # type: ignore[attr-defined]
    watcher.next_round()
    assert vpc.route(b) == vpc.nat[b]
    watcher.next_round()
    assert vpc.route(b) == vpc.nat[a]

    vpc.ec2.start_instances(InstanceIds=[vpc.nat[b]])  # type: ignore[attr-defined]
    watcher.next_round(2)
    assert vpc.route(b) == vpc.nat[b]
    log = watcher.stop()
    assert f"{vpc.nat[b]} is stopped" in log, log
    assert_only_allowed_calls(moto)
    # The one stop in the recording is the test's own.
    assert [c for c in moto.calls() if c[1] == "StopInstances"] == [(TEST_KEY, "StopInstances")]


def test_terminated_peer_zone_is_carried_from_then_on(
    moto: MotoServer, tmp_path: Path, watchers: list
) -> None:
    """A peer terminated (its route left a blackhole): its AZ's route moves here and stays."""
    vpc = build_vpc(moto)
    a, b = REGION + "a", REGION + "b"
    vpc.ec2.terminate_instances(InstanceIds=[vpc.nat[b]])  # type: ignore[attr-defined]
    watcher = Watcher(tmp_path / "a", moto, vpc, a, threshold=2)
    watchers.append(watcher)
    watcher.next_round()
    assert vpc.route(b) == vpc.nat[a]
    watcher.next_round()
    assert vpc.route(b) == vpc.nat[a]
    log = watcher.stop()
    assert f"no NAT instance is tagged for {b}" in log, log
    assert_only_allowed_calls(moto)
    assert [c for c in moto.calls() if c[1] == "TerminateInstances"] == [(TEST_KEY, "TerminateInstances")]


def test_two_watchers_do_not_fight_over_a_failed_zone(
    moto: MotoServer, tmp_path: Path, watchers: list
) -> None:
    """Three AZs: when b fails, one of a and c takes its route, the other leaves it; b gets it back."""
    vpc = build_vpc(moto, zones="abc")
    a, b, c = REGION + "a", REGION + "b", REGION + "c"
    first = Watcher(tmp_path / "a", moto, vpc, a, threshold=2)
    watchers.append(first)
    second = Watcher(tmp_path / "c", moto, vpc, c, threshold=2)
    watchers.append(second)
    for watcher in (first, second):
        watcher.set_down(vpc.address[b], True)
    for _ in range(3):
        first.next_round()
        second.next_round()
    assert vpc.route(b) == vpc.nat[a]
    for watcher in (first, second):
        watcher.set_down(vpc.address[b], False)
    for _ in range(2):
        first.next_round()
        second.next_round()
    assert [vpc.route(z) for z in (a, b, c)] == [vpc.nat[a], vpc.nat[b], vpc.nat[c]]
    first.stop()
    second.stop()
    actions = assert_only_allowed_calls(moto)
    assert actions.count("ReplaceRoute") == 2, actions  # taken once, given back once


def test_own_zone_route_is_taken_back_when_it_leads_nowhere(
    moto: MotoServer, tmp_path: Path, watchers: list
) -> None:
    """Its own AZ's route missing (deleted by hand): the watcher creates it again through itself."""
    vpc = build_vpc(moto)
    a = REGION + "a"
    vpc.ec2.delete_route(RouteTableId=vpc.table[a], DestinationCidrBlock="0.0.0.0/0")  # type: ignore[attr-defined]
    watcher = Watcher(tmp_path / "a", moto, vpc, a, threshold=3)
    watchers.append(watcher)
    assert vpc.route(a) == vpc.nat[a]
    watcher.stop()
    assert "CreateRoute" in assert_only_allowed_calls(moto)


def test_unreachable_ec2_is_ridden_out_with_backoff(moto: MotoServer, tmp_path: Path, watchers: list) -> None:
    """EC2 unreachable for three rounds: pauses of 5, 10, 20 s and no route change; reachable again: the
    pause is back to 5 s and a failed peer is taken over as usual."""
    vpc = build_vpc(moto)
    a, b = REGION + "a", REGION + "b"
    gate = Gate(moto.endpoint)
    try:
        watcher = Watcher(
            tmp_path / "a",
            moto,
            vpc,
            a,
            threshold=2,
            NATWATCH_ENDPOINT_URL=gate.url,
            NATWATCH_MAX_BACKOFF="20",
            AWS_MAX_ATTEMPTS="1",
        )
        watchers.append(watcher)
        watcher.set_down(vpc.address[b], True)
        watcher.next_round(2)
        assert watcher.pauses() == ["5", "10", "20"]
        assert vpc.route(b) == vpc.nat[b]
        gate.open()
        watcher.next_round()
        assert vpc.route(b) == vpc.nat[b]  # the first good round is the first failed check
        watcher.next_round()
        assert vpc.route(b) == vpc.nat[a]
        assert watcher.pauses() == ["5", "10", "20", "5", "5"]
        log = watcher.stop()
    finally:
        gate.close()
    assert log.count("AWS API call describe-instances failed") == 3, log
    assert_only_allowed_calls(moto)


def test_api_errors_back_off_and_never_count_against_a_peer(tmp_path: Path) -> None:
    """EC2 unreachable: every round fails, the pause doubles up to the cap, and the watcher keeps going."""
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / "natwatch.sh").write_text(natwatch.script())
    closed_port = _closed_port()
    env = {
        "PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(folder),
        "AWS_ACCESS_KEY_ID": WATCHER_KEY,
        "AWS_SECRET_ACCESS_KEY": "watcher-secret",
        "AWS_MAX_ATTEMPTS": "1",
        "NATWATCH_CLUSTER": CLUSTER,
        "NATWATCH_REGION": REGION,
        "NATWATCH_AZ": REGION + "a",
        "NATWATCH_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}",
        "NATWATCH_INSTANCE_ID": "i-0123456789abcdef0",
        "NATWATCH_INTERVAL": "2",
        "NATWATCH_MAX_BACKOFF": "8",
        "NATWATCH_MAX_ROUNDS": "5",
        "NATWATCH_SLEEP": f'echo "$1" >>{folder}/pauses',
    }
    done = subprocess.run(
        ["sh", str(folder / "natwatch.sh")], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (folder / "pauses").read_text().split() == ["2", "4", "8", "8"]
    assert done.stdout.count("AWS API call describe-instances failed") == 5, done.stdout
    assert "moved" not in done.stdout and "check 1/" not in done.stdout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the user data's forwarding part, in network namespaces -------------------------------------------


def _netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not shutil.which("iptables") or not shutil.which("ip"):
        return "iptables and iproute2 are needed (.ci/install installs them)"
    return None


def _sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=check)


@pytest.fixture
def namespaces() -> Iterator[dict[str, str]]:
    """Three namespaces: a private host of the VPC, the NAT instance, and 'the internet'."""
    reason = _netns_unavailable()
    if reason:
        pytest.skip(reason)
    names = {role: f"{NETNS_PREFIX}-{role}" for role in ("priv", "nat", "inet")}
    try:
        for name in names.values():
            _sh("ip", "netns", "add", name)
            _sh("ip", "-n", name, "link", "set", "lo", "up")
        links = [
            ("priv", "10.20.101.10/24", "nat", "10.20.101.1/24"),
            ("nat", "198.51.100.1/24", "inet", "198.51.100.2/24"),
        ]
        for index, (left, left_ip, right, right_ip) in enumerate(links):
            a_end, b_end = f"{NETNS_PREFIX}v{index}a", f"{NETNS_PREFIX}v{index}b"
            _sh(
                "ip",
                "link",
                "add",
                a_end,
                "netns",
                names[left],
                "type",
                "veth",
                "peer",
                b_end,
                "netns",
                names[right],
            )
            _sh("ip", "-n", names[left], "addr", "add", left_ip, "dev", a_end)
            _sh("ip", "-n", names[right], "addr", "add", right_ip, "dev", b_end)
            _sh("ip", "-n", names[left], "link", "set", a_end, "up")
            _sh("ip", "-n", names[right], "link", "set", b_end, "up")
        # The private host reaches everything through the NAT; 'the internet' knows no route to the VPC.
        _sh("ip", "-n", names["priv"], "route", "add", "default", "via", "10.20.101.1")
        yield names
    finally:
        for name in names.values():
            _sh("ip", "netns", "del", name, check=False)


def _ping_out(names: dict[str, str]) -> bool:
    ping = _sh(
        "ip", "netns", "exec", names["priv"], "ping", "-c", "1", "-W", "1", "198.51.100.2", check=False
    )
    return ping.returncode == 0


def test_forwarding_part_makes_the_vpc_reach_outside(namespaces: dict[str, str]) -> None:
    """Before: the private host cannot reach outside. After the forwarding script (run twice): it can."""
    assert not _ping_out(namespaces)
    forward = natwatch.forward_script()
    assert forward in natwatch.user_data(cluster=CLUSTER, region=REGION, az=REGION + "a", vpc_cidr=VPC_CIDR)
    for _ in range(2):
        _sh("ip", "netns", "exec", namespaces["nat"], "sh", "-c", forward, "kwizard-nat-forward", VPC_CIDR)
    assert _ping_out(namespaces)
    rules = _sh("ip", "netns", "exec", namespaces["nat"], "iptables-save").stdout
    assert rules.count(f"-A POSTROUTING -s {VPC_CIDR} ! -d {VPC_CIDR} -j MASQUERADE") == 1, rules
    forwarding = _sh("ip", "netns", "exec", namespaces["nat"], "sysctl", "-n", "net.ipv4.ip_forward").stdout
    assert forwarding.strip() == "1"


DRIVER = """
set -eu
for dir in /usr/local/sbin /etc/default /etc/systemd/system /run /var/log; do
  mount -t tmpfs tmpfs "$dir"
done
sh "$1" >"$2/user-data.out" 2>&1
i=0
until grep -q "cannot read this instance's id" /var/log/kwizard-natwatch.log 2>/dev/null; do
  i=$((i + 1)); [ "$i" -le 400 ] || break; sleep 0.05
done
cp /etc/default/kwizard-natwatch "$2/settings"
cp /var/log/kwizard-natwatch.log /usr/local/sbin/kwizard-natwatch "$2/"
cp /usr/local/sbin/kwizard-nat-forward /etc/systemd/system/kwizard-nat.service "$2/"
cp /etc/systemd/system/kwizard-natwatch.service "$2/"
stat -c '%a %n' /usr/local/sbin/kwizard-natwatch /usr/local/sbin/kwizard-nat-forward >"$2/modes"
iptables-save -t nat >"$2/nat-rules"
sysctl -n net.ipv4.ip_forward >"$2/ip_forward"
"""


def test_whole_user_data_runs_on_a_host_without_systemd(namespaces: dict[str, str], tmp_path: Path) -> None:
    """The complete user data in the NAT's namespace (its own mounts and pids): files, forwarding, watcher."""
    text = natwatch.user_data(cluster=CLUSTER, region=REGION, az=REGION + "b", vpc_cidr=VPC_CIDR, threshold=4)
    (tmp_path / "user-data").write_text(text)
    env = dict(os.environ, PATH=f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin")
    done = subprocess.run(
        ["ip", "netns", "exec", namespaces["nat"], "unshare", "--mount", "--pid", "--fork", "--mount-proc",
         "sh", "-c", DRIVER, "driver", str(tmp_path / "user-data"), str(tmp_path)],
        capture_output=True, text=True, timeout=90, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr + (tmp_path / "user-data.out").read_text()
    assert (tmp_path / "kwizard-natwatch").read_text() == natwatch.script()
    assert (tmp_path / "kwizard-nat-forward").read_text() == natwatch.forward_script()
    assert (tmp_path / "modes").read_text().split()[::2] == ["755", "755"]
    settings = (tmp_path / "settings").read_text().splitlines()
    assert {"NATWATCH_AZ=eu-west-1b", "NATWATCH_THRESHOLD=4", f"NATWATCH_VPC_CIDR={VPC_CIDR}"} <= set(
        settings
    )
    assert (
        f"-A POSTROUTING -s {VPC_CIDR} ! -d {VPC_CIDR} -j MASQUERADE" in (tmp_path / "nat-rules").read_text()
    )
    assert (tmp_path / "ip_forward").read_text().strip() == "1"
    assert "ExecStart=/usr/local/sbin/kwizard-natwatch" in (tmp_path / "kwizard-natwatch.service").read_text()
    watcher_log = (tmp_path / "kwizard-natwatch.log").read_text()
    assert "kwizard-natwatch[eu-west-1b]: cannot read this instance's id" in watcher_log, watcher_log
    assert _ping_out(namespaces)
    # The namespace's pids died with it: no watcher is left running.
    assert _sh("pgrep", "-f", natwatch.WATCHER_PATH, check=False).returncode == 1
