"""Asking DocuSign for the consent URL before the browser opens (against the emulator)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from clmwizard.docusign.consent import build_consent_request
from clmwizard.docusign.consent_check import check_consent_url, find_page_error
from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError
from clmwizard.http import make_client
from tests.docusign.helpers import environment

WRONG_KEY = "00000000-1111-2222-3333-444444444444"


def check(emu: Emulator, key: str, redirect_uri: str) -> ClmWizardError | None:
    env = environment(emu)
    request = build_consent_request(env, key, ["signature", "extended"], redirect_uri)

    async def run() -> ClmWizardError | None:
        async with make_client(timeout=5.0) as client:
            return await check_consent_url(client, request.url, env, key, redirect_uri)

    return asyncio.run(run())


def test_a_good_request_is_not_stopped(emu: Emulator, redirect_uri: str) -> None:
    assert check(emu, emu.integration_key, redirect_uri) is None


def test_an_already_consented_user_is_redirected_and_not_stopped(
    emu: Emulator, redirect_uri: str
) -> None:
    emu.state.auto_consent = True
    assert check(emu, emu.integration_key, redirect_uri) is None


def test_a_wrong_key_is_stopped_with_docusigns_words_and_the_fix(
    emu: Emulator, redirect_uri: str
) -> None:
    error = check(emu, WRONG_KEY, redirect_uri)
    assert error is not None
    assert error.code == "unknown_integration_key"
    assert error.field == "integration_key"
    assert "DocuSign answered" in error.what
    assert "The client id is not registered with DocuSign" in error.what
    assert WRONG_KEY in error.cause
    assert "Copy the integration key again" in error.fix
    assert "Integration key step" in error.wizard_fix


def test_an_unregistered_redirect_uri_is_stopped_naming_the_uri(emu: Emulator) -> None:
    uri = "http://127.0.0.1:1/not-registered"
    error = check(emu, emu.integration_key, uri)
    assert error is not None
    assert error.code == "redirect_uri_not_registered"
    assert "The redirect URI is not registered properly with DocuSign" in error.what
    assert uri in error.fix and uri in error.wizard_fix


def test_no_redirect_uris_at_all(emu: Emulator, redirect_uri: str) -> None:
    emu.clear_redirect_uris()
    error = check(emu, emu.integration_key, redirect_uri)
    assert error is not None and "There are no redirect URIs registered" in error.what


def test_the_page_status_does_not_matter(emu: Emulator, redirect_uri: str) -> None:
    emu.configure_app(error_page_status=200)
    error = check(emu, WRONG_KEY, redirect_uri)
    assert error is not None and error.code == "unknown_integration_key"


def test_unknown_wording_is_not_guessed_at(emu: Emulator, redirect_uri: str) -> None:
    """Only DocuSign's known phrases stop the sign-in; other words leave the wait running."""
    emu.configure_app(unknown_client_message="Something unexpected happened.")
    assert check(emu, WRONG_KEY, redirect_uri) is None


def test_an_unreachable_server_skips_the_check() -> None:
    from clmwizard.docusign.environments import resolve_environment
    from tests.support.ports import free_port

    env = resolve_environment("demo", f"http://127.0.0.1:{free_port()}", None)
    request = build_consent_request(env, WRONG_KEY, ["signature"], "http://127.0.0.1:1/cb")

    async def run() -> ClmWizardError | None:
        async with make_client(timeout=2.0) as client:
            return await check_consent_url(client, request.url, env, WRONG_KEY, "x")

    assert asyncio.run(run()) is None


@pytest.mark.parametrize(
    "page",
    [
        "<p>The client id is not registered with DocuSign.\x1b]52;c;aGk=\x07</p>",
        "<script>var s='client id is not registered';</script><p>Sign in</p>",
    ],
)
def test_the_page_is_read_as_text(page: str) -> None:
    found = find_page_error(page)
    if "<script>" in page:
        assert found is None  # a script is not DocuSign's message
    else:
        assert found is not None and found[0].kind == "unknown_key"


def test_a_hostile_page_is_quoted_safely() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        sentence = "The client id is not registered \x1b[2J" + "x" * 5000
        return httpx.Response(200, html=f"<p>{sentence}</p>")

    from clmwizard.docusign.environments import DEMO

    async def run() -> ClmWizardError | None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await check_consent_url(client, "https://x/oauth/auth", DEMO, WRONG_KEY, "u")

    error = asyncio.run(run())
    assert error is not None
    assert "\x1b" not in error.what and len(error.what) < 300


def test_a_wrong_key_names_the_other_environment() -> None:
    from clmwizard.docusign.consent_check import page_refusal
    from clmwizard.docusign.environments import DEMO, PRODUCTION

    sentence = "The client id is not registered with DocuSign."
    assert "--environment production" in page_refusal("unknown_key", sentence, DEMO, "k", "u").fix
    assert "--environment demo" in page_refusal("unknown_key", sentence, PRODUCTION, "k", "u").fix


def test_the_check_asks_for_the_sign_in_page_so_no_code_is_minted() -> None:
    from urllib.parse import parse_qs, urlsplit

    from clmwizard.docusign.consent_check import _asking_sign_in

    url = "https://account-d.docusign.com/oauth/auth?client_id=k&prompt=none&state=s%20t"
    query = parse_qs(urlsplit(_asking_sign_in(url)).query)
    assert query == {"client_id": ["k"], "state": ["s t"], "prompt": ["login"]}
