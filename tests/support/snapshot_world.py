"""A fixed DocuSign world for the wizard's pictures and choice tests: one user with two accounts,
fixed keys, hosts and clock (`signed_in` profiles), and DocuSign's answers through an
httpx.MockTransport in the context's client factory (`fake_network`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.screen import Screen

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.docusign.discovery import Account
from clmwizard.store.profile import ClmHosts, Profile
from tests.support.answers import account_answer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KEY = "3f6c0e1a-58d2-4c1e-9b2d-0a1b2c3d4e5f"
SECRET = "b7c1d2e3-aaaa-4bbb-8ccc-0123456789ab"
ACCOUNT = Account(
    "9a217f4f-d7c0-4a89-9f9c-3e2d6442bd14", "Northwind Traders", True, "https://demo.docusign.net"
)
OTHER = Account(
    "1c5e0b8a-2f4d-4e6a-9b3c-7d8e9f0a1b2c", "Northwind Sandbox", False, "https://demo.docusign.net"
)
HOSTS = ClmHosts(
    "https://apiuatna11.springcm.com/",
    "https://apiuploaduatna11.springcm.com/",
    "https://apidownloaduatna11.springcm.com/",
)
REDIRECT_PORT = 47655
USERINFO = {
    "sub": "5d0c9c3e-1111-4222-8333-444455556666",
    "name": "Alex Morgan",
    "email": "alex.morgan@example.com",
    "accounts": [
        {
            "account_id": account.account_id,
            "account_name": account.account_name,
            "is_default": account.is_default,
            "base_uri": account.base_uri,
        }
        for account in (OTHER, ACCOUNT)
    ],
}


def signed_in(name: str, expires_in: timedelta) -> Profile:
    return Profile(
        name=name,
        environment="demo",
        auth_server="https://account-d.docusign.com",
        clm_auth_server="https://authuat.springcm.com",
        integration_key=KEY,
        scopes=["signature", "spring_read", "spring_write", "extended"],
        redirect_uri=f"http://127.0.0.1:{REDIRECT_PORT}/callback",
        user_id="5d0c9c3e-1111-4222-8333-444455556666",
        user_email="alex.morgan@example.com",
        user_name="Alex Morgan",
        account_id=ACCOUNT.account_id,
        account_name=ACCOUNT.account_name,
        esign_base_uri=ACCOUNT.base_uri,
        clm_hosts=HOSTS,
        refresh_token_expires_at=NOW + expires_in,
        consented_at=NOW - timedelta(days=2),
    )


def fake_network(world: WizardContext, *, exchange_error: dict[str, str] | None = None) -> None:
    """DocuSign's answers through an httpx.MockTransport in the context's client factory."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            if exchange_error:
                return httpx.Response(400, json=exchange_error)
            tokens = {"access_token": "access-token-fake", "refresh_token": "refresh-token-fake"}
            return httpx.Response(200, json={**tokens, "expires_in": 28800})
        if request.url.path == "/oauth/userinfo":
            return httpx.Response(200, json=USERINFO)
        if request.url.path.endswith("/account"):
            return account_answer(HOSTS)
        if request.url.path.endswith("/attributegroups"):  # the one CLM call after discovery
            return httpx.Response(200, json={"Items": [], "Total": 12})
        return httpx.Response(404)

    def client_factory(**options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(answer))

    world.client_factory = client_factory


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_signed_in(pilot: Pilot[None], screen: Screen[None], profile: Profile) -> None:
    """Open `screen` for a saved profile as the start screen would, then press nothing yet."""
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, ClmWizardApp)
    app.start_draft(profile)
    await app.push_screen(screen)
    await settle(pilot)
