"""After Kubespray, on the lab: kwizard's LB/apps playbooks for real, and the node x host verification.

The lab has no Kubernetes API server, so on the first control plane `kubectl` is the stand-in in
tests/integration/standins/kubectl (it only records what reached it and answers the playbook's reads).
Everything else is real: ansible-runner and ssh to the lab hosts, files copied onto them, and HTTP
servers on the LB nodes' port 30800 that answer per Host header the way the ingress controller does.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kwizard import apps, loadbalancer
from kwizard.errors import RemoteError
from kwizard.lab import Lab, LabHost
from kwizard.loadbalancer import deploy, manifests
from kwizard.loadbalancer.verify import Target, verify
from kwizard.options import RunOptions
from kwizard.paths import Workspace, workspace
from kwizard.protocol.phase import Event, PhaseContext
from kwizard.spec import AppSettings, ClusterSpec, Host, LoadBalancerSettings, SSHSettings, VirtualHost

STANDIN = Path(__file__).parent / "standins" / "kubectl"
STANDIN_DIR = "/etc/kwizard-kubectl-standin"
REMOTE = deploy.REMOTE_DIR  # where the playbooks leave the applied manifests on the control plane
PORT = 30800
PIDFILE = "/run/kwizard-test/server.pid"

# What the ingress controller does, reduced to its answers: the rule's backend for known hosts, 503 for a
# host whose backend is down, the controller's own 404 for any other name. Runs inside a lab host.
VHOST_SERVER = """
import http.server, socket
ROUTES = {"app.lab.test": 200, "grafana.lab.test": 200, "down.lab.test": 503}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        status = ROUTES.get(host, 404)
        body = (socket.gethostname() + " " + host + "\\n").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
