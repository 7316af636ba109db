"""Secrets handed in through the environment, and environments for the programs we start.

Every secret variable — `CLMWIZARD_SECRET_KEY`, `CLMWIZARD_MS_CLIENT_SECRET`, any other
`CLMWIZARD_*SECRET*`, and the Microsoft / Azure tooling's (`AZURE_CLIENT_SECRET`, …) — leaves
`os.environ` the moment the CLI starts (`take_from_environment`), for the whole process: the
browser, xclip and every other child inherit `os.environ`, and must not inherit a secret. The
code that needs one reads it with `lookup`. `child_environment()` is what a child we start
ourselves gets: without any secret variable, whatever was set since.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PREFIX = "CLMWIZARD_"
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
    if upper.startswith(PREFIX) and "SECRET" in upper:
        return True
    return upper.startswith(SECRET_PREFIX) or upper in MICROSOFT_SECRETS


def take_from_environment() -> None:
    """Move every secret variable out of os.environ into this module (once per CLI run: what
    was taken by an earlier run in the same process is forgotten)."""
    _taken.clear()
    for name in [name for name in os.environ if is_secret_variable(name)]:
        value = os.environ.pop(name)
        if value:
            _taken[name] = value


def lookup(name: str) -> str | None:
    """A secret variable's value: taken at start, or (outside the CLI: tests, the library)
    still in the environment."""
    return _taken.get(name) or os.environ.get(name) or None


def taken() -> Mapping[str, str]:
    """The secret variables this run took out of the environment."""
    return dict(_taken)


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default os.environ) without any secret variable."""
    source = os.environ if base is None else base
    return {name: value for name, value in source.items() if not is_secret_variable(name)}
