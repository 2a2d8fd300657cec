"""Load-balancer manifests: rendered from the spec, pinned, and valid (strict) for the cluster's version."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from kwizard import preset
from kwizard.errors import InputError
from kwizard.loadbalancer import manifests
from kwizard.spec import ClusterSpec, Host, LoadBalancerSettings, VirtualHost
from tests.unit.k8s_schema import schema_version, shipped_versions, validate_all


def spec(**lb: object) -> ClusterSpec:
    return ClusterSpec(
        name="demo",
        hosts=[
            Host(name="cp1", address="10.0.0.11", roles=["control_plane", "etcd"]),
            Host(name="w1", address="10.0.0.21", roles=["worker", "loadbalancer"]),
            Host(name="w2", address="10.0.0.22", roles=["worker", "loadbalancer"]),
        ],
        loadbalancer=LoadBalancerSettings(
            domain="example.com",
            virtual_hosts=[
                VirtualHost(host="grafana.example.com", service="grafana", namespace="monitoring", port=3000),
                VirtualHost(host="app.example.com", service="web"),
            ],
            **lb,
        ),
    )


def test_schema_version_is_the_nearest_shipped_minor() -> None:
    shipped = shipped_versions()
    assert "1.35" in shipped  # kubernetes-validate 1.37 ships 1.25 … 1.37
    assert schema_version("1.35.4") == "1.35"  # Kubespray v2.31's default kube_version
    assert schema_version("1.99.0") == shipped[-1]
    assert schema_version("1.10.0") == shipped[0]


def test_every_manifest_validates_strictly_against_the_cluster_version() -> None:
    cluster = spec()
    rendered = manifests.controller_manifests(cluster) + manifests.virtual_host_manifests(cluster)
    used = validate_all(rendered, cluster.kubespray.kube_version)
    assert used == "1.35"
    assert [m["kind"] for m in rendered] == [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "IngressClass",
        "DaemonSet",
        "Service",
        "Ingress",
        "Ingress",
    ]


def test_strict_validation_catches_a_typo() -> None:
    """The validator is not a rubber stamp: an unknown field fails in strict mode."""
    broken = manifests.lb_service(spec())
    broken["spec"]["nodeports"] = 30800
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_all([broken], "1.35.4")


@pytest.mark.parametrize("name", ["baremetal-ha", "aws-3az", "lab"])
def test_shipped_presets_render_valid_manifests(name: str) -> None:
    cluster = preset.load(f"presets/{name}.yaml")
    rendered = manifests.controller_manifests(cluster) + manifests.virtual_host_manifests(cluster)
    validate_all(rendered, cluster.kubespray.kube_version)


def test_service_is_the_guides_nodeport_entry() -> None:
    service = manifests.lb_service(spec(http_node_port=31080, https_node_port=31443))
    assert service["metadata"] == {
        "name": "lb-service",
        "namespace": "kube-system",
        "labels": manifests.CONTROLLER_LABELS,
    }
    assert service["spec"]["type"] == "NodePort"
    ports = {p["name"]: (p["port"], p["nodePort"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {"http": (80, 31080, "web"), "https": (443, 31443, "websecure")}
    assert manifests.lb_service(spec())["spec"]["ports"][0]["nodePort"] == 30800
    pod_labels = manifests.daemonset()["spec"]["template"]["metadata"]["labels"]
    assert (
        service["spec"]["selector"].items() <= pod_labels.items()
    )  # the Service reaches the controller pods


def test_daemonset_runs_on_lb_nodes_with_a_pinned_image_as_non_root() -> None:
    ds = manifests.daemonset()
    pod = ds["spec"]["template"]["spec"]
    assert pod["nodeSelector"]["role"] == "loadbalancer"
    container = pod["containers"][0]
    image, _, tag = container["image"].partition(":")
    assert image == "traefik" and tag.startswith("v3.") and tag.count(".") == 2  # exact version
    assert "--providers.kubernetesingress=true" in container["args"]
    assert f"--providers.kubernetesingress.ingressclass={manifests.INGRESS_CLASS}" in container["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert all(p["containerPort"] > 1024 for p in container["ports"])  # no privileged ports needed
    assert pod["serviceAccountName"] == manifests.service_account()["metadata"]["name"]


def test_rbac_binds_the_service_account_in_its_namespace() -> None:
    binding = manifests.cluster_role_binding()
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "kwizard-lb", "namespace": "kube-system"}
    ]
    resources = {r for rule in manifests.cluster_role()["rules"] for r in rule["resources"]}
    assert {"ingresses", "ingressclasses", "endpointslices", "services", "secrets"} <= resources


def test_ingress_is_the_modern_lb_host_annotation() -> None:
    ingress = manifests.ingress(
        VirtualHost(host="grafana.example.com", service="grafana", namespace="monitoring", port=3000)
    )
    assert ingress["metadata"]["namespace"] == "monitoring"
    assert ingress["spec"]["ingressClassName"] == "kwizard"
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "grafana.example.com"
    assert rule["http"]["paths"][0]["backend"] == {"service": {"name": "grafana", "port": {"number": 3000}}}
    assert manifests.ingress_class()["spec"]["controller"] == manifests.TRAEFIK_CONTROLLER_ID


def test_yaml_round_trips() -> None:
    rendered = manifests.controller_manifests(spec())
    text = manifests.to_yaml(rendered, "title")
    assert text.startswith("# title\n---\n")
    assert list(yaml.safe_load_all(text)) == rendered


def test_unsupported_controller_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="Traefik only"):
        manifests.controller_manifests(spec(controller="haproxy"))


def test_phases_refuse_or_skip_before_touching_anything(tmp_path: Path) -> None:
    from kwizard import apps, loadbalancer
    from kwizard.options import RunOptions
    from kwizard.paths import workspace
    from kwizard.protocol.phase import PhaseContext

    no_lb = ClusterSpec(
        name="demo", hosts=[Host(name="cp1", address="10.0.0.11", roles=["control_plane", "etcd"])]
    )
    ctx = PhaseContext(spec=no_lb, ws=workspace("demo", tmp_path).create(), options=RunOptions())
    with pytest.raises(InputError, match="loadbalancer role"):
        loadbalancer.run_phase(ctx)
    assert apps.run_phase(ctx).status == "skipped"
    disabled = no_lb.model_copy(update={"loadbalancer": LoadBalancerSettings(enabled=False)})
    assert (
        loadbalancer.run_phase(PhaseContext(spec=disabled, ws=ctx.ws, options=RunOptions())).status
        == "skipped"
    )


def test_missing_inventory_is_a_clear_error(tmp_path: Path) -> None:
    from kwizard import loadbalancer
    from kwizard.options import RunOptions
    from kwizard.paths import workspace
    from kwizard.protocol.phase import PhaseContext

    ctx = PhaseContext(spec=spec(), ws=workspace("demo", tmp_path).create(), options=RunOptions())
    with pytest.raises(InputError, match="No inventory") as caught:
        loadbalancer.run_phase(ctx)
    assert "inventory phase first" in caught.value.fix
    written = sorted(p.name for p in (ctx.ws.artifacts_dir / "manifests" / "loadbalancer").iterdir())
    assert written == ["10-controller.yaml", "20-virtual-hosts.yaml"]  # rendered, for the user to read
