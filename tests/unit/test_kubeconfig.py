"""kubeconfig: admin.conf rewritten (server, names, CA kept) and merged without touching other contexts."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from kwizard import kubeconfig
from kwizard.errors import InputError
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.protocol.phase import PhaseContext
from kwizard.spec import ClusterSpec, Host, KubesprayOptions
from tests.cli import run_kwizard
from tests.pki import CertificateAuthority

KUBECTL = shutil.which("kubectl")


_AUTHORITY = CertificateAuthority()
_ADMIN = _AUTHORITY.issue("kubernetes-admin")
CA, CLIENT_CERT, CLIENT_KEY = _AUTHORITY.cert_b64, _ADMIN.cert_b64, _ADMIN.key_b64


def admin_conf(server: str = "https://127.0.0.1:6443") -> str:
    """admin.conf as kubeadm (through Kubespray) writes it."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "cluster.local", "cluster": {"certificate-authority-data": CA, "server": server}}
            ],
            "contexts": [
                {
                    "name": "kubernetes-admin@cluster.local",
                    "context": {"cluster": "cluster.local", "user": "kubernetes-admin"},
                }
            ],
            "current-context": "kubernetes-admin@cluster.local",
            "preferences": {},
            "users": [
                {
                    "name": "kubernetes-admin",
                    "user": {"client-certificate-data": CLIENT_CERT, "client-key-data": CLIENT_KEY},
                }
            ],
        }
    )


OTHER = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [
        {
            "name": "prod",
            "cluster": {"server": "https://prod.example:6443", "certificate-authority-data": "UFJPRA=="},
        }
    ],
    "users": [{"name": "prod-user", "user": {"token": "abc"}}],
    "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "prod-user", "namespace": "web"}}],
    "current-context": "prod",
}


def spec(cp_address: str = "10.0.0.11", **extra: object) -> ClusterSpec:
    return ClusterSpec(
        name="demo",
        hosts=[
            Host(name="cp1", address=cp_address, roles=["control_plane", "etcd"]),
            Host(name="w1", address="10.0.0.21", roles=["worker", "loadbalancer"]),
        ],
        kubespray=KubesprayOptions(extra_vars=dict(extra)),
    )


