"""Every wait in the wizard shows a clock: a spinner, the time waited and the limit, the limit
being the deadline the HTTP layer really gives the step (Tokens and Discovery here; Consent,
Connect and Heartbeat have their own tests)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
from textual.pilot import Pilot

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.docusign.consent import ConsentRequest
from clmwizard.docusign.discovery import parse_userinfo
from clmwizard.docusign.oauth import TokenSet
from clmwizard.http import DOCUSIGN_TIMEOUT
from clmwizard.screens.discovery import DiscoveryScreen
from clmwizard.screens.tokens import TokensScreen
from tests.support.answers import account_answer
from tests.support.pilot import plain_screen, until
from tests.support.snapshot_world import HOSTS, KEY, NOW, SECRET, USERINFO

SIZE = (100, 32)
# The DocuSign client's timeouts (20 s to connect, 20 s to read): 40 s a request. The token
# request is sent at most twice, without a wait; a GET four times, up to 10 s apart.
TOKEN_LIMIT = "1:20"
GET_LIMIT = "3:10"


def gated_docusign(world: WizardContext, gates: dict[str, asyncio.Event]) -> None:
    """DocuSign through an httpx.MockTransport, each path held until its gate is set; the
    client has the app's own timeouts."""

    async def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for suffix, gate in gates.items():
            if path.endswith(suffix):
                await gate.wait()
        if path == "/oauth/token":
            tokens = {"access_token": "access-token-fake", "refresh_token": "refresh-token-fake"}
            return httpx.Response(200, json={**tokens, "expires_in": 28800})
        if path == "/oauth/userinfo":
            return httpx.Response(200, json=USERINFO)
        if path.endswith("/account"):
            return account_answer(HOSTS)
        if path.endswith("/attributegroups"):
            return httpx.Response(200, json={"Items": [], "Total": 12})
        return httpx.Response(404)

    def client_factory(**options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.MockTransport(answer), timeout=httpx.Timeout(DOCUSIGN_TIMEOUT)
        )

    world.client_factory = client_factory


def gated_app(world: WizardContext, *paths: str) -> tuple[ClmWizardApp, dict[str, asyncio.Event]]:
    """The wizard against `gated_docusign`, a gate for each of `paths`, and the gates."""
    gates = {path: asyncio.Event() for path in paths}
    gated_docusign(world, gates)
    return ClmWizardApp(world), gates


async def shows_clock(pilot: Pilot[None], what: str, limit: str) -> None:
    clock = re.compile(rf"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] {re.escape(what)}\s+0:0\d of {limit}")
    await until(pilot, lambda: clock.search(plain_screen(pilot.app)))


async def test_the_tokens_waits_show_their_clock(world: WizardContext) -> None:
    app, gates = gated_app(world, "/oauth/token", "/oauth/userinfo")
    async with app.run_test(size=SIZE) as pilot:
        draft = app.start_draft(name="acme")
        draft.integration_key, draft.secret_key = KEY, SECRET
        draft.consent = ConsentRequest("https://example.invalid", "state", None, draft.redirect_uri)
        await app.push_screen(TokensScreen("code-fake"))
        await shows_clock(pilot, "Exchanging the code for tokens…", TOKEN_LIMIT)
        gates["/oauth/token"].set()
        await shows_clock(pilot, "Reading who signed in…", GET_LIMIT)
        gates["/oauth/userinfo"].set()
        screen = app.screen
        assert isinstance(screen, TokensScreen)
        await until(pilot, lambda: screen.done)
        text = plain_screen(app)
        assert "Tokens received" in text and "Signed in as Alex Morgan" in text
        assert " of " not in text  # the clocks are gone with the waits


async def test_the_discovery_waits_show_their_clock(world: WizardContext) -> None:
    app, gates = gated_app(world, "/account", "/attributegroups")
    async with app.run_test(size=SIZE) as pilot:
        draft = app.start_draft(name="acme")
        draft.integration_key, draft.secret_key = KEY, SECRET
        draft.tokens = TokenSet("access-token-fake", "refresh-token-fake", 28800, NOW)
        draft.userinfo = parse_userinfo(USERINFO, "https://account-d.docusign.com")
        await app.push_screen(DiscoveryScreen())
        await shows_clock(pilot, "Finding the CLM hosts…", GET_LIMIT)
        gates["/account"].set()
        await shows_clock(
            pilot, "Asking CLM for its attribute groups with the new token…", GET_LIMIT
        )
        gates["/attributegroups"].set()
        await until(pilot, lambda: "12 attribute groups" in plain_screen(app))
        assert "of 3:10" not in plain_screen(app)
