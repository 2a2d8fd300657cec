"""The environment of kwizard's child processes (ansible-inventory, git, pip): what they need, no secret.

A password given through an environment variable (ssh.password_env, ssh.become_password_env) is in
kwizard's own environment; a child started with `os.environ` inherits it, and anything that dumps its
environment (a crash report, `/proc/<pid>/environ`, ansible-runner's artifacts) then holds it. So children
get an allowlist: locale, paths, proxies and CA bundles, ssh-agent, and the tools' own settings
(`ANSIBLE_*`, `GIT_*`, `PIP_*`), minus any variable named like a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

_ALLOWED = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "TZ", "TMPDIR", "LANG", "LANGUAGE",
        "SSH_AUTH_SOCK", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
        "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    }
)  # fmt: skip
_ALLOWED_PREFIXES = ("LC_", "ANSIBLE_", "GIT_", "PIP_", "XDG_")
# ANSIBLE_PRIVATE_KEY_FILE is a path, not a key; everything else named like this is kept from children.
_SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY", re.IGNORECASE)
# Named like secrets, but a path and a socket: the key file's path and the agent hold no secret themselves.
_NAMED_LIKE_SECRETS_BUT_NOT = frozenset({"ANSIBLE_PRIVATE_KEY_FILE", "SSH_AUTH_SOCK"})


def holds_secret(key: str, value: str, named: Iterable[str] = (), secrets: Iterable[str] = ()) -> bool:
    """Whether an environment variable must not reach a child: named in the preset (ssh.password_env…),
    named like a secret, or holding one of the `secrets` in its value."""
    if key in set(named) or any(s and s in value for s in secrets):
        return True
    return _SECRET_NAME.search(key) is not None and key not in _NAMED_LIKE_SECRETS_BUT_NOT


def child_environment(
    extra: Mapping[str, str] | None = None,
    *,
    named: Iterable[str] = (),
    secrets: Iterable[str] = (),
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The allowed part of `base` (default: this process's environment) plus `extra`, without the
    variables in `named`, those named like a secret, and any whose value holds one of `secrets`."""
    source = os.environ if base is None else base
    refused = set(named)
    values = [s for s in secrets if s]
    env: dict[str, str] = {}
    for key, value in {**source, **(extra or {})}.items():
        allowed = key in _ALLOWED or key.startswith(_ALLOWED_PREFIXES) or (extra is not None and key in extra)
        if allowed and not holds_secret(key, value, refused, values):
            env[key] = value
    return env
