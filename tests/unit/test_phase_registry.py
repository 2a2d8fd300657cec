"""The phases are declared once (kwizard.phases.REGISTRY); every other view of them agrees with it."""

from __future__ import annotations

from typing import get_args

from kwizard.engine.fingerprint import PARTS, PHASE_INPUTS
from kwizard.engine.pipeline import product_phases
from kwizard.phases import PHASE_TITLES, PHASES, REGISTRY, USER_PHASES, phase_info
from kwizard.protocol.phase import load_phase
from kwizard.spec import ClusterSpec, Phase


def test_the_spec_cli_and_engine_list_the_registry_s_phases_in_its_order() -> None:
    assert tuple(info.name for info in REGISTRY) == PHASES and len(set(PHASES)) == len(PHASES)
    assert get_args(Phase) == PHASES  # the preset's `phases:` accepts exactly these
    # A preset runs every phase a user may tick; provision runs when the preset has a provision section.
    assert ClusterSpec.model_fields["phases"].default_factory() == list(USER_PHASES)  # type: ignore[misc,call-arg]
    assert [p for p in PHASES if p not in USER_PHASES] == ["provision"]
    assert [(d.name, d.title, d.inputs) for d in product_phases()] == [
        (info.name, info.title, info.inputs) for info in REGISTRY
    ]
    assert {info.name: info.title for info in REGISTRY} == PHASE_TITLES


def test_every_phase_imports_and_depends_on_known_spec_parts() -> None:
    for info in REGISTRY:
        assert callable(load_phase(info.name)), info.implementation
        assert set(info.inputs) <= set(PARTS), info.name
        assert PHASE_INPUTS[info.name] == info.inputs
    assert phase_info("storage").title == "Storage"
