"""Kubernetes manifests of the HA ingress load balancer, rendered from the spec (pure functions).

The field guide's design, with maintained parts: an ingress controller DaemonSet on every node labelled
`role=loadbalancer`, one NodePort Service `lb-service` in kube-system (80→30800, 443→30443) and
name-based virtual hosts. The guide's kubernetes/contrib service-loadbalancer and its successor
ingress-nginx are retired, so the controller is Traefik (kubernetes ingress provider) and virtual hosts
are standard `Ingress` objects — the modern form of the `serviceloadbalancer/lb.host` annotation.
"""

from __future__ import annotations

from typing import Any

import yaml

from kwizard.errors import InputError
from kwizard.spec import ClusterSpec, VirtualHost

Manifest = dict[str, Any]

NAMESPACE = "kube-system"
CONTROLLER = "kwizard-lb"
SERVICE = "lb-service"
INGRESS_CLASS = "kwizard"
NODE_LABEL_KEY = "role"
NODE_LABEL_VALUE = "loadbalancer"
# Pinned, never "latest": a re-run must deploy exactly what was tested. Bump deliberately.
TRAEFIK_IMAGE = "traefik:v3.7.9"
TRAEFIK_CONTROLLER_ID = "traefik.io/ingress-controller"
# Unprivileged container ports: the NodePort Service maps 80/443 onto them, so no NET_BIND_SERVICE.
WEB_PORT, WEBSECURE_PORT, PING_PORT = 8000, 8443, 8080
NON_ROOT_UID = 65532

MANAGED_BY = {"app.kubernetes.io/managed-by": "kwizard"}
CONTROLLER_LABELS = {
    "app.kubernetes.io/name": CONTROLLER,
    "app.kubernetes.io/component": "ingress-controller",
    **MANAGED_BY,
}
SELECTOR = {"app.kubernetes.io/name": CONTROLLER}


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels or MANAGED_BY)
    return meta


def service_account() -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(CONTROLLER, NAMESPACE, CONTROLLER_LABELS),
    }


def cluster_role() -> Manifest:
    """What Traefik v3's kubernetes ingress provider reads (EndpointSlices and Nodes since v3.1)."""
    watch = ["get", "list", "watch"]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": _meta(CONTROLLER, labels=CONTROLLER_LABELS),
        "rules": [
            {"apiGroups": [""], "resources": ["services", "secrets", "nodes"], "verbs": watch},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
            {
                "apiGroups": ["networking.k8s.io"],
                "resources": ["ingresses", "ingressclasses"],
                "verbs": watch,
            },
            {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"], "verbs": ["update"]},
        ],
    }


def cluster_role_binding() -> Manifest:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _meta(CONTROLLER, labels=CONTROLLER_LABELS),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CONTROLLER},
        "subjects": [{"kind": "ServiceAccount", "name": CONTROLLER, "namespace": NAMESPACE}],
    }


def ingress_class() -> Manifest:
    # The default class: Kubespray 2.31 ships no ingress controller any more, so Ingress objects without
    # ingressClassName (e.g. from Helm charts) should land here rather than nowhere.
    meta = _meta(INGRESS_CLASS, labels=CONTROLLER_LABELS)
    meta["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": meta,
        "spec": {"controller": TRAEFIK_CONTROLLER_ID},
    }


def traefik_args() -> list[str]:
    return [
        f"--entryPoints.web.address=:{WEB_PORT}",
        f"--entryPoints.websecure.address=:{WEBSECURE_PORT}",
        "--entryPoints.websecure.http.tls=true",
        f"--entryPoints.traefik.address=:{PING_PORT}",
        "--ping=true",
        "--providers.kubernetesingress=true",
        f"--providers.kubernetesingress.ingressclass={INGRESS_CLASS}",
        "--global.checknewversion=false",
        "--global.sendanonymoususage=false",
        "--log.level=INFO",
    ]


