"""Where passwords come from: what the user typed first, then the environment variables the preset names.

The one place that reads `ssh.password_env` and `ssh.become_password_env`; headless runs, the day-2
commands and every step of the wizard resolve their `Secrets` here.
"""

from __future__ import annotations

import os

from kwizard.protocol.phase import Secrets
from kwizard.spec import ClusterSpec


def resolve_secrets(spec: ClusterSpec, typed: Secrets | None = None) -> tuple[Secrets, list[str]]:
    """The passwords to use: typed ones win, the rest come from the variables the preset names.

    Returns a new Secrets (the typed one is not changed) and a warning per named variable that is unset
    while nothing was typed for it either.
    """
    typed = typed or Secrets()
    values: dict[str, str | None] = {
        "ssh_password": typed.ssh_password,
        "become_password": typed.become_password,
    }
    warnings = []
    for field_name, variable in (
        ("ssh_password", spec.ssh.password_env),
        ("become_password", spec.ssh.become_password_env),
    ):
        if values[field_name] is not None or not variable:
            continue
        values[field_name] = os.environ.get(variable) or None
        if values[field_name] is None:
            warnings.append(
                f"{variable} is not set: phases that need the {field_name.replace('_', ' ')} will fail."
            )
    secrets = Secrets(
        ssh_password=values["ssh_password"],
        become_password=values["become_password"],
        per_host_password=dict(typed.per_host_password),
    )
    return secrets, warnings
