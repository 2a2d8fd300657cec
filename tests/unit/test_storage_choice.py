"""The storage choice: defaults per target, the options offered, and the summary texts."""

from __future__ import annotations

from pathlib import Path

from kwizard.preset import load
from kwizard.spec import ClusterSpec
from kwizard.storage import WHY_NOT_IN_TREE, default_storage_type, option, options_for, summary_text
from kwizard.storage.summary import pod_security_context

PRESETS = Path(__file__).resolve().parents[2] / "presets"
# AWS hosts that exist already (the shipped aws-3az preset creates its own).
AWS_HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "presets" / "aws-3az-hosts.yaml"


def test_defaults_gluster_on_bare_metal_and_ebs_on_aws() -> None:
    assert default_storage_type(ClusterSpec(name="c")) == "gluster"
    assert default_storage_type(ClusterSpec(name="c", target="aws")) == "aws-ebs"


def test_ebs_is_offered_on_aws_only() -> None:
    assert [o.key for o in options_for("baremetal")] == ["gluster", "local-path", "none"]
    assert [o.key for o in options_for("aws")] == ["gluster", "aws-ebs", "local-path", "none"]
    assert option("aws-ebs").title.startswith("AWS EBS")


def test_the_reasons_name_the_removals_and_versions() -> None:
    text = " ".join(WHY_NOT_IN_TREE)
    for fact in ("Kubernetes 1.26", "v2.28", "cloud_provider: aws", "1.31", "v2.27", "aws_ebs_csi_enabled"):
        assert fact in text


def test_gluster_summary_shows_the_guides_permission_fixes() -> None:
    text = summary_text(load(PRESETS / "baremetal-ha.yaml"))
    assert 'pv.beta.kubernetes.io/gid: "1000"' in text
    assert "fsGroup: 1000" in text and "supplementalGroups: [1000]" in text
    assert "gluster1 (LVM on /dev/sdb)" in text and "replica 3" in text
    assert all(reason in text for reason in WHY_NOT_IN_TREE)


def test_ebs_summary_names_the_class_zones_and_iam() -> None:
    text = summary_text(load(AWS_HOSTS))
    assert "`ebs-gp3`" in text and "eu-west-1a, eu-west-1b, eu-west-1c" in text and "IAM" in text


def test_local_path_and_none_summaries() -> None:
    spec = load(PRESETS / "baremetal-ha.yaml")
    assert "local-path" in summary_text(spec.updated(storage={"type": "local-path"}))
    assert summary_text(spec.updated(storage={"type": "none"})).startswith("Storage: none")


def test_security_context_is_valid_yaml_for_a_pod_spec() -> None:
    import yaml

    assert yaml.safe_load(pod_security_context(1234)) == {
        "securityContext": {"fsGroup": 1234, "supplementalGroups": [1234]}
    }
