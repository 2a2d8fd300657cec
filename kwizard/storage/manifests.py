"""Kubernetes manifests of the storage phase, rendered from the spec (plain dicts → multi-document YAML).

Gluster: a `gluster` StorageClass without a provisioner and one hostPath PersistentVolume per subdirectory
of the FUSE-mounted volume. Each PV carries the `pv.beta.kubernetes.io/gid` annotation (kubelet adds that
group to the pod, the guide's fix for non-root containers) and requires the node label that the playbook
sets once a node has the volume mounted, so a pod never lands where the path is missing.
AWS: a StorageClass for the EBS CSI driver, restricted to the spec's availability zones.
"""

from __future__ import annotations

from typing import Any

import yaml

from kwizard.spec import ClusterSpec
from kwizard.storage.plan import NODE_LABEL, STORAGE_CLASS, GlusterPlan

Manifest = dict[str, Any]
MANAGED_BY = {"app.kubernetes.io/managed-by": "kwizard"}
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
GID_ANNOTATION = "pv.beta.kubernetes.io/gid"
# The EBS CSI driver's own zone key (works with every driver version; the generic
# topology.kubernetes.io/zone key only with recent ones).
EBS_ZONE_KEY = "topology.ebs.csi.aws.com/zone"
# io1/io2 volumes cannot be created without an IOPS figure; this one scales with the size.
_EBS_IOPS_PER_GB = {"io1": "10", "io2": "10"}


def gluster_manifests(plan: GlusterPlan) -> list[Manifest]:
    """The `gluster` StorageClass and its PersistentVolumes."""
    storage_class: Manifest = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "labels": dict(MANAGED_BY),
            "annotations": {DEFAULT_CLASS: "true"},
        },
        "provisioner": "kubernetes.io/no-provisioner",
        # Binding waits for the pod, so the scheduler weighs the PV's node affinity with the pod's.
        "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": "Retain",
    }
    return [storage_class, *(_gluster_pv(plan, name) for name in plan.pv_names())]


def _gluster_pv(plan: GlusterPlan, name: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "labels": {**MANAGED_BY, "storage.kwizard.io/gluster-volume": plan.volume},
            "annotations": {GID_ANNOTATION: str(plan.gid)},
        },
        "spec": {
            "capacity": {"storage": plan.capacity},
            # Every node sees the same replicated volume, so many pods on many nodes may share a PV.
            "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
            # Retain: deleting a claim never deletes data (the guide's "100% won't want to lose").
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": STORAGE_CLASS,
            "volumeMode": "Filesystem",
            # Directory, not DirectoryOrCreate: on a node without the mount the pod fails visibly
            # instead of writing to the node's own disk.
            "hostPath": {"path": plan.pv_path(name), "type": "Directory"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": NODE_LABEL, "operator": "In", "values": ["mounted"]}]}
                    ]
                }
            },
        },
    }


def ebs_storage_class_name(spec: ClusterSpec) -> str:
    return f"ebs-{spec.storage.ebs_volume_type}"


def ebs_manifests(spec: ClusterSpec) -> list[Manifest]:
    """A StorageClass of the EBS CSI driver for spec's volume type, limited to the nodes' zones."""
    volume_type = spec.storage.ebs_volume_type
    parameters = {"type": volume_type, "csi.storage.k8s.io/fstype": "ext4", "encrypted": "true"}
    if volume_type in _EBS_IOPS_PER_GB:
        parameters["iopsPerGB"] = _EBS_IOPS_PER_GB[volume_type]
        parameters["allowAutoIOPSPerGBIncrease"] = "true"
    storage_class: Manifest = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": ebs_storage_class_name(spec),
            "labels": dict(MANAGED_BY),
            "annotations": {DEFAULT_CLASS: "true"},
        },
        "provisioner": "ebs.csi.aws.com",
        # An EBS volume lives in one zone: create it only once the pod's node (and so its zone) is known.
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
        "reclaimPolicy": "Retain",
        "parameters": parameters,
    }
    zones = node_zones(spec)
    if zones:
        storage_class["allowedTopologies"] = [
            {"matchLabelExpressions": [{"key": EBS_ZONE_KEY, "values": zones}]}
        ]
    return [storage_class]


def node_zones(spec: ClusterSpec) -> list[str]:
    """The availability zones of the hosts that run pods (workers, else control planes), sorted."""
    workers = spec.hosts_with("worker") or spec.hosts_with("control_plane")
    return sorted({h.az for h in workers if h.az})


def to_yaml(manifests: list[Manifest]) -> str:
    """Multi-document YAML, as `kubectl apply -f` reads it."""
    return yaml.safe_dump_all(manifests, sort_keys=False, default_flow_style=False, explicit_start=True)