def daemonset() -> Manifest:
    """One controller pod on every node labelled role=loadbalancer (control planes included if labelled)."""
    probe = {"httpGet": {"path": "/ping", "port": "traefik"}, "periodSeconds": 10, "timeoutSeconds": 2}
    container = {
        "name": "traefik",
        "image": TRAEFIK_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": traefik_args(),
        "ports": [
            {"name": "web", "containerPort": WEB_PORT, "protocol": "TCP"},
            {"name": "websecure", "containerPort": WEBSECURE_PORT, "protocol": "TCP"},
            {"name": "traefik", "containerPort": PING_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": {**probe, "failureThreshold": 1},
        "livenessProbe": {**probe, "failureThreshold": 3, "initialDelaySeconds": 5},
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(CONTROLLER, NAMESPACE, CONTROLLER_LABELS),
        "spec": {
            "selector": {"matchLabels": dict(SELECTOR)},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": dict(CONTROLLER_LABELS)},
                "spec": {
                    "serviceAccountName": CONTROLLER,
                    "priorityClassName": "system-cluster-critical",
                    "nodeSelector": {NODE_LABEL_KEY: NODE_LABEL_VALUE, "kubernetes.io/os": "linux"},
                    # LB nodes may be control planes (small clusters): their NoSchedule taint must not
                    # silently leave a DNS-advertised node without a controller.
                    "tolerations": [
                        {
                            "key": "node-role.kubernetes.io/control-plane",
                            "operator": "Exists",
                            "effect": "NoSchedule",
                        }
                    ],
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": NON_ROOT_UID,
                        "runAsGroup": NON_ROOT_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def lb_service(spec: ClusterSpec) -> Manifest:
    """The single NodePort entry of the guide: every node answers on 30800/30443."""
    settings = spec.loadbalancer
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(SERVICE, NAMESPACE, CONTROLLER_LABELS),
        "spec": {
            "type": "NodePort",
            # Cluster (not Local): a node whose controller pod is restarting still forwards to the pod of
            # another LB node, which matters because DNS round robin keeps sending clients to it.
            "externalTrafficPolicy": "Cluster",
            "selector": dict(SELECTOR),
            "ports": [
                {
                    "name": "http",
                    "port": 80,
                    "targetPort": "web",
                    "nodePort": settings.http_node_port,
                    "protocol": "TCP",
                },
                {
                    "name": "https",
                    "port": 443,
                    "targetPort": "websecure",
                    "nodePort": settings.https_node_port,
                    "protocol": "TCP",
                },
            ],
        },
    }


def ingress(vhost: VirtualHost) -> Manifest:
    """A name-based virtual host: every request for `vhost.host` goes to the Service's port."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(vhost.host, vhost.namespace),
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "rules": [
                {
                    "host": vhost.host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {
                                    "service": {"name": vhost.service, "port": {"number": vhost.port}}
                                },
                            }
                        ]
                    },
                }
            ],
        },
    }


def controller_manifests(spec: ClusterSpec) -> list[Manifest]:
    """RBAC, IngressClass, the controller DaemonSet and `lb-service`, in apply order."""
    if spec.loadbalancer.controller != "traefik":
        raise InputError(
            "Ingress controller not available",
            f"loadbalancer.controller is {spec.loadbalancer.controller!r}; this kwizard renders Traefik only",
            "Set loadbalancer.controller: traefik in the preset.",
        )
    return [
        service_account(),
        cluster_role(),
        cluster_role_binding(),
        ingress_class(),
        daemonset(),
        lb_service(spec),
    ]


def virtual_host_manifests(spec: ClusterSpec) -> list[Manifest]:
    return [ingress(vhost) for vhost in spec.loadbalancer.virtual_hosts]


def to_yaml(manifests: list[Manifest], title: str = "") -> str:
    """Multi-document YAML, as `kubectl apply -f` reads it."""
    header = f"# {title}\n" if title else ""
    return header + yaml.safe_dump_all(
        manifests, sort_keys=False, default_flow_style=False, explicit_start=True
    )
