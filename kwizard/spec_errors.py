"""Pydantic's validation errors in a preset's words: the key as written (`hosts[2].roles`), what is
wrong, and a "did you mean" for an unknown key close to a known one."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError


def format_loc(loc: tuple[Any, ...] | list[Any]) -> str:
    """A pydantic error location as a key path: `hosts[2].address`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and part.startswith(("function-", "literal[")):
            continue  # pydantic's internal validator names are noise for users
        else:
            text += f".{part}" if text else str(part)
    return text


def explain(exc: ValidationError, root: str = "", model: type[BaseModel] | None = None) -> str:
    """A pydantic ValidationError as lines of `key.path: reason` (no pydantic URLs or jargon); `model`
    is what was validated, for the "did you mean" of an unknown key."""
    return "\n".join(
        f"{format_loc(e['loc']) or root}: {describe_error(e, model)}"
        if (e["loc"] or root)
        else describe_error(e, model)
        for e in exc.errors()
    )


def describe_error(error: Any, model: type[BaseModel] | None = None) -> str:
    """One pydantic error as a sentence a user can act on."""
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), settings_at(model, loc[:-1]), n=1)
        if close:
            return f"unknown key {loc[-1]!r}: did you mean {close[0]!r}?"
        return f"unknown key {loc[-1]!r} (a typo? it is not a kwizard setting)"
    if kind == "missing":
        return "this key is required"
    if "input" in error and kind not in ("value_error", "assertion_error"):
        return f"{message} (got {error['input']!r})"
    return message


def settings_at(model: type[BaseModel] | None, loc: tuple[Any, ...] | list[Any]) -> list[str]:
    """The setting names of the model at `loc` inside `model` (`("hosts", 0)` → Host's fields)."""
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list of models
        field = model.model_fields.get(str(part)) if model else None
        model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `Bastion | None` or `list[Host]`, if there is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None
