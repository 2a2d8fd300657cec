"""Issue 14 part 4: hostile presets, host lists and `diagnose` targets through the real CLI.

A bounded, seeded run (about a minute); set KWIZARD_FUZZ_CASES=10000 for the full count, or run
`python -m tests.cli_fuzz --cases 10000` to print the figures.
"""

from __future__ import annotations

import os
import random
import time

from kwizard.discovery.ranges import MAX_HOSTS, parse_host_list
from tests import cli_fuzz
from tests.cli_fuzz import ACCEPT, REFUSE, Case

CASES = int(os.environ.get("KWIZARD_FUZZ_CASES", "1200"))
SUBPROCESSES = int(os.environ.get("KWIZARD_FUZZ_SUBPROCESSES", "10"))


def test_hostile_input_through_the_cli_is_refused_cleanly_and_quickly() -> None:
    figures, child_peak_kb = cli_fuzz.run(CASES, SUBPROCESSES)
    assert figures.failures == []
    assert figures.tracebacks == 0 and figures.hangs == 0 and figures.network_attempts == 0
    assert sum(figures.cases.values()) == CASES + SUBPROCESSES
    expected = {
        "malformed-yaml", "wrong-types", "huge-numbers", "unicode", "duplicate-keys", "alias-bomb",
        "alias-cycle", "deep-nesting", "long-strings", "host-list", "binary-preset", "valid",
        *(f"diagnose-{kind}" for kind in cli_fuzz.DIAGNOSE_TARGETS),
    }  # fmt: skip
    assert set(figures.cases) == expected
    assert figures.slowest < cli_fuzz.CASE_SECONDS
    # Bounded memory: a 2 GB sparse file, /dev/zero and alias bombs are never held in memory.
    assert figures.peak_rss_kb < 1024 * 1024
    assert child_peak_kb < 1024 * 1024


def test_the_judge_tells_refusals_from_failures() -> None:
    refuse = Case("x", REFUSE)
    panel = "╭─ Invalid preset ─╮\n│ p.yaml:3: bad │\n│ Fix: do this │\n╰───╯"
    assert cli_fuzz._judge(refuse, 2, panel, 0.1) == ""
    assert "expected 2" in cli_fuzz._judge(refuse, 0, "", 0.1)
    assert "panel" in cli_fuzz._judge(refuse, 2, "usage: kwizard", 0.1)
    assert "traceback" in cli_fuzz._judge(refuse, 2, panel + "Traceback (most recent", 0.1)
    assert "internal error" in cli_fuzz._judge(refuse, 1, "kwizard hit an internal error", 0.1)
    assert "hang" in cli_fuzz._judge(refuse, None, "", 11)
    assert "expected 0" in cli_fuzz._judge(Case("v", ACCEPT), 2, panel, 0.1)


def test_generated_cases_are_the_same_for_the_same_seed() -> None:
    first = [(c.category, c.payload) for c in cli_fuzz.cases(60, seed=3)]
    assert first == [(c.category, c.payload) for c in cli_fuzz.cases(60, seed=3)]
    assert first != [(c.category, c.payload) for c in cli_fuzz.cases(60, seed=4)]


def test_typed_host_lists_never_raise_nor_freeze() -> None:
    # The Hosts step's parser (the wizard's way in for ranges): hostile tokens, combined at random.
    rng = random.Random(20)
    tokens = [
        *cli_fuzz.HOSTILE_HOSTS,
        "10.0.[0:255].[0:255]",
        "n[1:4096]",
        "u@10.0.0.[1:9]:2222",
        "n[1:3]=10.0.0.[1:3]",
        "[",
        "]",
        "a[b:c]",
        "x[0:1:0]",
        "cp1 10.0.0.1 cp,etcd",
        "\x00",
        "\u2028",
    ]
    for _ in range(300):
        text = rng.choice([" ", ",", "\n", ";"]).join(rng.choice(tokens) for _ in range(rng.randrange(1, 12)))
        started = time.monotonic()
        found = parse_host_list(text)
        assert time.monotonic() - started < 2.0
        assert len(found.candidates) <= MAX_HOSTS
        assert all(problem.problem and problem.fix for problem in found.problems)