""".replace("PORT", str(PORT))


def start_server(host: LabHost) -> None:
    """Start the per-Host-header HTTP server inside `host` on port 30800 and wait until it accepts."""
    host.exec("mkdir -p /run/kwizard-test", timeout=10)
    host.exec(["sh", "-c", "cat > /run/kwizard-test/vhost_server.py"], input=VHOST_SERVER, timeout=10)
    started = host.exec(
        "nohup python3 /run/kwizard-test/vhost_server.py >/dev/null 2>&1 & echo $! > " + PIDFILE, timeout=10
    )
    assert started.returncode == 0, started.stderr
    connect = f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {PORT}), 1)'"
    # Bounded: 50 tries 0.1 s apart, then the assertion below fails.
    ready = host.exec(
        f"for i in $(seq 50); do {connect} 2>/dev/null && exit 0; sleep 0.1; done; exit 1", timeout=15
    )
    assert ready.returncode == 0, f"server on {host.name} did not start"


def stop_server(host: LabHost) -> None:
    host.exec(f"test -f {PIDFILE} && kill $(cat {PIDFILE}); rm -f {PIDFILE}", timeout=10)
    # Bounded wait until the port is closed, so the next request sees a refusal, not a half-dead server.
    connect = f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {PORT}), 1)'"
    gone = host.exec(
        f"for i in $(seq 50); do {connect} 2>/dev/null || exit 0; sleep 0.1; done; exit 1", timeout=15
    )
    assert gone.returncode == 0, f"server on {host.name} did not stop"


@pytest.fixture
def servers(lab: Lab) -> Iterator[list[LabHost]]:
    """HTTP servers on lab4 and lab5 (the LB nodes); lab2 runs none."""
    chosen = [lab.host("lab4"), lab.host("lab5")]
    for host in chosen:
        start_server(host)
    yield chosen
    for host in chosen:
        stop_server(host)


def install_standin(control_plane: LabHost, labelled: str, pods: str) -> None:
    """Put the recording kubectl stand-in where Kubespray puts kubectl, with its canned answers."""
    script = STANDIN.read_text()
    done = control_plane.exec(
        f"mkdir -p {STANDIN_DIR} && cat > /usr/local/bin/kubectl && chmod 755 /usr/local/bin/kubectl "
        f"&& rm -f {STANDIN_DIR}/calls && printf %s {shlex.quote(labelled)} > {STANDIN_DIR}/labelled-nodes "
        f"&& printf %s {shlex.quote(pods)} > {STANDIN_DIR}/pods",
        input=script,
        timeout=10,
    )
    assert done.returncode == 0, done.stderr


def remove_standin(control_plane: LabHost) -> None:
    control_plane.exec(
        f"rm -rf /usr/local/bin/kubectl {STANDIN_DIR} {REMOTE}/loadbalancer-* {REMOTE}/apps-*", timeout=10
    )


def calls(control_plane: LabHost) -> list[list[str]]:
    """Every kubectl call that reached the host, as argv lists (the first, --kubeconfig, dropped)."""
    text = control_plane.exec(f"cat {STANDIN_DIR}/calls", timeout=10).stdout
    lines = [line.split("\t") for line in text.splitlines() if line]
    for argv in lines:
        if argv[0].startswith("--kubeconfig="):
            assert argv[0] == "--kubeconfig=/etc/kubernetes/admin.conf"
            del argv[0]
    return lines


def lab_spec(lab: Lab, **changes: object) -> ClusterSpec:
    roles = {
        "lab1": ["control_plane", "etcd"],
        "lab2": ["control_plane", "etcd"],
        "lab3": ["control_plane", "etcd"],
        "lab4": ["worker", "loadbalancer"],
        "lab5": ["worker", "loadbalancer"],
    }
    return ClusterSpec(
        name="labpost",
        hosts=[Host(name=h.name, address=h.address, port=h.port, roles=roles[h.name]) for h in lab.hosts],
        ssh=SSHSettings(user="root", key=str(lab.key_path)),
        loadbalancer=LoadBalancerSettings(
            domain="lab.test",
            virtual_hosts=[
                VirtualHost(host="app.lab.test", service="web"),
                VirtualHost(host="grafana.lab.test", service="grafana", namespace="monitoring", port=3000),
            ],
        ),
        **changes,  # type: ignore[arg-type]
    )


def lab_context(lab: Lab, spec: ClusterSpec, root: Path) -> tuple[PhaseContext, list[Event]]:
    """A workspace that knows the lab's host keys and has an inventory naming lab1 the first control plane."""
    ws: Workspace = workspace(spec.name, root).create()
    shutil.copy(lab.known_hosts, ws.known_hosts)
    inventory = {
        "all": {
            "hosts": {h.name: {"ansible_host": h.address, "ansible_port": h.port} for h in lab.hosts},
            "children": {
                "kube_control_plane": {"hosts": {n: None for n in ("lab1", "lab2", "lab3")}},
                "kube_node": {"hosts": {n: None for n in ("lab4", "lab5")}},
            },
        }
    }
    (ws.inventory_dir / "hosts.yaml").write_text(yaml.safe_dump(inventory))
    events: list[Event] = []
    return PhaseContext(spec=spec, ws=ws, options=RunOptions(), emit=events.append), events


def test_verification_table_one_node_down(lab: Lab, servers: list[LabHost]) -> None:
    """Three LB nodes: lab2 runs nothing on 30800; then lab5's server goes down too."""
    nodes = [Target(n, lab.host(n).address) for n in ("lab2", "lab4", "lab5")]
    hosts = ["app.lab.test", "down.lab.test", "nothing.lab.test"]
    report = verify(nodes, hosts, PORT, timeout=3.0)
    table = {(r.node, r.host): r.outcome for r in report.results}
    assert table == {
        ("lab2", "app.lab.test"): "refused",
        ("lab2", "down.lab.test"): "refused",
        ("lab2", "nothing.lab.test"): "refused",
        ("lab4", "app.lab.test"): "ok",
        ("lab4", "down.lab.test"): "backend_down",
        ("lab4", "nothing.lab.test"): "not_found",
        ("lab5", "app.lab.test"): "ok",
        ("lab5", "down.lab.test"): "backend_down",
        ("lab5", "nothing.lab.test"): "not_found",
    }
    assert "controller is not running on lab2" in report.text()

    stop_server(lab.host("lab5"))
    again = verify(nodes, ["app.lab.test"], PORT, timeout=3.0)
    assert [(r.node, r.outcome) for r in again.results] == [
        ("lab2", "refused"),
        ("lab4", "ok"),
        ("lab5", "refused"),
    ]
    assert again.rows()[2] == [f"lab4 ({lab.host('lab4').address})", "200 ok"]
    start_server(lab.host("lab5"))  # the fixture stops it again


