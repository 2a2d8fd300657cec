"""Fuzzing the preset loader: whatever the input, a ClusterSpec or a PresetError, never a traceback."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kwizard import preset as presets
from kwizard.errors import PresetError
from kwizard.spec import ClusterSpec

KEYS = [
    "version",
    "name",
    "target",
    "hosts",
    "ssh",
    "bastion",
    "kubespray",
    "loadbalancer",
    "storage",
    "apps",
    "phases",
    "address",
    "roles",
    "port",
    "user",
    "nodes",
    "kube_version",
    "gluster",
    "replicas",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(
        ["10.0.0.1", "10.0.0.300", "control_plane", "etcd", "::1", "1.35.4", "aws", "gluster", "cp1", "1e309"]
    ),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5)
    ),
    max_leaves=25,
)


def _parse(text: str) -> None:
    try:
        result = presets.parse(text, "fuzz.yaml")
    except PresetError as error:
        assert error.title and error.problem
        return
    assert isinstance(result, ClusterSpec)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=8))
def test_structured_presets_never_raise_anything_but_preset_error(data: dict[str, object]):
    try:
        text = yaml.safe_dump(data)
    except yaml.YAMLError:
        return
    _parse(text)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_but_preset_error(text: str):
    _parse(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_preset_error(data: bytes):
    _parse(data.decode("utf-8", errors="surrogateescape"))
