"""Does DocuSign accept a connector's redirect URL? Asked of the DocuSign emulator over real
sockets (registered / not registered), and of an unknown answer (could not tell)."""

from __future__ import annotations

import dataclasses

import httpx

from clmwizard.emulator import Emulator
from clmwizard.powerplatform.redirect import check_redirect_url
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


async def test_a_registered_redirect_url_gets_the_sign_in_page(emu: Emulator) -> None:
    emu.register_redirect_uri(REDIRECT)
    profile = profile_for(emu)
    async with httpx.AsyncClient() as client:
        check = await check_redirect_url(client, profile, REDIRECT)
    assert check.verdict == "registered", check.said
    assert any("/oauth/auth" in " ".join(entry) for entry in emu.request_log)


async def test_a_registered_redirect_url_with_consent_given_is_a_redirect() -> None:
    with Emulator(auto_consent=True, redirect_uris=[REDIRECT]) as emu:
        profile = profile_for(emu)
        async with httpx.AsyncClient() as client:
            check = await check_redirect_url(client, profile, REDIRECT)
    assert check.verdict == "registered" and "HTTP 302" in check.said


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
