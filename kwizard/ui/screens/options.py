"""Step 4 — Roles & options: Kubespray settings, the HA ingress load balancer, storage, apps, phases."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Label, Select, SelectionList, Static, TextArea

from kwizard.choices import CONTAINER_MANAGERS, NETWORK_PLUGINS, parse_virtual_hosts
from kwizard.errors import InputError
from kwizard.phases import PHASE_TITLES, USER_PHASES
from kwizard.spec import ClusterSpec
from kwizard.ui.steps import StepScreen
from kwizard.ui.widgets.storage_choice import StorageChoice


class OptionsStep(StepScreen):
    step_id = "options"

    def compose_body(self) -> ComposeResult:
        yield Static("Kubespray", classes="section-title")
        with Horizontal(classes="row"):
            yield Label("Kubespray version", classes="field-label")
            yield Input(id="kubespray-version")
            yield Label("Kubernetes", classes="field-label")
            yield Input(id="kube-version")
        with Horizontal(classes="row"):
            yield Label("Network plugin", classes="field-label")
            yield Select([(p, p) for p in NETWORK_PLUGINS], id="network-plugin", allow_blank=False)
            yield Label("Container runtime", classes="field-label")
            yield Select([(c, c) for c in CONTAINER_MANAGERS], id="container-manager", allow_blank=False)
        with Horizontal(classes="row"):
            yield Label("HTTP proxy", classes="field-label")
            yield Input(id="http-proxy", placeholder="none")
            yield Label("HTTPS proxy", classes="field-label")
            yield Input(id="https-proxy", placeholder="none")
        yield Static("HA ingress without a cloud load balancer", classes="section-title")
        with Horizontal(classes="row"):
            yield Checkbox("Deploy the ingress load balancer", id="lb-enabled")
            yield Label("Domain", classes="field-label")
            yield Input(id="lb-domain")
        with Horizontal(classes="row"):
            yield Label("HTTP NodePort", classes="field-label")
            yield Input(id="lb-http", type="integer")
            yield Label("HTTPS NodePort", classes="field-label")
            yield Input(id="lb-https", type="integer")
        yield Label("Virtual hosts (one per line: HOST SERVICE [NAMESPACE] [PORT])", markup=False)
        yield TextArea(id="virtual-hosts")
        yield Static("Apps", classes="section-title")
        yield Checkbox("Grafana sample app", id="grafana")
        yield Static("Storage", classes="section-title")
        yield StorageChoice(id="storage-choice")
        yield Static("Phases to run", classes="section-title")
        yield SelectionList[str](*[(PHASE_TITLES[p], p) for p in USER_PHASES], id="phases")

    def load_spec(self, spec: ClusterSpec) -> None:
        ks, lb = spec.kubespray, spec.loadbalancer
        self._set("#kubespray-version", ks.version)
        self._set("#kube-version", ks.kube_version)
        self._set("#http-proxy", ks.http_proxy or "")
        self._set("#https-proxy", ks.https_proxy or "")
        self.query_one("#network-plugin", Select).value = ks.network_plugin
        self.query_one("#container-manager", Select).value = ks.container_manager
        self.query_one("#lb-enabled", Checkbox).value = lb.enabled
        self._set("#lb-domain", lb.domain)
        self._set("#lb-http", str(lb.http_node_port))
        self._set("#lb-https", str(lb.https_node_port))
        self.query_one("#virtual-hosts", TextArea).text = "\n".join(
            f"{v.host} {v.service} {v.namespace} {v.port}" for v in lb.virtual_hosts
        )
        self.query_one(StorageChoice).load(spec)
        self.query_one("#grafana", Checkbox).value = spec.apps.grafana
        phases = self.query_one("#phases", SelectionList)
        for phase in spec.phases:
            phases.select(phase)

    def _set(self, selector: str, value: str) -> None:
        self.query_one(selector, Input).value = value

    def _get(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _port(self, selector: str, label: str) -> int:
        text = self._get(selector)
        if not text.isdigit():
            raise InputError(f"Invalid {label}", f"{text!r} is not a port number", "Use 30000–32767.")
        return int(text)

    def apply_to(self, spec: ClusterSpec) -> ClusterSpec:
        kubespray = spec.kubespray.model_dump() | {
            "version": self._get("#kubespray-version"),
            "kube_version": self._get("#kube-version"),
            "network_plugin": self.query_one("#network-plugin", Select).value,
            "container_manager": self.query_one("#container-manager", Select).value,
            "http_proxy": self._get("#http-proxy") or None,
            "https_proxy": self._get("#https-proxy") or None,
        }
        loadbalancer = spec.loadbalancer.model_dump() | {
            "enabled": self.query_one("#lb-enabled", Checkbox).value,
            "domain": self._get("#lb-domain"),
            "http_node_port": self._port("#lb-http", "HTTP NodePort"),
            "https_node_port": self._port("#lb-https", "HTTPS NodePort"),
            "virtual_hosts": parse_virtual_hosts(self.query_one("#virtual-hosts", TextArea).text),
        }
        storage = self.query_one(StorageChoice).apply(spec)
        apps = spec.apps.model_dump() | {"grafana": self.query_one("#grafana", Checkbox).value}
        phases = list(self.query_one("#phases", SelectionList).selected)
        return spec.updated(
            kubespray=kubespray, loadbalancer=loadbalancer, storage=storage, apps=apps, phases=phases
        )
