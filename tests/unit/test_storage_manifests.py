"""Rendered storage manifests validate against the Kubernetes schema (strict) and say what pods need."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from kwizard.preset import load
from kwizard.storage.manifests import (
    EBS_ZONE_KEY,
    GID_ANNOTATION,
    ebs_manifests,
    gluster_manifests,
    node_zones,
    to_yaml,
)
from kwizard.storage.plan import NODE_LABEL, gluster_plan
from tests.k8s_schema import nearest_schema_version, validate_strict

PRESETS = Path(__file__).resolve().parents[2] / "presets"
# AWS hosts that exist already (the shipped aws-3az preset creates its own).
AWS_HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "presets" / "aws-3az-hosts.yaml"


def test_schema_version_is_the_one_nearest_to_the_kube_version() -> None:
    # kubernetes-validate 1.37 ships 1.25 to 1.37; Kubespray v2.31 defaults to 1.35.4.
    assert nearest_schema_version("1.35.4") == "1.35.0"
    assert nearest_schema_version("1.99.0") == max(
        {v for v in kubernetes_validate.utils.all_versions()}, key=lambda v: int(v.split(".")[1])
    )


def test_gluster_storage_class_and_pvs_validate_strictly() -> None:
    spec = load(PRESETS / "baremetal-ha.yaml")
    plan = gluster_plan(spec)
    manifests = gluster_manifests(plan)
    assert validate_strict(manifests, spec.kubespray.kube_version) == "1.35.0"
    storage_class, *pvs = manifests
    assert storage_class["kind"] == "StorageClass" and storage_class["metadata"]["name"] == "gluster"
    assert storage_class["provisioner"] == "kubernetes.io/no-provisioner"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    assert len(pvs) == spec.storage.gluster.pv_count == 10
    first = pvs[0]
    assert first["metadata"]["annotations"][GID_ANNOTATION] == "1000"
    assert first["spec"]["hostPath"] == {"path": "/mnt/gluster/pv/gluster-gv0-01", "type": "Directory"}
    assert first["spec"]["capacity"] == {"storage": "9Gi"}
    assert first["spec"]["storageClassName"] == "gluster"
    assert first["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    term = first["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert term == {"key": NODE_LABEL, "operator": "In", "values": ["mounted"]}
    assert len({pv["metadata"]["name"] for pv in pvs}) == 10
    assert len({pv["spec"]["hostPath"]["path"] for pv in pvs}) == 10


def test_strict_validation_really_rejects_a_bad_field() -> None:
    # Guards the test above: the strict schema is in force, so a typo would fail it.
    pv = gluster_manifests(gluster_plan(load(PRESETS / "baremetal-ha.yaml")))[1]
    pv["spec"]["hostpath"] = pv["spec"].pop("hostPath")
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_strict([pv], "1.35.4")


def test_ebs_storage_class_validates_and_is_limited_to_the_workers_zones() -> None:
    spec = load(AWS_HOSTS)
    manifests = ebs_manifests(spec)
    validate_strict(manifests, spec.kubespray.kube_version)
    (storage_class,) = manifests
    assert storage_class["metadata"]["name"] == "ebs-gp3"
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage_class["parameters"]["type"] == "gp3"
    assert storage_class["allowedTopologies"] == [
        {
            "matchLabelExpressions": [
                {"key": EBS_ZONE_KEY, "values": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]}
            ]
        }
    ]


@pytest.mark.parametrize("volume_type", ["io1", "io2"])
def test_provisioned_iops_types_get_an_iops_figure(volume_type: str) -> None:
    spec = load(AWS_HOSTS)
    spec = spec.updated(storage=spec.storage.model_dump() | {"ebs_volume_type": volume_type})
    (storage_class,) = ebs_manifests(spec)
    validate_strict([storage_class], spec.kubespray.kube_version)
    assert storage_class["parameters"]["iopsPerGB"]
    assert storage_class["metadata"]["name"] == f"ebs-{volume_type}"


def test_no_zones_no_topology_restriction() -> None:
    spec = load(AWS_HOSTS)
    hosts = [h.model_dump() | {"az": None} for h in spec.hosts]
    spec = spec.updated(hosts=hosts)
    assert node_zones(spec) == []
    assert "allowedTopologies" not in ebs_manifests(spec)[0]


def test_yaml_round_trips_as_kubectl_reads_it() -> None:
    manifests = gluster_manifests(gluster_plan(load(PRESETS / "lab.yaml")))
    text = to_yaml(manifests)
    assert text.startswith("---\n")
    assert list(yaml.safe_load_all(text)) == manifests
    # Annotations must stay strings (Kubernetes refuses numbers there).
    assert "pv.beta.kubernetes.io/gid: '1000'" in text
