"""The one place passwords are resolved: typed ones first, then the variables the preset names."""

from __future__ import annotations

import pytest

from kwizard.protocol.phase import Secrets
from kwizard.service.secrets import resolve_secrets
from kwizard.spec import ClusterSpec


def _spec() -> ClusterSpec:
    return ClusterSpec(name="s", ssh={"password_env": "KW_T_PW", "become_password_env": "KW_T_BECOME"})


def test_variables_fill_what_was_not_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KW_T_PW", "from-env")
    monkeypatch.delenv("KW_T_BECOME", raising=False)
    typed = Secrets(per_host_password={"h1": "own"})
    secrets, warnings = resolve_secrets(_spec(), typed)
    assert (secrets.ssh_password, secrets.become_password) == ("from-env", None)
    assert secrets.password_for("h1") == "own" and secrets is not typed
    assert warnings == ["KW_T_BECOME is not set: phases that need the become password will fail."]
    assert typed.ssh_password is None  # the typed secrets are not changed


def test_typed_passwords_win_and_silence_the_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KW_T_PW", "from-env")
    monkeypatch.delenv("KW_T_BECOME", raising=False)
    typed = Secrets(ssh_password="typed", become_password="sudo-typed")
    secrets, warnings = resolve_secrets(_spec(), typed)
    assert (secrets.ssh_password, secrets.become_password, warnings) == ("typed", "sudo-typed", [])
