"""`kwizard runs`: reserved; its implementation is not built yet."""

from __future__ import annotations

import argparse

from kwizard.errors import KwizardError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    raise KwizardError(
        "Not built yet",
        "`kwizard runs` is reserved but not implemented in this version.",
        "Follow the project's changelog; until then use the wizard.",
    )
