"""EBS and local-path on the lab: what Kubespray should have installed is checked, then the class applied.

lab1 is the control plane with the recording kubectl stand-in on its PATH (no API server runs in the lab);
the test seeds the objects Kubespray would have created (the EBS CSI driver, the local-path class).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# Until the ansible-runner adapter (#7) is merged, there is nothing to run the playbook with.
pytest.importorskip("kwizard.runner.adapter", reason="the ansible-runner adapter is not merged yet")
from kwizard.errors import RemoteError
from kwizard.lab import Lab, LabHost
from kwizard.spec import ClusterSpec
from kwizard.storage import run_phase
from tests.k8s_schema import validate_strict
from tests.storage_lab import STANDIN_LOG, install_standin, lab_context, standin_calls

STATE = "/var/lib/kubectl-standin"


def provisioner_spec(lab: Lab, storage: str) -> ClusterSpec:
    hosts = [
        {
            "name": "lab1",
            "address": lab.host("lab1").address,
            "roles": ["control_plane", "etcd"],
            "az": "eu-a",
        },
        {"name": "lab2", "address": lab.host("lab2").address, "roles": ["worker"], "az": "eu-b"},
        {"name": "lab4", "address": lab.host("lab4").address, "roles": ["worker"], "az": "eu-a"},
    ]
    return ClusterSpec.model_validate(
        {
            "name": "kwsprov",
            "target": "aws" if storage == "aws-ebs" else "baremetal",
            "hosts": hosts,
            "ssh": {"user": "root", "key": str(lab.key_path)},
            "storage": {"type": storage},
        }
    )


def seed(host: LabHost, kind: str, name: str) -> None:
    """Make the stand-in know an object, as if Kubespray had created it."""
    done = host.exec(f"mkdir -p {STATE} && echo '{{}}' > {STATE}/{kind}--{name}.json")
    assert done.returncode == 0, done.stderr


@pytest.fixture
def control_plane(lab: Lab) -> Iterator[LabHost]:
    host = lab.host("lab1")
    host.exec(f"rm -rf {STANDIN_LOG} {STATE} /etc/kwizard")
    install_standin(host)
    try:
        yield host
    finally:
        host.exec(f"rm -rf /usr/local/bin/kubectl {STANDIN_LOG} {STATE} /etc/kwizard")


def applied(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for call in calls for m in call.get("manifests", [])]


def test_ebs_needs_the_csi_driver_then_gets_a_gp3_class_in_the_nodes_zones(
    lab: Lab, control_plane: LabHost, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ctx = lab_context(lab, provisioner_spec(lab, "aws-ebs"), tmp_path_factory.mktemp("ws"))
    with pytest.raises(RemoteError) as caught:
        run_phase(ctx)
    assert caught.value.title == "Storage provisioner missing"
    assert "csidriver ebs.csi.aws.com is not in the cluster" in caught.value.problem
    assert "aws_ebs_csi_enabled" in caught.value.problem
    assert applied(standin_calls(control_plane)) == []  # nothing applied before the driver exists

    seed(control_plane, "csidriver", "ebs.csi.aws.com")
    first = run_phase(ctx)
    assert first.status == "ok", first.summary
    (storage_class,) = applied(standin_calls(control_plane))
    validate_strict([storage_class], ctx.spec.kubespray.kube_version)
    assert (
        storage_class["metadata"]["name"] == "ebs-gp3" and storage_class["provisioner"] == "ebs.csi.aws.com"
    )
    zones = storage_class["allowedTopologies"][0]["matchLabelExpressions"][0]["values"]
    assert zones == ["eu-a", "eu-b"]
    assert first.data["storage_class"] == "ebs-gp3" and first.data["changed"] > 0

    second = run_phase(ctx)
    # The playbook runs on the control planes only.
    assert {host: stats["changed"] for host, stats in second.data["stats"].items()} == {"lab1": 0}


def test_local_path_is_verified_and_nothing_is_applied(
    lab: Lab, control_plane: LabHost, tmp_path_factory: pytest.TempPathFactory
) -> None:
    ctx = lab_context(lab, provisioner_spec(lab, "local-path"), tmp_path_factory.mktemp("ws"))
    with pytest.raises(RemoteError) as caught:
        run_phase(ctx)
    assert "storageclass local-path is not in the cluster" in caught.value.problem
    assert "local_path_provisioner_enabled" in caught.value.problem

    seed(control_plane, "storageclass", "local-path")
    result = run_phase(ctx)
    assert result.status == "ok" and result.data["changed"] == 0
    calls = standin_calls(control_plane)
    assert applied(calls) == []
    assert [c["argv"][1:] for c in calls][-1] == ["get", "storageclass", "local-path", "-o", "name"]
