"""Helpers shared by the DocuSign core tests and the sign-in command tests."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from clmwizard.docusign.environments import Environment, resolve_environment
from clmwizard.emulator import Emulator
from tests.support.ports import free_port


def loopback_redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


def environment(emu: Emulator) -> Environment:
    return resolve_environment("demo", emu.auth_server, emu.clm_auth_server)


def redirect_location(consent_url: str, decision: str = "accept") -> str:
    """What the browser would be sent to, without delivering it (the paste fallback).

    Opens the consent page, answers it, and returns the redirect's Location.
    """
    with httpx.Client(follow_redirects=False, timeout=5.0) as client:
        page = client.get(consent_url)
        if page.status_code in (302, 303):
            return page.headers["location"]
        assert page.status_code == 200, page.text
        transaction = page.text.split('name="transaction_id" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            str(page.url.join("/oauth/consent")),
            data={"transaction_id": transaction, "decision": decision},
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


def query(url: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}
