"""What the user reads after the storage phase: what was built, how pods use it, why not as in the guide."""

from __future__ import annotations

from kwizard.spec import ClusterSpec
from kwizard.storage.choice import WHY_NOT_IN_TREE
from kwizard.storage.manifests import ebs_storage_class_name, node_zones
from kwizard.storage.plan import gluster_plan


def pod_security_context(gid: int) -> str:
    """The pod-level securityContext the guide needed for non-root containers, as YAML."""
    return (
        "securityContext:        # in the Pod spec, not the container\n"
        f"  fsGroup: {gid}\n"
        f"  supplementalGroups: [{gid}]"
    )


def summary_text(spec: ClusterSpec) -> str:
    """A plain-text summary of spec's storage for the end of the run."""
    kind = spec.storage.type
    if kind == "none":
        return "Storage: none (storage.type: none)."
    if kind == "gluster":
        lines = _gluster_lines(spec)
    elif kind == "aws-ebs":
        zones = ", ".join(node_zones(spec)) or "the zones of the nodes"
        lines = [
            f"Storage: AWS EBS through the EBS CSI driver; StorageClass `{ebs_storage_class_name(spec)}` "
            f"(default, {spec.storage.ebs_volume_type}, one volume per claim in {zones}, kept on delete).",
            "The nodes' IAM instance profile must allow the EBS volume actions (create, attach, delete).",
            "Non-root pods: set the Pod's securityContext; kubelet then gives the volume to that group:",
            pod_security_context(spec.storage.gluster.gid),
        ]
    else:
        lines = [
            "Storage: Kubespray's local-path provisioner; StorageClass `local-path` (a folder on the pod's "
            "node: the data stays on that node).",
            "Non-root pods: set the Pod's securityContext:",
            pod_security_context(spec.storage.gluster.gid),
        ]
    return "\n".join([*lines, "", "Why not as in the guide:", *(f"- {reason}" for reason in WHY_NOT_IN_TREE)])


def _gluster_lines(spec: ClusterSpec) -> list[str]:
    plan = gluster_plan(spec)
    hosts = ", ".join(f"{b.host} ({'LVM on ' + b.device if b.device else 'directory'})" for b in plan.bricks)
    replica = f"replica {plan.replicas}" if plan.replicas > 1 else "no replication"
    return [
        f"Storage: GlusterFS volume `{plan.volume}` ({replica}) with bricks on {hosts}.",
        f"Every Kubernetes node mounts it at {plan.mount_point} (FUSE, in /etc/fstab with _netdev and "
        "backup volfile servers).",
        f"StorageClass `gluster` (default): {plan.pv_count} PersistentVolumes of {plan.capacity}, each a "
        f"folder under {plan.mount_point}/pv on the one shared volume (the size is a label, not a quota).",
        f"Non-root pods (Elasticsearch…): the volume belongs to group {plan.gid} (storage.owner-gid, "
        "setgid folders) and every PV carries",
        f'  pv.beta.kubernetes.io/gid: "{plan.gid}"',
        "so kubelet adds that group to any pod using it. As the guide found, also set in the Pod spec:",
        pod_security_context(plan.gid),
        "(kubelet does not chown hostPath volumes, so fsGroup only adds the group here: the data keeps "
        "its owner on every node.)",
    ]
