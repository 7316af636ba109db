"""The application's side of the OAuth dance, written by hand against DocuSign's documentation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx

from clmwizard.emulator import Emulator

ALL_CLM = "signature spring_read spring_write extended"


def auth_params(emu: Emulator, scope: str = ALL_CLM, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "scope": scope,
        "client_id": emu.integration_key,
        "redirect_uri": emu.redirect_uris[0],
        "state": "st-123",
    }
    params.update(extra)
    return params


def transaction_of(page: str) -> str:
    match = re.search(r'<input type="hidden" name="transaction_id" value="([^"]+)">', page)
    assert match, "no transaction id on the consent page"
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(emu: Emulator, client: httpx.Client, scope: str = ALL_CLM, **extra: str) -> str:
    """Walk /oauth/auth (and the consent page if shown, pressing Accept); return the code."""
    response = client.get(f"{emu.auth_server}/oauth/auth", params=auth_params(emu, scope, **extra))
    if response.status_code == 200:
        response = client.post(
            f"{emu.auth_server}/oauth/consent",
            data={"transaction_id": transaction_of(response.text), "decision": "accept"},
        )
    assert response.status_code == 302, response.text
    return query_of(response.headers["location"])["code"]


def exchange(
    emu: Emulator, client: httpx.Client, data: dict[str, str], secret: str | None = None
) -> httpx.Response:
    return client.post(
        f"{emu.auth_server}/oauth/token",
        data=data,
        auth=(emu.integration_key, secret or emu.secret_key),
    )


def tokens(emu: Emulator, client: httpx.Client, scope: str = ALL_CLM) -> dict[str, object]:
    code = get_code(emu, client, scope)
    response = exchange(emu, client, {"grant_type": "authorization_code", "code": code})
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Listener:
    """A loopback redirect listener standing in for the application's callback."""

    uri: str
    paths: list[str] = field(default_factory=list)
