"""Secrets handed in through the environment, and environments for the programs we start.

`CLMWIZARD_SECRET_KEY` (and any `CLMWIZARD_SECRET*`) leaves `os.environ` the moment the CLI
starts (`take_from_environment`), for the whole process: the browser, xclip and every other child
inherit `os.environ`, and must not inherit a secret. `child_environment()` is what a child we start
ourselves gets: also without Microsoft / Azure secret variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SECRET_PREFIX = "CLMWIZARD_SECRET"
# Variables of Microsoft tooling (azure-identity, MSAL apps, pac) that hold a secret.
MICROSOFT_SECRETS = frozenset(
    {
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_PASSWORD",
        "MSAL_CLIENT_SECRET",
        "PAC_CLIENT_SECRET",
        "ARM_CLIENT_SECRET",
    }
)

_taken: dict[str, str] = {}


def is_secret_variable(name: str) -> bool:
    upper = name.upper()
    return upper.startswith(SECRET_PREFIX) or upper in MICROSOFT_SECRETS


def take_from_environment() -> None:
    """Move every CLMWIZARD_SECRET* variable out of os.environ into this module (once per CLI
    run: what was taken by an earlier run in the same process is forgotten)."""
    _taken.clear()
    for name in [name for name in os.environ if name.upper().startswith(SECRET_PREFIX)]:
        value = os.environ.pop(name)
        if value:
            _taken[name] = value


def taken() -> Mapping[str, str]:
    """The secret variables this run took out of the environment."""
    return dict(_taken)


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default os.environ) without any secret variable."""
    source = os.environ if base is None else base
    return {name: value for name, value in source.items() if not is_secret_variable(name)}
