"""Reading YAML a user wrote (presets, profiles, kubeconfigs): a syntax error names the file and line."""

from __future__ import annotations

from typing import Any

import yaml

from kwizard.errors import InputError


def error_location(exc: yaml.YAMLError, source: str) -> tuple[str, str]:
    """`(where, problem)` of a YAML error: `source:line:column` (1-based) and the parser's words."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return where, problem


def load(text: str, source: str, title: str, fix: str, error: type[InputError] = InputError) -> Any:
    """`yaml.safe_load(text)`, raising `error(title, "<where>: <problem>", fix)` on a syntax error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where, problem = error_location(exc, source)
        raise error(title, f"{where}: {problem}", fix) from None
