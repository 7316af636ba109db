"""The requests DocuSign's own Python SDK (docusign-esign) sends, rebuilt by hand.

`ApiClient.get_authorization_uri` formats the URL itself: only the scopes are percent-quoted,
the redirect URI goes in raw, no PKCE. `generate_access_token` posts a form body with a Basic
header built from "key:secret" and no redirect_uri; `get_user_info` sends the Bearer token.
The SDK always speaks https; here the scheme is the emulator's http, nothing else differs.
For JWT Grant the SDK itself runs (`request_jwt_user_token`), with only its scheme swapped.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from urllib.parse import quote, urlencode, urlsplit

from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import follow_consent
from tests.emulator.flows import Listener, query_of


def sdk_authorization_uri(
    host: str, client_id: str, scopes: list[str], redirect_uri: str, state: str
) -> str:
    uri = "http://{}/oauth/auth?response_type={}&scope={}&client_id={}&redirect_uri={}&state={}"
    return uri.format(
        host, "code", quote(" ".join(scopes), safe=""), client_id, redirect_uri, state
    )


def sdk_post_form(url: str, headers: dict[str, str], params: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, data=urlencode(params).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


def test_docusign_sdk_style_consent_exchange_and_userinfo(listener: Listener) -> None:
    with Emulator(redirect_uris=[listener.uri]) as emu:
        host = urlsplit(emu.auth_server).netloc
        url = sdk_authorization_uri(
            host,
            emu.integration_key,
            ["signature", "spring_read", "spring_write", "extended"],
            listener.uri,
            "sdk-state",
        )
        assert "redirect_uri=http://127.0.0.1:" in url  # raw, as the SDK sends it
        follow_consent(url)
        query = query_of(listener.paths[0])
        assert query["state"] == "sdk-state"

        basic = base64.b64encode(f"{emu.integration_key}:{emu.secret_key}".encode()).decode()
        token = sdk_post_form(
            f"http://{host}/oauth/token",
            {
                "Authorization": "Basic " + basic,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            {"grant_type": "authorization_code", "code": query["code"]},
        )
        assert token["token_type"] == "Bearer"
        assert token["expires_in"] == 28800

        request = urllib.request.Request(
            f"http://{host}/oauth/userinfo",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            info = json.loads(response.read())
        assert info["sub"] == emu.user_id
        assert info["accounts"][0]["account_id"] == emu.account_id


def test_docusign_sdk_request_jwt_user_token_against_the_emulator() -> None:
    """DocuSign's own SDK, unchanged except for the scheme: it signs with its own PyJWT call,
    posts the form it always posts, and parses the answer into its own OAuthToken."""
    from docusign_esign import ApiClient

    class PlainHttpApiClient(ApiClient):  # type: ignore[misc]
        def request(self, method: str, url: str, *args: object, **kwargs: object) -> object:
            return super().request(method, url.replace("https://", "http://", 1), *args, **kwargs)

    with Emulator() as emu:
        host = urlsplit(emu.auth_server).netloc
        client = PlainHttpApiClient(oauth_host_name=host)
        scopes = ["signature", "impersonation"]
        from docusign_esign.client.api_exception import ApiException

        try:
            client.request_jwt_user_token(
                emu.integration_key, emu.user_id, host, emu.jwt_private_key.encode(), 3600, scopes
            )
        except ApiException as refused:
            assert "consent_required" in str(refused)
        else:
            raise AssertionError("the SDK got a token without consent")
        emu.grant_jwt_consent(["signature"])
        token = client.request_jwt_user_token(
            emu.integration_key, emu.user_id, host, emu.jwt_private_key.encode(), 3600, scopes
        )
        assert token.token_type == "Bearer"
        assert int(token.expires_in) == 3600
        assert token.access_token in emu.issued_secrets()
        assert not token.refresh_token