def test_loadbalancer_phase_on_lab(lab: Lab, servers: list[LabHost], tmp_path: Path) -> None:
    """The real playbook on lab1: labels, copies, applies, waits for every LB node; then verifies."""
    control_plane = lab.host("lab1")
    # lab2 carries a stale role=loadbalancer label that must be removed; both LB pods are ready.
    install_standin(control_plane, labelled="lab2 lab4", pods="lab4 True\nlab5 True\n")
    try:
        spec = lab_spec(lab)
        ctx, events = lab_context(lab, spec, tmp_path)
        result = loadbalancer.run_phase(ctx)
        assert result.status == "ok", result.summary
        readiness = (
            '--output=jsonpath={range .items[*]}{.spec.nodeName}{" "}'
            '{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'
        )
        assert calls(control_plane) == [
            ["get", "nodes", "--selector=role=loadbalancer", "--output=jsonpath={.items[*].metadata.name}"],
            ["label", "node", "lab2", "role-"],
            ["label", "node", "lab4", "lab5", "role=loadbalancer", "--overwrite"],
            ["apply", "-f", f"{REMOTE}/loadbalancer-10-controller.yaml"],
            ["apply", "-f", f"{REMOTE}/loadbalancer-20-virtual-hosts.yaml"],
            ["--namespace=kube-system", "rollout", "status", "daemonset/kwizard-lb", "--timeout=300s"],
            [
                "--namespace=kube-system",
                "get",
                "pods",
                "--selector=app.kubernetes.io/name=kwizard-lb",
                readiness,
            ],
        ]
        # The exact manifests that reached the host: the spec's rendering, byte for byte, root-only.
        for name, expected in (
            ("10-controller.yaml", manifests.controller_manifests(spec)),
            ("20-virtual-hosts.yaml", manifests.virtual_host_manifests(spec)),
        ):
            on_host = control_plane.exec(f"cat {REMOTE}/loadbalancer-{name}", timeout=10).stdout
            assert list(yaml.safe_load_all(on_host)) == expected
            assert on_host == (deploy.manifest_dir(ctx, "loadbalancer") / name).read_text()
            mode = control_plane.exec(
                f"stat -c '%a %U' {REMOTE}/loadbalancer-{name}", timeout=10
            ).stdout.split()
            assert mode == ["640", "root"]
        service = next(
            m
            for m in yaml.safe_load_all(
                control_plane.exec(f"cat {REMOTE}/loadbalancer-10-controller.yaml").stdout
            )
            if m["kind"] == "Service"
        )
        assert [p["nodePort"] for p in service["spec"]["ports"]] == [30800, 30443]
        # Verification from this machine through the lab's LB nodes.
        outcomes = {(r["node"], r["host"]): r["outcome"] for r in result.data["verification"]["results"]}
        assert outcomes == {
            ("lab4", "app.lab.test"): "ok",
            ("lab4", "grafana.lab.test"): "ok",
            ("lab5", "app.lab.test"): "ok",
            ("lab5", "grafana.lab.test"): "ok",
        }
        addresses = {lab.host("lab4").address, lab.host("lab5").address}
        assert {line.split()[4] for line in result.data["dns_zone_lines"]} == addresses
        assert any(e.kind == "task_start" or e.kind == "host_ok" for e in events)
    finally:
        remove_standin(control_plane)