def closed_port() -> int:
    """A loopback port where nothing listens (tests that reach the API stay on loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def loopback_spec() -> ClusterSpec:
    """A cluster whose API address is on loopback, with nothing listening there."""
    return spec("127.0.0.1", kube_apiserver_port=closed_port())


def context(tmp_path: Path, cluster_spec: ClusterSpec) -> PhaseContext:
    ws = workspace(cluster_spec.name, tmp_path / "kw").create()
    return PhaseContext(spec=cluster_spec, ws=ws, options=RunOptions())


def test_endpoint_is_first_control_plane_by_default() -> None:
    endpoint = kubeconfig.api_endpoint(spec())
    assert endpoint.url == "https://10.0.0.11:6443"
    assert endpoint.source == "first control plane cp1"


def test_endpoint_prefers_the_api_load_balancer() -> None:
    endpoint = kubeconfig.api_endpoint(spec(loadbalancer_apiserver={"address": "10.0.0.5", "port": 8443}))
    assert endpoint.url == "https://10.0.0.5:8443"
    named = kubeconfig.api_endpoint(
        spec(
            loadbalancer_apiserver={"address": "10.0.0.5"},
            apiserver_loadbalancer_domain_name="api.example.com",
        )
    )
    assert named.url == "https://api.example.com:6443"


def test_ipv6_endpoint_is_bracketed() -> None:
    assert kubeconfig.ApiEndpoint("fd00::1", 6443, "x").url == "https://[fd00::1]:6443"


def test_rewrite_keeps_ca_renames_and_points_at_server() -> None:
    admin = kubeconfig.parse_kubeconfig(admin_conf(), "admin.conf")
    ours = kubeconfig.rewrite_admin_conf(admin, "demo", "https://10.0.0.11:6443")
    cluster = ours["clusters"][0]
    assert cluster["name"] == "demo"
    assert cluster["cluster"] == {"certificate-authority-data": CA, "server": "https://10.0.0.11:6443"}
    assert ours["users"] == [
        {
            "name": "demo-admin",
            "user": {"client-certificate-data": CLIENT_CERT, "client-key-data": CLIENT_KEY},
        }
    ]
    assert ours["contexts"] == [{"name": "demo", "context": {"cluster": "demo", "user": "demo-admin"}}]
    assert "insecure-skip-tls-verify" not in yaml.safe_dump(ours)


def test_rewrite_drops_insecure_skip_and_inlines_a_ca_file(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(base64.b64decode(CA))
    admin = kubeconfig.parse_kubeconfig(admin_conf(), "admin.conf")
    admin["clusters"][0]["cluster"] = {
        "certificate-authority": str(ca_file),
        "insecure-skip-tls-verify": True,
        "server": "https://x:6443",
    }
    ours = kubeconfig.rewrite_admin_conf(admin, "demo", "https://10.0.0.11:6443")
    assert ours["clusters"][0]["cluster"] == {
        "certificate-authority-data": CA,
        "server": "https://10.0.0.11:6443",
    }


def test_rewrite_refuses_a_kubeconfig_without_ca() -> None:
    admin = kubeconfig.parse_kubeconfig(admin_conf(), "admin.conf")
    del admin["clusters"][0]["cluster"]["certificate-authority-data"]
    with pytest.raises(InputError, match="certificate-authority-data"):
        kubeconfig.rewrite_admin_conf(admin, "demo", "https://10.0.0.11:6443")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [\n  - name: a\n", "not valid YAML"),
        ("- just\n- a list\n", "top level is list"),
        ("clusters: nope\n", "'clusters' is str"),
        ("clusters:\n  - server: x\n", "clusters\\[0\\] has no 'name'"),
        ("users:\n  - name: u\n    user: token\n", "users\\[0\\] \\(u\\) has no 'user' mapping"),
    ],
)
def test_malformed_kubeconfig_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        kubeconfig.parse_kubeconfig(text, "/home/me/.kube/config")
    assert "/home/me/.kube/config" in caught.value.problem
    assert "did not change it" in caught.value.fix


def test_admin_conf_with_dangling_context_is_refused() -> None:
    admin = kubeconfig.parse_kubeconfig(admin_conf(), "admin.conf")
    admin["contexts"][0]["context"]["user"] = "ghost"
    with pytest.raises(InputError, match="not defined"):
        kubeconfig.rewrite_admin_conf(admin, "demo", "https://10.0.0.11:6443")


def test_merge_replaces_only_this_clusters_entries() -> None:
    admin = kubeconfig.parse_kubeconfig(admin_conf(), "admin.conf")
    first = kubeconfig.rewrite_admin_conf(admin, "demo", "https://10.0.0.11:6443")
    merged = kubeconfig.merge(OTHER, first, "demo")
    again = kubeconfig.merge(
        merged, kubeconfig.rewrite_admin_conf(admin, "demo", "https://10.0.0.99:6443"), "demo"
    )
    assert [c["name"] for c in again["clusters"]] == ["prod", "demo"]
    assert [c["name"] for c in again["users"]] == ["prod-user", "demo-admin"]
    assert again["clusters"][0] == OTHER["clusters"][0]
    assert again["contexts"][0] == OTHER["contexts"][0]
    assert again["clusters"][1]["cluster"]["server"] == "https://10.0.0.99:6443"
    assert again["current-context"] == "prod"  # the user's current context is not switched
    assert OTHER["clusters"][0]["name"] == "prod" and len(OTHER["clusters"]) == 1  # input untouched


def test_merge_sets_current_context_when_there_is_none() -> None:
    admin = kubeconfig.parse_kubeconfig(admin_conf(), "admin.conf")
    merged = kubeconfig.merge({}, kubeconfig.rewrite_admin_conf(admin, "demo", "https://h:6443"), "demo")
    assert merged["current-context"] == "demo"


def test_user_kubeconfig_path_follows_kubeconfig_env(tmp_path: Path) -> None:
    env = {"KUBECONFIG": f"{os.pathsep}{tmp_path}/a{os.pathsep}{tmp_path}/b", "HOME": "/nowhere"}
    assert kubeconfig.user_kubeconfig_path(env) == tmp_path / "a"
    assert kubeconfig.user_kubeconfig_path({"HOME": str(tmp_path)}) == tmp_path / ".kube" / "config"


def test_install_writes_workspace_copy_and_merges_with_backup(tmp_path: Path) -> None:
    ctx = context(tmp_path, spec())
    target = tmp_path / "home" / ".kube" / "config"
    target.parent.mkdir(parents=True)
    target.write_text(yaml.safe_dump(OTHER))
    before = target.read_text()
    endpoint, outcome = kubeconfig.install(ctx, admin_conf(), "admin.conf", target)
    assert endpoint.url == "https://10.0.0.11:6443"
    assert stat.S_IMODE(ctx.ws.kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert outcome.backup is not None and outcome.backup.read_text() == before
    assert stat.S_IMODE(outcome.backup.stat().st_mode) == 0o600
    # A second identical merge changes nothing and makes no new backup.
    _, again = kubeconfig.install(ctx, admin_conf(), "admin.conf", target)
    assert again.backup is None
    assert len(list(target.parent.glob("config.kwizard-backup-*"))) == 1


def test_malformed_user_kubeconfig_is_left_alone(tmp_path: Path) -> None:
    ctx = context(tmp_path, spec())
    target = tmp_path / "config"
    target.write_text("clusters: {oops: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        kubeconfig.install(ctx, admin_conf(), "admin.conf", target)
    assert target.read_text() == "clusters: {oops: [\n"
    assert not list(tmp_path.glob("config.kwizard-backup-*"))


def test_run_phase_uses_kubespray_artifact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    ctx = context(tmp_path, loopback_spec())
    artifact = kubeconfig.artifact_path(ctx.ws.inventory_dir)
    artifact.parent.mkdir(parents=True)
    artifact.write_text(admin_conf())
    result = kubeconfig.run_phase(ctx)
    assert result.status == "ok"
    assert result.data["merged_into"] == str(home / ".kube" / "config")
    assert result.data["admin_conf_source"] == str(artifact)
    assert yaml.safe_load((home / ".kube" / "config").read_text())["current-context"] == "demo"
    # Nothing listens at the API address: the phase still succeeds, and says kubectl will not get through.
    port = ctx.spec.kubespray.extra_vars["kube_apiserver_port"]
    assert result.data["server"] == f"https://127.0.0.1:{port}"
    assert result.data["api_check"].startswith(f"the API at 127.0.0.1:{port} is not reachable from here")


def kubectl(config: Path, *args: str) -> str:
    """Output of the real `kubectl ARGS` reading only `config`."""
    assert KUBECTL is not None
    env = {"KUBECONFIG": str(config), "HOME": str(config.parent), "PATH": os.environ["PATH"]}
    return subprocess.run(
        [KUBECTL, *args], env=env, capture_output=True, text=True, timeout=30, check=True
    ).stdout


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (the YAML round-trip tests still ran)")
def test_kubectl_reads_the_merged_file(tmp_path: Path) -> None:
    """Real kubectl on the merged result: both contexts, the CA data intact, no insecure flag."""
    ctx = context(tmp_path, spec())
    target = tmp_path / "config"
    target.write_text(yaml.safe_dump(OTHER))
    kubeconfig.install(ctx, admin_conf(), "admin.conf", target)
    view = json.loads(kubectl(target, "config", "view", "--raw", "-o", "json"))
    assert sorted(c["name"] for c in view["contexts"]) == ["demo", "prod"]
    clusters = {c["name"]: c["cluster"] for c in view["clusters"]}
    assert clusters["demo"]["certificate-authority-data"] == CA
    assert clusters["demo"]["server"] == "https://10.0.0.11:6443"
    assert clusters["prod"]["certificate-authority-data"] == "UFJPRA=="
    assert "insecure-skip-tls-verify" not in clusters["demo"]
    assert sorted(kubectl(target, "config", "get-contexts", "-o", "name").split()) == ["demo", "prod"]
    assert kubectl(target, "config", "current-context").strip() == "prod"
    # The workspace copy alone is a complete kubeconfig kubectl accepts, pointed at the cluster.
    minified = kubectl(ctx.ws.kubeconfig, "config", "view", "--raw", "--minify", "-o", "json")
    assert json.loads(minified)["clusters"][0]["cluster"]["certificate-authority-data"] == CA


def test_kubeconfig_command_merges_a_given_admin_conf(tmp_path: Path) -> None:
    from kwizard import preset

    ws = workspace("demo", tmp_path / "kw").create()
    cluster = loopback_spec()
    port = cluster.kubespray.extra_vars["kube_apiserver_port"]
    preset.save(cluster, ws.preset_file)
    admin = tmp_path / "admin.conf"
    admin.write_text(admin_conf())
    home = tmp_path / "home"
    done = run_kwizard(tmp_path / "kw", "kubeconfig", "demo", "--admin-conf", str(admin), home=home)
    assert done.returncode == 0, done.stderr
    assert f"Context 'demo' → https://127.0.0.1:{port} (first control plane cp1)" in done.stdout
    assert "kubectl --context demo get nodes" in done.stdout
    assert (
        f"Warning: kubectl --context demo will fail: the API at 127.0.0.1:{port} is not reachable"
        in done.stdout
    )
    merged = yaml.safe_load((home / ".kube" / "config").read_text())
    assert merged["clusters"][0]["cluster"]["certificate-authority-data"] == CA
    assert stat.S_IMODE((home / ".kube" / "config").stat().st_mode) == 0o600


def test_kubeconfig_command_errors_are_clear(tmp_path: Path) -> None:
    from kwizard import preset

    ws = workspace("demo", tmp_path / "kw").create()
    preset.save(spec(), ws.preset_file)
    home = tmp_path / "home"
    unknown = run_kwizard(tmp_path / "kw", "kubeconfig", "nosuch", home=home)
    assert unknown.returncode == 2 and "Unknown cluster" in unknown.stderr
    bad = tmp_path / "bad.conf"
    bad.write_text("clusters: [\n")
    malformed = run_kwizard(tmp_path / "kw", "kubeconfig", "demo", "--admin-conf", str(bad), home=home)
    assert malformed.returncode == 2 and "not valid YAML" in malformed.stderr
    assert "Traceback" not in malformed.stderr
    assert not (home / ".kube").exists()
