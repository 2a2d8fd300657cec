"""What every section of a preset is built on: strict models (unknown keys and "yes"-for-true are
errors) and the validation context in which the rules that compare several fields are collected
instead of raised."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

Port = Annotated[int, Field(ge=1, le=65535)]
NodePort = Annotated[int, Field(ge=30000, le=32767)]

# Validation context of a preset being loaded: the rules that compare several fields do not raise on the
# first problem; the loader collects every one of them (`rule_problems`), each at its own key.
DEFER_RULES: dict[str, bool] = {"defer_rules": True}


def deferred(info: ValidationInfo) -> bool:
    """Whether a rule comparing several fields leaves its problem to the preset loader."""
    return bool(info.context and info.context.get("defer_rules"))


class SpecModel(BaseModel):
    # Strict: unknown keys are errors (a typo must not be silently ignored), and no coercion of
    # "yes"/"1" strings into booleans — Kubespray itself refuses booleans passed as strings.
    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)
