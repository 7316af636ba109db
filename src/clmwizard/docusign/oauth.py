"""The token endpoint: code exchange and refresh, with DocuSign's errors in plain words."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from clmwizard.docusign.environments import Environment
from clmwizard.docusign.errors import CodeFacts, Grant, token_error
from clmwizard.errors import NetworkError
from clmwizard.http import (
    error_json,
    host_of,
    json_body,
    malformed_error,
    send_once_connected,
    transport_error,
)
from clmwizard.redact import register_secret

LOST_REFRESH = (
    "If DocuSign received the refresh before its answer was lost, it has used up the stored "
    "refresh token and the next try reports a dead grant: then consent again with "
    "`clmwizard login`."
)


DEFAULT_ACCESS_LIFETIME = 28800  # DocuSign's access tokens live 8 hours
MAX_ACCESS_LIFETIME = 86400  # a longer claim is not believed (1e12 overflowed the expiry date)
MIN_ACCESS_LIFETIME = 60
MAX_TOKEN_LENGTH = 16 * 1024  # DocuSign's tokens are about 1 to 2 kB


def access_lifetime(value: Any) -> int:
    """`expires_in` of a token answer, in seconds, kept within what DocuSign can mean.

    Missing, not an integer (a bool, a fraction, text that is not digits): DocuSign's 8 hours.
    Below a minute or above a day: clamped. The tokens themselves stay good; only the expiry
    clmwizard shows and plans the next refresh by depends on it.
    """
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):
        value = int(value.strip())  # ASCII digits only: "²" and "٣" are digits to str.isdigit
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return DEFAULT_ACCESS_LIFETIME
    return min(max(value, MIN_ACCESS_LIFETIME), MAX_ACCESS_LIFETIME)


TOKEN_ATTEMPTS = 2  # a token request is sent again only when its connection never opened
CODE_USED = (
    "The code may already have been used and works only once: sign in again "
    "(clmwizard does not resend it)."
)


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    obtained_at: datetime

    @property
    def access_expires_at(self) -> datetime:
        return self.obtained_at + timedelta(seconds=self.expires_in)

    def __repr__(self) -> str:  # keep tokens out of reprs and tracebacks
        return f"TokenSet(expires_in={self.expires_in}, obtained_at={self.obtained_at!r})"


def _token_set(payload: Any, url: str, status: int, *, previous_refresh: str | None) -> TokenSet:
    if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
        raise malformed_error(url, status)
    refresh = payload.get("refresh_token") or previous_refresh
    if not isinstance(refresh, str) or not refresh:
        raise malformed_error(url, status)
    access = payload["access_token"]
    if not 0 < len(access) <= MAX_TOKEN_LENGTH or len(refresh) > MAX_TOKEN_LENGTH:
        raise malformed_error(url, status)
    expires_in = access_lifetime(payload.get("expires_in"))
    register_secret(payload["access_token"])
    register_secret(refresh)
    return TokenSet(payload["access_token"], refresh, expires_in, datetime.now(UTC))


async def _post_token(
    client: httpx.AsyncClient,
    env: Environment,
    integration_key: str,
    secret_key: str,
    form: dict[str, str],
    *,
    grant: Grant,
    previous_refresh: str | None = None,
    code: CodeFacts | None = None,
) -> TokenSet:
    """POST the form once; a failed connection (nothing sent) is retried once, nothing else."""
    url = env.token_url
    try:
        response = await send_once_connected(
            client,
            "POST",
            url,
            attempts=TOKEN_ATTEMPTS,
            data=form,
            auth=(integration_key, secret_key),
            headers={"Accept": "application/json"},
        )
    except httpx.ConnectError as error:
        raise transport_error(error, url) from None
    except httpx.TransportError as error:
        raise _sent_error(error, url, grant) from None
    except NetworkError as error:  # the answer was too large or does not decompress
        if grant == "refresh_token":
            error.fix = f"{error.fix} {LOST_REFRESH}"
        else:
            error.fix = CODE_USED
        raise
    if response.status_code == 200:
        try:
            return _token_set(
                json_body(response), url, response.status_code, previous_refresh=previous_refresh
            )
        except NetworkError as error:
            if grant == "refresh_token":  # a 200 means DocuSign did refresh: the answer is lost
                error.fix = f"{error.fix} {LOST_REFRESH}"
            raise
    body = error_json(response)
    raise token_error(
        response.status_code, body, grant=grant, env=env, host=host_of(url), code=code
    )


def _sent_error(error: httpx.TransportError, url: str, grant: Grant) -> Exception:
    network = transport_error(error, url, sent=True)
    if grant == "authorization_code":
        network.fix = CODE_USED
    else:
        network.fix = f"Try again in a minute. {LOST_REFRESH}"
    return network


async def exchange_code(
    client: httpx.AsyncClient,
    env: Environment,
    integration_key: str,
    secret_key: str,
    code: str,
    code_verifier: str | None,
    *,
    received_at: float | None = None,
) -> TokenSet:
    """Trade the single-use authorization code for tokens. Never resent once sent.

    `received_at` is `time.monotonic()` when the code arrived (by default what the loopback
    listener noted); with it a refusal can say whether an expired code or a wrong secret key is
    the likelier cause.
    """
    from clmwizard.docusign import codes

    form = {"grant_type": "authorization_code", "code": code}
    if code_verifier:
        form["code_verifier"] = code_verifier
    sent_before = codes.note_sent(code)
    if received_at is None:
        received_at = codes.received_at(code)
    facts = CodeFacts(
        age=None if received_at is None else max(0.0, time.monotonic() - received_at),
        sent_before=sent_before,
    )
    return await _post_token(
        client, env, integration_key, secret_key, form, grant="authorization_code", code=facts
    )


async def refresh_grant(
    client: httpx.AsyncClient,
    env: Environment,
    integration_key: str,
    secret_key: str,
    refresh_token: str,
) -> TokenSet:
    """New tokens from a refresh token; a dead grant raises GrantDeadError."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await _post_token(
        client,
        env,
        integration_key,
        secret_key,
        form,
        grant="refresh_token",
        previous_refresh=refresh_token,
    )
