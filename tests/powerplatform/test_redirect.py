"""Is a connector's redirect URL registered? Asked of the DocuSign emulator over real sockets
and of DocuSign-like answers: only DocuSign's own error text proves anything ("NOT
registered"); a sign-in page or a redirect is "could not tell", never "registered"."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from clmwizard.emulator import Emulator
from clmwizard.powerplatform.redirect import UNKNOWN_LINE, check_redirect_url
from clmwizard.store.profile import Profile
from tests.support.store_fixtures import make_profile

REDIRECT = "https://global.consent.azure-apim.net/redirect/shared_docusign-20clm-5f1a"


def profile_for(emu: Emulator) -> Profile:
    return dataclasses.replace(
        make_profile("acme"),
        auth_server=emu.auth_server,
        integration_key=emu.integration_key,
    )


async def test_an_unregistered_redirect_url_is_reported_as_docusign_said(
    emu: Emulator,
) -> None:
    profile = profile_for(emu)
    async with httpx.AsyncClient() as client:
        check = await check_redirect_url(client, profile, REDIRECT)
    assert check.verdict == "not_registered"
    assert "not registered" in check.said and "NOT registered" in check.line


async def test_a_sign_in_page_proves_nothing(emu: Emulator) -> None:
    emu.register_redirect_uri(REDIRECT)
    profile = profile_for(emu)
    async with httpx.AsyncClient() as client:
        check = await check_redirect_url(client, profile, REDIRECT)
    assert check.verdict == "unknown", check.said
    assert check.line.startswith(UNKNOWN_LINE) and "NOT" not in check.line
    assert any("/oauth/auth" in " ".join(entry) for entry in emu.request_log)


async def test_a_signed_in_user_gets_no_code_and_proves_nothing() -> None:
    """With a remembered consent DocuSign would redirect at once with a code; the check asks
    for the sign-in page (prompt=login), so no code is ever issued to it."""
    with Emulator(auto_consent=True, redirect_uris=[REDIRECT]) as emu:
        profile = profile_for(emu)
        before = emu.issued_secrets()
        async with httpx.AsyncClient() as client:
            check = await check_redirect_url(client, profile, REDIRECT)
        assert emu.issued_secrets() == before
    assert check.verdict == "unknown" and "HTTP 200" in check.said


SIGN_IN_PAGE = (
    "<html><form><input name=email><input type=password>Sign in to DocuSign</form></html>"
)
ERROR_PAGE = (
    "<html><div class=error>The redirect URI is not registered properly with DocuSign</div>"
)


@pytest.mark.parametrize(
    ("status", "body", "headers", "verdict"),
    [
        (200, ERROR_PAGE, {}, "not_registered"),  # DocuSign's own words: the one proof
        (400, ERROR_PAGE, {}, "not_registered"),
        (200, SIGN_IN_PAGE, {}, "unknown"),  # shown for ANY redirect URI before sign-in
        (302, "", {"Location": "https://account-d.docusign.com/#/username"}, "unknown"),
        (303, "", {"Location": "https://example.com/"}, "unknown"),
    ],
)
async def test_docusign_like_answers(
    status: int, body: str, headers: dict[str, str], verdict: str
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=body, headers=headers)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        check = await check_redirect_url(client, make_profile("acme"), REDIRECT)
    assert check.verdict == verdict
    assert "registered" not in check.line.lower().replace("not registered", "")


async def test_an_answer_clmwizard_does_not_know_is_could_not_tell() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="maintenance"))
    async with httpx.AsyncClient(transport=transport) as client:
        check = await check_redirect_url(client, make_profile("acme"), REDIRECT)
    assert check.verdict == "unknown" and "HTTP 503" in check.said

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        check = await check_redirect_url(client, make_profile("acme"), REDIRECT)
    assert check.verdict == "unknown" and "no answer" in check.said
