"""GET /oauth/auth and the consent page, as a browser meets them."""

from __future__ import annotations

import httpx
import pytest

from clmwizard.emulator import Emulator
from tests.emulator.flows import auth_params, get_code, query_of, transaction_of


def authorize(emu: Emulator, client: httpx.Client, **params: str) -> httpx.Response:
    return client.get(f"{emu.auth_server}/oauth/auth", params=params)


def decide(
    emu: Emulator, client: httpx.Client, decision: str, page: httpx.Response | None = None
) -> httpx.Response:
    """The consent page's form (`page`, or a fresh one) sent with `decision` (accept, decline,
    or anything else)."""
    if page is None:
        page = authorize(emu, client, **auth_params(emu))
    return client.post(
        f"{emu.auth_server}/oauth/consent",
        data={"transaction_id": transaction_of(page.text), "decision": decision},
    )


def test_first_visit_shows_consent_page_with_form_and_plain_scopes(
    emu: Emulator, client: httpx.Client
) -> None:
    response = authorize(emu, client, **auth_params(emu, "signature spring_read"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<form method="post" action="/oauth/consent">' in page
    assert 'name="decision" value="accept"' in page
    assert 'name="decision" value="decline"' in page
    assert "clmwizard DocuSign emulator" in page
    assert "CLM Power Automate Connector" in page
    assert "Read your CLM documents, folders, attributes and workflows" in page
    assert "Send and manage envelopes with the eSignature API" in page
    assert emu.user_email in page
    assert emu.secret_key not in page


def test_accept_redirects_with_code_and_untouched_state(
    emu: Emulator, client: httpx.Client
) -> None:
    page = authorize(emu, client, **auth_params(emu, state="a b/c+d=é"))
    response = decide(emu, client, "accept", page)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1:8765/callback?")
    query = query_of(location)
    assert query["state"] == "a b/c+d=é"
    assert len(query["code"]) > 100
    assert query["code"] in emu.issued_secrets()


def test_decline_redirects_with_access_denied_and_no_code(
    emu: Emulator, client: httpx.Client
) -> None:
    response = decide(emu, client, "decline")
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["error"] == "access_denied"
    assert query["error_description"]
    assert query["state"] == "st-123"
    assert "code" not in query
    # Declining stores no consent: the page shows again.
    assert authorize(emu, client, **auth_params(emu)).status_code == 200


def test_state_is_left_out_when_not_sent(emu: Emulator, client: httpx.Client) -> None:
    params = auth_params(emu)
    del params["state"]
    page = authorize(emu, client, **params)
    response = decide(emu, client, "accept", page)
    assert set(query_of(response.headers["location"])) == {"code"}


def test_consent_is_remembered_for_the_same_or_fewer_scopes(
    emu: Emulator, client: httpx.Client
) -> None:
    get_code(emu, client, "signature spring_read spring_write")
    again = authorize(emu, client, **auth_params(emu, "spring_read signature"))
    assert again.status_code == 302
    assert "code" in query_of(again.headers["location"])
    more = authorize(emu, client, **auth_params(emu, "spring_read extended"))
    assert more.status_code == 200
    assert "Keep access without signing in again" in more.text


def test_prompt_login_always_shows_the_page(emu: Emulator, client: httpx.Client) -> None:
    get_code(emu, client)
    response = authorize(emu, client, **auth_params(emu, prompt="login"))
    assert response.status_code == 200
    assert 'action="/oauth/consent"' in response.text


def test_auto_consent_redirects_at_once_except_with_prompt_login(client: httpx.Client) -> None:
    with Emulator(auto_consent=True) as emu:
        response = authorize(emu, client, **auth_params(emu))
        assert response.status_code == 302
        assert query_of(response.headers["location"])["state"] == "st-123"
        assert authorize(emu, client, **auth_params(emu, prompt="login")).status_code == 200


def test_transaction_is_single_use(emu: Emulator, client: httpx.Client) -> None:
    page = authorize(emu, client, **auth_params(emu))
    form = {"transaction_id": transaction_of(page.text), "decision": "accept"}
    assert client.post(f"{emu.auth_server}/oauth/consent", data=form).status_code == 302
    second = client.post(f"{emu.auth_server}/oauth/consent", data=form)
    assert second.status_code == 400
    assert "expired or was already answered" in second.text
    assert "location" not in second.headers


def test_consent_page_expires_on_the_emulator_clock(emu: Emulator, client: httpx.Client) -> None:
    page = authorize(emu, client, **auth_params(emu))
    emu.advance_clock(901)
    response = decide(emu, client, "accept", page)
    assert response.status_code == 400


def test_consent_post_without_a_decision_is_an_error_page(
    emu: Emulator, client: httpx.Client
) -> None:
    response = decide(emu, client, "maybe")
    assert response.status_code == 400
    assert "Choose Accept or Decline." in response.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"response_type": "token"},
            "Invalid authentication request: The response type is not supported.",
        ),
        (
            {"response_type": ""},
            "Invalid authentication request: The response type is not supported.",
        ),
        (
            {"client_id": "00000000-0000-0000-0000-000000000000"},
            "The client id is not registered with DocuSign.",
        ),
        (
            {"redirect_uri": "http://127.0.0.1:8765/callback/"},
            "The redirect URI is not registered properly with DocuSign",
        ),
        (
            {"redirect_uri": "http://localhost:8765/callback"},
            "The redirect URI is not registered properly with DocuSign",
        ),
        ({"redirect_uri": ""}, "The redirect URI is not registered properly with DocuSign"),
        ({"scope": "signature spring_reed"}, "The scope is not valid: spring_reed"),
        ({"scope": ""}, "No scope was requested."),
        (
            {"code_challenge": "abc", "code_challenge_method": "S512"},
            "The code challenge method is not supported",
        ),
        ({"code_challenge_method": "S256"}, "code_challenge_method without code_challenge"),
    ],
)
def test_bad_requests_get_an_html_error_page_and_no_redirect(
    emu: Emulator, client: httpx.Client, change: dict[str, str], message: str
) -> None:
    response = authorize(emu, client, **{**auth_params(emu), **change})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers
    assert message in response.text