def test_loadbalancer_phase_names_the_lb_node_without_a_ready_controller(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    control_plane = lab.host("lab1")
    install_standin(control_plane, labelled="", pods="lab4 True\nlab5 False\n")
    monkeypatch.setattr(deploy, "ROLLOUT_TIMEOUT", 2)
    monkeypatch.setattr(deploy, "ROLLOUT_POLL", 1)
    try:
        ctx, _ = lab_context(lab, lab_spec(lab), tmp_path)
        result = loadbalancer.run_phase(ctx)
        assert result.status == "failed"
        assert "no ready daemonset/kwizard-lb pod on lab5 after 2 s" in result.summary
        polls = [c for c in calls(control_plane) if "pods" in c]
        assert 2 <= len(polls) <= 4  # bounded: timeout / poll attempts, not forever
    finally:
        remove_standin(control_plane)


def test_apps_phase_on_lab(lab: Lab, servers: list[LabHost], tmp_path: Path) -> None:
    """Grafana: manifests applied, admin password generated on the host (never here), served via lab4/lab5."""
    control_plane = lab.host("lab1")
    install_standin(control_plane, labelled="", pods="")
    try:
        spec = lab_spec(lab, apps=AppSettings(grafana=True))
        ctx, _ = lab_context(lab, spec, tmp_path)
        result = apps.run_phase(ctx)
        assert result.status == "ok", result.summary
        made = calls(control_plane)
        assert made[0] == ["apply", "-f", f"{REMOTE}/apps-10-grafana.yaml"]
        assert made[1] == ["--namespace=monitoring", "get", "secret", "grafana-admin", "--output=name"]
        create = made[2]
        assert create[:5] == ["--namespace=monitoring", "create", "secret", "generic", "grafana-admin"]
        secret_file = create[5].removeprefix("--from-file=admin-password=")
        assert made[3] == ["secret-file mode=600 length=24"]  # generated on the host, private, 24 characters
        assert control_plane.exec(f"test -e {shlex.quote(secret_file)}").returncode == 1  # and removed
        assert made[4] == [
            "--namespace=monitoring",
            "rollout",
            "status",
            "deployment/grafana",
            "--timeout=300s",
        ]
        assert len(made) == 5
        on_host = control_plane.exec(f"cat {REMOTE}/apps-10-grafana.yaml", timeout=10).stdout
        assert list(yaml.safe_load_all(on_host)) == apps.grafana_manifests(spec)
        assert [(r["node"], r["outcome"]) for r in result.data["verification"]["results"]] == [
            ("lab4", "ok"),
            ("lab5", "ok"),
        ]
        assert result.data["grafana"]["url"] == "http://grafana.lab.test:30800/"
    finally:
        remove_standin(control_plane)


def test_kubeconfig_fetched_over_ssh_from_the_first_control_plane(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Kubespray artifact: admin.conf is read over real SSH from lab1 and merged for kubectl."""
    from kwizard import kubeconfig
    from tests.unit.test_kubeconfig import CA, admin_conf

    control_plane = lab.host("lab1")
    done = control_plane.exec(
        "mkdir -p /etc/kubernetes && umask 077 && cat > /etc/kubernetes/admin.conf",
        input=admin_conf(),
        timeout=10,
    )
    assert done.returncode == 0, done.stderr
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    try:
        ctx, _ = lab_context(lab, lab_spec(lab), tmp_path / "kw")
        result = kubeconfig.run_phase(ctx)
    finally:
        control_plane.exec("rm -rf /etc/kubernetes/admin.conf", timeout=10)
    assert result.status == "ok"
    assert result.data["admin_conf_source"] == "lab1:/etc/kubernetes/admin.conf"
    merged = yaml.safe_load((home / ".kube" / "config").read_text())
    cluster = merged["clusters"][0]["cluster"]
    assert cluster == {"certificate-authority-data": CA, "server": f"https://{control_plane.address}:6443"}
    assert merged["current-context"] == "labpost"
    assert result.data["api_check"].startswith(f"the API at {control_plane.address}:6443 is not reachable")

    # Without admin.conf on the host (Kubespray has not run): a clear error, the user's file untouched.
    before = (home / ".kube" / "config").read_text()
    with pytest.raises(RemoteError, match=r"Cannot fetch admin\.conf") as caught:
        kubeconfig.run_phase(ctx)
    assert "No such file" in caught.value.problem and "kubespray phase first" in caught.value.fix
    assert (home / ".kube" / "config").read_text() == before
