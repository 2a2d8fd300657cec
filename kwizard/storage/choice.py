"""The storage choice: which backends exist, which one a target gets by default, and why the guide's differ.

The field guide used Kubespray's GlusterFS contrib with the in-tree `glusterfs` volume plugin on bare
metal, and the in-tree AWS cloud provider (`cloud_provider: aws`, provisioner `kubernetes.io/aws-ebs`) on
EC2. None of these exist any more; the texts here say so plainly, for the wizard and for the summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from kwizard.spec import ClusterSpec, StorageType, Target


@dataclass(frozen=True)
class StorageOption:
    """One storage backend as offered in the wizard."""

    key: StorageType
    title: str
    description: str
    targets: tuple[Target, ...]


STORAGE_OPTIONS: tuple[StorageOption, ...] = (
    StorageOption(
        "gluster",
        "GlusterFS (replicated, on your storage hosts)",
        "A replica volume across the hosts with the storage role, built from an LVM volume on each host's "
        "storage device (or a directory). Every Kubernetes node mounts it (FUSE) and pods get it through "
        "PersistentVolumes of the `gluster` StorageClass.",
        ("baremetal", "aws"),
    ),
    StorageOption(
        "aws-ebs",
        "AWS EBS (CSI driver, gp3)",
        "Kubespray installs the AWS EBS CSI driver; kwizard adds a StorageClass that creates one EBS volume "
        "per claim in the zone of the pod's node. The nodes' IAM role must allow EBS volume operations.",
        ("aws",),
    ),
    StorageOption(
        "local-path",
        "Local path (node-local directories)",
        "Kubespray's local-path provisioner: a directory on the node that runs the pod. Simple and fast, "
        "but the data is lost with the node and the pod cannot move.",
        ("baremetal", "aws"),
    ),
    StorageOption("none", "None", "No persistent storage is set up.", ("baremetal", "aws")),
)

# Why the guide's own instructions cannot be followed on today's versions (shown in the wizard and
# in the phase summary).
WHY_NOT_IN_TREE: tuple[str, ...] = (
    "The in-tree `glusterfs` volume plugin (and its Heketi provisioner) was removed in Kubernetes 1.26: "
    "kwizard FUSE-mounts the volume on every node and offers it as PersistentVolumes instead.",
    "Kubespray's GlusterFS playbooks (contrib/network-storage) were removed in v2.28: kwizard brings its "
    "own playbook.",
    "The in-tree AWS cloud provider (`cloud_provider: aws`, provisioner `kubernetes.io/aws-ebs`) was removed "
    "in Kubernetes 1.31 / Kubespray v2.27: EBS volumes now come from the EBS CSI driver "
    "(`aws_ebs_csi_enabled`) and the provisioner `ebs.csi.aws.com`.",
)


def options_for(target: Target) -> tuple[StorageOption, ...]:
    """The storage backends that make sense on `target`."""
    return tuple(option for option in STORAGE_OPTIONS if target in option.targets)


def option(key: str) -> StorageOption:
    """The StorageOption called `key`."""
    for candidate in STORAGE_OPTIONS:
        if candidate.key == key:
            return candidate
    raise KeyError(key)


def default_storage_type(spec: ClusterSpec) -> StorageType:
    """The storage a new spec gets: EBS on AWS, GlusterFS on bare metal (as in the guide)."""
    return "aws-ebs" if spec.target == "aws" else "gluster"
