"""The apps phase: Grafana, as in the field guide, behind the HA ingress at grafana.<domain>, verified.

The guide exposed Grafana through the service-loadbalancer's `lb.host` annotation instead of a NodePort;
here it is a ClusterIP Service plus a standard Ingress. The admin password is generated on the control
plane into a Secret and never travels to the laptop (read it with the command the summary prints).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kwizard.loadbalancer import deploy, dns, manifests
from kwizard.loadbalancer.manifests import Manifest
from kwizard.protocol.outputs import AppsOutput
from kwizard.spec import ClusterSpec, VirtualHost

if TYPE_CHECKING:
    from kwizard.protocol.phase import PhaseContext, PhaseResult

PHASE = "apps"
NAMESPACE = "monitoring"
GRAFANA = "grafana"
GRAFANA_IMAGE = "grafana/grafana:13.0.0"  # pinned; the grafana-oss repository is no longer updated
GRAFANA_UID = 472  # the image's own grafana user
GRAFANA_PORT = 3000
ADMIN_SECRET = "grafana-admin"  # noqa: S105 - the Secret's name, not a password
HEALTH_PATH = "/api/health"
LABELS = {"app.kubernetes.io/name": GRAFANA, "app.kubernetes.io/component": "core", **manifests.MANAGED_BY}
SELECTOR = {"app.kubernetes.io/name": GRAFANA}


def grafana_vhost(spec: ClusterSpec) -> VirtualHost:
    return VirtualHost(host=dns.grafana_host(spec), service=GRAFANA, namespace=NAMESPACE, port=GRAFANA_PORT)


def grafana_url(spec: ClusterSpec) -> str:
    return f"http://{dns.grafana_host(spec)}:{spec.loadbalancer.http_node_port}/"


def password_command(spec: ClusterSpec) -> str:
    """How the user reads the generated admin password (it never leaves the cluster otherwise)."""
    return (
        f"kubectl --context {spec.name} -n {NAMESPACE} get secret {ADMIN_SECRET} "
        "-o jsonpath='{.data.admin-password}' | base64 -d"
    )


def namespace() -> Manifest:
    # Grafana below meets the "restricted" Pod Security Standard. Warn (not enforce): the namespace may
    # already hold the user's own workloads, which an enforced label would block on their next restart.
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {**manifests.MANAGED_BY, "pod-security.kubernetes.io/warn": "restricted"},
        },
    }


def deployment(spec: ClusterSpec) -> Manifest:
    probe = {"httpGet": {"path": HEALTH_PATH, "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 2}
    writable = ["/var/lib/grafana", "/var/log/grafana", "/tmp"]
    volumes = [f"{GRAFANA}-{p.strip('/').replace('/', '-')}" for p in writable]
    env = [
        {
            "name": "GF_SECURITY_ADMIN_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": ADMIN_SECRET, "key": "admin-password"}},
        },
        {"name": "GF_SERVER_ROOT_URL", "value": grafana_url(spec)},
        {"name": "GF_LOG_MODE", "value": "console"},
        {"name": "GF_ANALYTICS_REPORTING_ENABLED", "value": "false"},
        {"name": "GF_ANALYTICS_CHECK_FOR_UPDATES", "value": "false"},
    ]
    container = {
        "name": GRAFANA,
        "image": GRAFANA_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": GRAFANA_PORT, "protocol": "TCP"}],
        "env": env,
        "readinessProbe": probe,
        "livenessProbe": {**probe, "initialDelaySeconds": 30, "failureThreshold": 5},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": v, "mountPath": p} for v, p in zip(volumes, writable, strict=True)],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": GRAFANA, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(SELECTOR)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": GRAFANA_UID,
                        "runAsGroup": GRAFANA_UID,
                        "fsGroup": GRAFANA_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    # A sample: data lives as long as the pod. Point it at the storage phase's class for more.
                    "volumes": [{"name": v, "emptyDir": {}} for v in volumes],
                },
            },
        },
    }


def service() -> Manifest:
    """ClusterIP on 3000: the guide's point is that Grafana needs no NodePort of its own."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": GRAFANA, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "type": "ClusterIP",
            "selector": dict(SELECTOR),
            "ports": [{"name": "http", "port": GRAFANA_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def grafana_manifests(spec: ClusterSpec) -> list[Manifest]:
    """Namespace, Deployment, Service and the Ingress at grafana.<domain>, in apply order."""
    return [namespace(), deployment(spec), service(), manifests.ingress(grafana_vhost(spec))]


def run_phase(ctx: PhaseContext) -> PhaseResult:
    """Deploy Grafana, wait for it, and check it answers through every LB node."""
    from kwizard.loadbalancer import report_findings, targets
    from kwizard.loadbalancer.verify import verify
    from kwizard.protocol.phase import PhaseResult

    spec = ctx.spec
    if not spec.apps.grafana:
        return PhaseResult("skipped", "no sample app selected (apps.grafana is false)")
    files = deploy.write_manifests(ctx, PHASE, {"10-grafana.yaml": grafana_manifests(spec)})
    rollout = deploy.Rollout("deployment", GRAFANA, NAMESPACE)
    variables = deploy.extravars(
        PHASE, files, [rollout], kwizard_grafana_namespace=NAMESPACE, kwizard_grafana_secret=ADMIN_SECRET
    )
    result = deploy.run(ctx, PHASE, "apps.yml", variables)
    if not result.ok:
        failed = AppsOutput(manifests=[str(f) for f in files])
        return PhaseResult("failed", deploy.failure_summary(result), failed.to_data())
    host = dns.grafana_host(spec)
    report = verify(targets(spec), [host], spec.loadbalancer.http_node_port, path=HEALTH_PATH)
    # Only "the laptop cannot reach the node" is a warning; any wrong answer is a real failure.
    errors = report_findings(ctx, PHASE, report, fatal={"refused", "not_found", "backend_down", "http_error"})
    data = AppsOutput(
        grafana={
            "url": grafana_url(spec),
            "host": host,
            "image": GRAFANA_IMAGE,
            "user": "admin",
            "password_command": password_command(spec),
        },
        manifests=[str(f) for f in files],
        verification=report.to_data(),
    ).to_data()
    if errors:
        return PhaseResult("failed", errors[0], data)
    served = sum(r.passed for r in report.results)
    return PhaseResult(
        "ok", f"Grafana at {grafana_url(spec)}: served by {served}/{len(report.results)} LB nodes", data
    )
