"""Verification (real HTTP on loopback) and DNS output (Route53 batch accepted by moto's Route53)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from kwizard.loadbalancer import dns
from kwizard.loadbalancer.verify import PROBE_HOST, Target, verify
from kwizard.spec import AppSettings, ClusterSpec, Host, LoadBalancerSettings, VirtualHost


class VirtualHostHandler(BaseHTTPRequestHandler):
    """Answers like an ingress controller: 200 for app.test, 503 for down.test, 404 for anything else."""

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        status = {"app.test": 200, "down.test": 503}.get(host, 404)
        body = f"{host}\n".encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def nodes() -> Iterator[tuple[list[Target], int]]:
    """Four 'LB nodes' on loopback: two serve, one refuses, one accepts but never answers."""
    servers = []
    first = ThreadingHTTPServer(("127.0.0.2", 0), VirtualHostHandler)
    port = first.server_address[1]
    servers.append(first)
    servers.append(ThreadingHTTPServer(("127.0.0.3", port), VirtualHostHandler))
    silent = socket.socket()
    silent.bind(("127.0.0.5", port))
    silent.listen(8)
    threads = [threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    targets = [
        Target("lb1", "127.0.0.2"),
        Target("lb2", "127.0.0.3"),
        Target("lb3", "127.0.0.4"),  # nothing listens: connection refused
        Target("lb4", "127.0.0.5"),  # listens, never answers: timeout
    ]
    yield targets, port
    for server in servers:
        server.shutdown()
        server.server_close()
    silent.close()


def test_node_by_host_table_and_diagnoses(nodes: tuple[list[Target], int]) -> None:
    targets, port = nodes
    report = verify(targets, ["app.test", "down.test", "missing.test"], port, timeout=0.5)
    outcome = {(r.node, r.host): r.outcome for r in report.results}
    for node in ("lb1", "lb2"):
        assert outcome[(node, "app.test")] == "ok"
        assert outcome[(node, "down.test")] == "backend_down"
        assert outcome[(node, "missing.test")] == "not_found"
    assert {outcome[("lb3", h)] for h in report.hosts} == {"refused"}
    assert {outcome[("lb4", h)] for h in report.hosts} == {"timeout"}
    assert not report.ok
    rows = report.rows()
    assert rows[0] == ["node", "app.test", "down.test", "missing.test"]
    assert rows[1] == ["lb1 (127.0.0.2)", "200 ok", "503 backend down", "404 not found"]
    assert rows[3] == ["lb3 (127.0.0.4)", "refused", "refused", "refused"]
    text = report.text(https_port=30443)
    assert "controller is not running on lb3" in text
    assert "firewall or security group drops TCP" in text and "30443" in text
    assert "no Ingress rule for host missing.test" in text
    assert "backend answered 503" in text
    json.dumps(report.to_data())  # journal-safe


def test_probe_host_404_proves_the_controller_runs(nodes: tuple[list[Target], int]) -> None:
    targets, port = nodes
    report = verify(targets[:2], [PROBE_HOST], port, timeout=0.5)
    assert report.ok
    assert [r.status for r in report.results] == [404, 404]


def test_requests_run_concurrently(nodes: tuple[list[Target], int]) -> None:
    """Four silent nodes x three hosts at 0.5 s each would take 6 s one by one."""
    _, port = nodes
    silent = [Target(f"s{i}", "127.0.0.5") for i in range(4)]
    report = verify(silent, ["a.test", "b.test", "c.test"], port, timeout=0.5)
    assert {r.outcome for r in report.results} == {"timeout"}
    assert max(r.seconds for r in report.results) < 2.0


def spec(target: str = "baremetal") -> ClusterSpec:
    return ClusterSpec(
        name="demo",
        target=target,  # type: ignore[arg-type]
        hosts=[
            Host(name="cp1", address="10.0.0.11", roles=["control_plane", "etcd"]),
            Host(name="w1", address="10.0.0.21", roles=["worker", "loadbalancer"]),
            Host(name="w2", address="10.0.0.22", roles=["worker", "loadbalancer"]),
            Host(name="w3", address="10.0.0.23", roles=["worker"]),
        ],
        loadbalancer=LoadBalancerSettings(
            domain="example.com", virtual_hosts=[VirtualHost(host="app.example.com", service="web")]
        ),
        apps=AppSettings(grafana=True),
    )


def test_records_every_host_to_every_lb_node() -> None:
    found = dns.records(spec())
    assert [(r.name, r.address) for r in found] == [
        ("app.example.com", "10.0.0.21"),
        ("app.example.com", "10.0.0.22"),
        ("grafana.example.com", "10.0.0.21"),
        ("grafana.example.com", "10.0.0.22"),
    ]
    lines = dns.zone_lines(found)
    assert lines[0].split() == ["app.example.com.", "60", "IN", "A", "10.0.0.21", ";", "w1"]


def test_advice_names_health_checks_and_refuses_l2_on_ec2() -> None:
    bare = dns.render(spec())
    assert "no health checks" in bare and "keepalived" in bare
    aws = dns.render(spec("aws"))
    assert "do not work on EC2" in aws and "Route53" in aws
    assert '"Action": "UPSERT"' in aws


@mock_aws
def test_route53_accepts_the_change_batch() -> None:
    """The batch kwizard prints is what Route53's API takes (moto implements its validation)."""
    client = boto3.client("route53", region_name="us-east-1")
    zone = client.create_hosted_zone(Name="example.com", CallerReference="kwizard-test")["HostedZone"]["Id"]
    printed = dns.route53_json(dns.route53_change_batch(dns.records(spec("aws")), comment="kwizard test"))
    batch = json.loads(printed)  # exactly the text the user saves as batch.json
    client.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=batch)
    sets = client.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    a_records = {
        s["Name"]: sorted(r["Value"] for r in s["ResourceRecords"]) for s in sets if s["Type"] == "A"
    }
    assert a_records == {
        "app.example.com.": ["10.0.0.21", "10.0.0.22"],
        "grafana.example.com.": ["10.0.0.21", "10.0.0.22"],
    }
    # UPSERT: applying it twice is harmless.
    client.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=batch)


def test_failures_become_findings_for_the_dashboard(nodes: tuple[list[Target], int], tmp_path: Path) -> None:
    from kwizard.loadbalancer import report_findings
    from kwizard.options import RunOptions
    from kwizard.paths import workspace
    from kwizard.protocol.phase import Event, PhaseContext

    targets, port = nodes
    report = verify(targets[1:3], ["app.test", "missing.test"], port, timeout=0.5)
    events: list[Event] = []
    ctx = PhaseContext(spec=spec(), ws=workspace("demo", tmp_path), options=RunOptions(), emit=events.append)
    errors = report_findings(ctx, "loadbalancer", report, fatal={"refused"})
    findings = [e for e in events if e.kind == "finding"]
    assert [(f.host, f.data["id"], f.data["level"]) for f in findings] == [
        ("lb2", "ingress-not-found", "warning"),
        ("lb3", "ingress-refused", "error"),
        ("lb3", "ingress-refused", "error"),
    ]
    assert all(f.data["title"] and f.data["fix"] and f.time > 0 for f in findings)
    assert len(errors) == 2 and "controller is not running on lb3" in errors[0]
    assert any(e.kind == "log" and "lb2 (127.0.0.3)" in e.data["text"] for e in events)
