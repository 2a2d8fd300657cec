"""The end-of-run summary (headless text and rich renderables) built from the phases' results."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from kwizard import preset, summary
from kwizard.aws.settings import DnsSettings
from kwizard.headless.summary_view import print_summary
from kwizard.paths import workspace
from kwizard.spec import VirtualHost

RESULTS = {
    "kubeconfig": {
        "context": "baremetal-ha",
        "kubeconfig": "/w/clusters/baremetal-ha/artifacts/admin.conf",
        "merged_into": "/home/me/.kube/config",
        "server": "https://10.0.0.11:6443",
        "api_check": "the API at 10.0.0.11:6443 is not reachable from here (No route to host)",
    },
    "loadbalancer": {
        "verification": {
            "results": [
                {"node": "worker1", "host": "grafana.example.com", "outcome": "ok", "status": 200},
                {"node": "worker2", "host": "grafana.example.com", "outcome": "refused", "status": None},
            ]
        }
    },
    "apps": {
        "grafana": {
            "password_command": "kubectl --context baremetal-ha -n monitoring get secret grafana-admin"
        }
    },
}


def test_baremetal_summary_text(tmp_path: Path) -> None:
    spec = preset.load("presets/baremetal-ha.yaml")
    ws = workspace(spec.name, tmp_path)
    text = summary.render_text(summary.build(spec, ws, RESULTS))
    assert "kubectl --context baremetal-ha get nodes" in text
    assert "context baremetal-ha in /home/me/.kube/config" in text
    assert (
        "grafana.example.com. 60 IN A 10.0.0.21" in text and "grafana.example.com. 60 IN A 10.0.0.22" in text
    )
    assert "no health checks" in text
    assert "! kubectl will fail: the API at 10.0.0.11:6443 is not reachable from here" in text
    assert "http://grafana.example.com:30800/" in text
    assert "worker1 (10.0.0.21): grafana.example.com 200 ok" in text
    assert "worker2 (10.0.0.22): grafana.example.com refused" in text
    assert "YAGNI" in text
    # Day 2 through kwizard's own commands (each a checked, resumable run), not hand-run playbooks.
    assert "kwizard reset baremetal-ha --confirm baremetal-ha" in text
    assert "kwizard remove-node baremetal-ha worker3 --yes" in text and "--ungraceful" in text
    assert "kwizard add-node baremetal-ha NEW_ADDRESS... --role worker --yes" in text
    assert "kwizard upgrade baremetal-ha --kube-version NEXT_VERSION --yes" in text
    assert "kwizard backup baremetal-ha" in text and "ansible-playbook" not in text
    assert "Route53" not in text.split("DNS records to add")[1].split("URLs")[0]
    assert "GlusterFS volume `gv0`" in text.split("\nStorage\n")[1]  # the storage phase's own summary


def test_aws_summary_has_nat_per_az_and_route53(tmp_path: Path) -> None:
    spec = preset.load("tests/fixtures/presets/aws-3az-hosts.yaml")
    built = summary.build(spec, workspace(spec.name, tmp_path))
    text = summary.render_text(built)
    assert "NAT gateway per AZ" in text and "STOPPED" in text and "bandwidth" in text
    assert "3 AZs (eu-west-1a, eu-west-1b, eu-west-1c)" in text
    assert "do not work on EC2" in text
    assert built.route53_batch is not None
    assert '"Action": "UPSERT"' in text
    assert "not merged yet: run kwizard kubeconfig aws-3az" in text
    assert "worker-a (10.139.91.136): not verified yet" in text


def test_rich_rendering_shows_the_same_facts(tmp_path: Path) -> None:
    spec = preset.load("presets/baremetal-ha.yaml")
    console = Console(width=120, record=True, color_system=None)
    print_summary(summary.build(spec, workspace(spec.name, tmp_path), RESULTS), console)
    out = console.export_text()
    for needle in (
        "Kubeconfig",
        "DNS records to add",
        "Load-balancer nodes",
        "HA NAT",
        "Next steps",
        "refused",
    ):
        assert needle in out
    json.dumps(summary.build(spec, workspace(spec.name, tmp_path), RESULTS).route53_batch)


def test_names_provision_dns_keeps_are_not_records_to_add(tmp_path: Path) -> None:
    """With provision.dns, kwizard creates the Route53 records itself: the summary says it keeps them and
    prints no change batch for them; a virtual host outside the records is still the operator's to add."""
    hosts = preset.load("tests/fixtures/presets/aws-3az-hosts.yaml")
    provision = preset.load("presets/aws-3az.yaml").provision
    assert provision is not None
    kept = provision.model_copy(update={"dns": DnsSettings(zone="example.com", records=["*.example.com"])})
    vhosts = [*hosts.loadbalancer.virtual_hosts, VirtualHost(host="shop.other.org", service="shop", port=80)]
    spec = hosts.model_copy(
        update={
            "provision": kept,
            "loadbalancer": hosts.loadbalancer.model_copy(update={"virtual_hosts": vhosts}),
        }
    )
    built = summary.build(spec, workspace(spec.name, tmp_path))
    assert built.dns_kept and all(line.endswith("→ Route53 record *.example.com") for line in built.dns_kept)
    assert any(line.startswith("grafana.example.com →") for line in built.dns_kept)
    assert built.route53_batch is not None
    batch_names = {c["ResourceRecordSet"]["Name"] for c in built.route53_batch["Changes"]}
    assert batch_names == {"shop.other.org."}
    text = summary.render_text(built)
    assert "DNS records kwizard keeps in Route53 (provision.dns)" in text
    assert "grafana.example.com." not in text.split("DNS records to add")[1]
    # Every name kept: no "to add" section and no change batch at all.
    only_kept = spec.model_copy(update={"loadbalancer": hosts.loadbalancer})
    alone = summary.build(only_kept, workspace(spec.name, tmp_path))
    assert alone.route53_batch is None and "DNS records to add" not in summary.render_text(alone)
    console = Console(width=120, record=True, color_system=None)
    print_summary(alone, console)
    assert "kwizard keeps these in Route53" in console.export_text()