def test_every_catalogue_scope_is_accepted(emu: Emulator, client: httpx.Client) -> None:
    scopes = (
        "signature extended impersonation spring_read spring_write content organization_read "
        "user_read user_write group_read permission_read account_read domain_read "
        "identity_provider_read click.manage click.send openid cors dtr.rooms.read "
        "dtr.rooms.write dtr.documents.read dtr.documents.write dtr.profile.read "
        "dtr.profile.write dtr.company.read dtr.company.write room_forms account_product_read"
    )
    response = authorize(emu, client, **auth_params(emu, scopes))
    assert response.status_code == 200
    assert response.text.count("<li>") == 28


def test_no_redirect_uris_registered(emu: Emulator, client: httpx.Client) -> None:
    params = auth_params(emu)
    emu.clear_redirect_uris()
    assert emu.redirect_uris == []
    response = authorize(emu, client, **params)
    assert response.status_code == 400
    assert "There are no redirect URIs registered with DocuSign" in response.text


def test_extra_redirect_uris_from_the_constructor_and_at_run_time(client: httpx.Client) -> None:
    extra = "https://global.consent.azure-apim.net/redirect"
    with Emulator(redirect_uris=[extra], auto_consent=True) as emu:
        assert emu.redirect_uris == ["http://127.0.0.1:8765/callback", extra]
        ok = authorize(emu, client, **auth_params(emu, redirect_uri=extra))
        assert ok.headers["location"].startswith(extra + "?code=")
        later = "http://127.0.0.1:9999/cb?x=1"
        assert authorize(emu, client, **auth_params(emu, redirect_uri=later)).status_code == 400
        emu.register_redirect_uri(later)
        response = authorize(emu, client, **auth_params(emu, redirect_uri=later))
        assert response.headers["location"].startswith(later + "&code=")


def test_unknown_paths_and_methods(emu: Emulator, client: httpx.Client) -> None:
    assert client.get(f"{emu.auth_server}/oauth/nothing").status_code == 404
    assert client.post(f"{emu.auth_server}/oauth/userinfo").status_code == 405


def test_unconfirmed_parts_of_the_error_page_are_switchable(
    emu: Emulator, client: httpx.Client
) -> None:
    """DocuSign's wording for an unknown key and its error pages' status are unconfirmed."""
    emu.configure_app(unknown_client_message="Some other words.", error_page_status=200)
    wrong_key = {**auth_params(emu), "client_id": "00000000-0000-0000-0000-000000000000"}
    response = authorize(emu, client, **wrong_key)
    assert response.status_code == 200
    assert "Some other words." in response.text
    assert "not registered" not in response.text
    unregistered = {**auth_params(emu), "redirect_uri": "http://127.0.0.1:1/elsewhere"}
    response = authorize(emu, client, **unregistered)
    assert response.status_code == 200
    assert "The redirect URI is not registered properly with DocuSign" in response.text
    with pytest.raises(ValueError):
        emu.configure_app(error_page_status=302)
