"""Phase outputs are typed: written with to_data(), read back with of(), through the journal's JSON."""

from __future__ import annotations

import json

from kwizard.inventory.render import preflight_python
from kwizard.protocol.outputs import AccessOutput, PreflightOutput


def test_outputs_survive_the_journal_and_read_back_typed() -> None:
    access = AccessOutput(
        "/k/id_ed25519", "ssh-ed25519 AAAA kw", "SHA256:x", True, {"n1": {"status": "ready"}}
    )
    preflight = PreflightOutput(python_interpreters={"n1": "/usr/bin/python3", "n2": "python3"})
    results = json.loads(json.dumps({"access": access.to_data(), "preflight": preflight.to_data()}))
    assert AccessOutput.of(results) == access
    read = PreflightOutput.of(results)
    assert read is not None and read.interpreter("n1") == "/usr/bin/python3"
    assert read.interpreter("n2") is None and read.interpreter("n3") is None  # only absolute paths
    assert preflight_python(results, "n1") == "/usr/bin/python3"


def test_a_phase_that_did_not_run_or_older_data_reads_as_none() -> None:
    assert AccessOutput.of({}) is None and PreflightOutput.of({"preflight": "x"}) is None
    assert AccessOutput.of({"access": {"public_key": "k"}}) is None  # no key: not this shape
    assert preflight_python({}, "n1") is None
    # Fields this version does not know (a newer kwizard's) are ignored.
    assert (
        PreflightOutput.of({"preflight": {"python_interpreters": {}, "later_field": 1}}) == PreflightOutput()
    )
