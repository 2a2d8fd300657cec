"""Grafana sample app: pinned, non-root, exposed only through the ingress, valid for the cluster version."""

from __future__ import annotations

from kwizard import apps, preset
from kwizard.loadbalancer import manifests
from tests.unit.k8s_schema import validate_all


def test_grafana_manifests_validate_strictly() -> None:
    spec = preset.load("tests/fixtures/presets/aws-3az-hosts.yaml")
    rendered = apps.grafana_manifests(spec)
    assert validate_all(rendered, spec.kubespray.kube_version) == "1.35"
    assert [m["kind"] for m in rendered] == ["Namespace", "Deployment", "Service", "Ingress"]


def test_grafana_is_pinned_non_root_and_not_a_nodeport() -> None:
    spec = preset.load("tests/fixtures/presets/aws-3az-hosts.yaml")
    deployment = apps.deployment(spec)
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    repository, _, tag = container["image"].partition(":")
    assert repository == "grafana/grafana" and tag.count(".") == 2
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 472
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    password = next(e for e in container["env"] if e["name"] == "GF_SECURITY_ADMIN_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {"name": "grafana-admin", "key": "admin-password"}
    assert apps.service()["spec"]["type"] == "ClusterIP"
    assert {p["port"] for p in apps.service()["spec"]["ports"]} == {3000}


def test_grafana_ingress_is_at_grafana_dot_domain() -> None:
    spec = preset.load("presets/baremetal-ha.yaml")
    ingress = apps.grafana_manifests(spec)[-1]
    assert ingress["spec"]["rules"][0]["host"] == "grafana.example.com"
    assert ingress["metadata"]["namespace"] == "monitoring"
    # The preset also lists Grafana as a virtual host: both phases render the very same object.
    listed = next(v for v in spec.loadbalancer.virtual_hosts if v.host == "grafana.example.com")
    assert manifests.ingress(listed) == ingress
    assert apps.grafana_url(spec) == "http://grafana.example.com:30800/"
    assert "base64 -d" in apps.password_command(spec)
