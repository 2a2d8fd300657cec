"""`kwizard expose`: the Ingress it renders, its errors, and the preset update (run as a real subprocess)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from kwizard import preset
from kwizard.loadbalancer import add_virtual_host
from kwizard.paths import workspace
from kwizard.spec import ClusterSpec, Host, LoadBalancerSettings, VirtualHost
from tests.cli import run_kwizard
from tests.unit.k8s_schema import validate_all
from tests.unit.test_kubeconfig import CA, CLIENT_CERT, CLIENT_KEY

REPO = Path(__file__).resolve().parents[2]


def make_cluster(root: Path) -> Path:
    spec = ClusterSpec(
        name="demo",
        hosts=[
            Host(name="cp1", address="10.0.0.11", roles=["control_plane", "etcd"]),
            Host(name="w1", address="10.0.0.21", roles=["worker", "loadbalancer"]),
        ],
        loadbalancer=LoadBalancerSettings(domain="example.com"),
    )
    ws = workspace("demo", root).create()
    preset.save(spec, ws.preset_file)
    return ws.preset_file


def kwizard(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_kwizard(root, "expose", *args)


def test_dry_run_prints_a_valid_ingress_and_changes_nothing(tmp_path: Path) -> None:
    preset_file = make_cluster(tmp_path)
    before = preset_file.read_text()
    done = kwizard(
        tmp_path, "grafana", "-n", "monitoring", "--host", "grafana", "--port", "3000", "--dry-run"
    )
    assert done.returncode == 0, done.stderr
    (ingress,) = list(yaml.safe_load_all(done.stdout))
    validate_all([ingress], "1.35.4")
    assert ingress["spec"]["rules"][0]["host"] == "grafana.example.com"  # <NAME>.<domain>
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"service": {"name": "grafana", "port": {"number": 3000}}}
    assert preset_file.read_text() == before
    as_yaml = kwizard(tmp_path, "web", "--host", "shop.example.org", "-o", "yaml")
    assert yaml.safe_load(as_yaml.stdout)["spec"]["rules"][0]["host"] == "shop.example.org"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad_Name", "--host", "x"], "not a valid Kubernetes name"),
        (["web", "-n", "a.b", "--host", "x"], "not a valid Kubernetes name"),
        (["web", "--host", "bad_host.example.com"], "not a valid DNS name"),
        (["web", "--host", "x", "--port", "70000"], "65535"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    make_cluster(tmp_path)
    done = kwizard(tmp_path, *args, "--dry-run")
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_without_kubeconfig_it_says_how_to_get_one(tmp_path: Path) -> None:
    make_cluster(tmp_path)
    done = kwizard(tmp_path, "web", "--host", "app")
    assert done.returncode == 2
    assert "kwizard kubeconfig demo" in done.stderr


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")
def test_unreachable_cluster_is_a_clear_error_and_the_preset_is_kept(tmp_path: Path) -> None:
    preset_file = make_cluster(tmp_path)
    before = preset_file.read_text()
    with socket.socket() as probe:  # a port on loopback where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "demo",
                "cluster": {"server": f"https://127.0.0.1:{port}", "certificate-authority-data": CA},
            }
        ],
        "users": [
            {
                "name": "demo-admin",
                "user": {"client-certificate-data": CLIENT_CERT, "client-key-data": CLIENT_KEY},
            }
        ],
        "contexts": [{"name": "demo", "context": {"cluster": "demo", "user": "demo-admin"}}],
        "current-context": "demo",
    }
    workspace("demo", tmp_path).kubeconfig.write_text(yaml.safe_dump(config))
    done = kwizard(tmp_path, "web", "--host", "app")
    assert done.returncode == 1, done.stderr
    assert "Cluster unreachable" in done.stderr
    assert "connect: connection refused" in done.stderr
    assert "validate=false" not in done.stderr
    assert preset_file.read_text() == before


def test_add_virtual_host_replaces_the_same_name() -> None:
    spec = ClusterSpec(
        name="demo",
        loadbalancer=LoadBalancerSettings(virtual_hosts=[VirtualHost(host="a.example.com", service="old")]),
    )
    once = add_virtual_host(spec, VirtualHost(host="b.example.com", service="b"))
    twice = add_virtual_host(once, VirtualHost(host="a.example.com", service="new", port=8080))
    assert [(v.host, v.service, v.port) for v in twice.loadbalancer.virtual_hosts] == [
        ("b.example.com", "b", 80),
        ("a.example.com", "new", 8080),
    ]
    assert preset.parse(preset.dump(twice)) == twice
