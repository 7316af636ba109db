"""The Consent step's headless path, driven with Pilot against the emulator over loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from textual import events
from textual.widgets import Input

from clmwizard.app import ClmWizardApp
from clmwizard.context import WizardContext
from clmwizard.emulator import Emulator
from clmwizard.emulator.browser import follow_consent
from clmwizard.screens.consent import ConsentScreen
from clmwizard.screens.key import KeyScreen
from clmwizard.screens.tokens import TokensScreen
from clmwizard.widgets.field_message import FieldMessage
from tests.support.demo_tour import to_consent
from tests.support.pilot import make_app, tokens_done, type_burst, until, until_workers_done

SIZE = (100, 32)


def message(app: ClmWizardApp, selector: str) -> str:
    return app.screen.query_one(selector, FieldMessage).text


def browser_workers(app: ClmWizardApp) -> list[object]:
    """The workers `o` and `a` start (open the browser, approve as the demo user): a key that
    acted leaves one here, or its effect in `opened`/`approved` once it has run."""
    return [worker for worker in app.workers if worker.group == "browser"]


def redirected_address(app: ClmWizardApp) -> str:
    """What a browser elsewhere ends on: accepted, redirected, but never delivered here."""
    consent = app.draft.consent
    assert consent is not None
    return follow_consent(consent.url, "accept", deliver=False)


async def paste(pilot, app: ClmWizardApp, text: str) -> None:  # type: ignore[no-untyped-def]
    """A bracketed terminal paste, as the driver hands it to the app."""
    app.post_message(events.Paste(text))
    await pilot.pause()


@contextmanager
def squatter(redirect_uri: str) -> Iterator[socket.socket]:
    """Another program listening on the redirect URI's port."""
    port = urlsplit(redirect_uri).port
    assert port is not None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield sock


async def test_the_ssh_walkthrough_copy_follow_elsewhere_paste(
    demo_context: WizardContext,
) -> None:
    """README: press u to copy the URL, open it anywhere, paste the address you land on."""
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        await pilot.press("u")
        await until(pilot, lambda: any("Consent URL" in n.message for n in app._notifications))
        consent = app.draft.consent
        assert consent is not None
        landed = redirected_address(app)
        assert landed.startswith(app.draft.redirect_uri + "?")
        assert parse_qs(urlsplit(landed).query)["state"] == [consent.state]
        assert app.focused is None  # the field was never focused: the paste still counts
        await paste(pilot, app, landed + "\n")
        await tokens_done(pilot, app)


async def test_letter_keys_type_into_the_field_and_fire_nothing(
    demo_context: WizardContext,
) -> None:
    opened: list[str] = []
    demo_context.open_browser = lambda url: opened.append(url) is None
    approved: list[str] = []
    assert demo_context.demo is not None
    from dataclasses import replace

    demo_context.demo = replace(demo_context.demo, approve=lambda url: approved.append(url) or "")
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        await pilot.press("tab")
        field = screen.query_one("#paste", Input)
        assert app.focused is field
        await pilot.press(*"ouacrp")
        await until(pilot, lambda: field.value == "ouacrp")
        assert opened == [] and approved == [] and not browser_workers(app)
        assert isinstance(app.screen, ConsentScreen) and screen.state == "listening"
        footer_keys = {b.binding.key for b in screen.active_bindings.values() if b.enabled}
        assert not footer_keys & set("ouacrp")
        # tab leaves the field, and the letters act again
        await pilot.press("tab")
        assert app.focused is None
        await pilot.press("o")
        await until(pilot, lambda: opened == [app.draft.consent.url])  # type: ignore[union-attr]
        await pilot.press("tab", "shift+tab")
        assert app.focused is None
        await pilot.press("a")
        await until(pilot, lambda: len(approved) == 1)


async def test_an_address_typed_without_focus_goes_into_the_field(
    demo_context: WizardContext,
) -> None:
    """A terminal without bracketed paste sends a pasted address as keystrokes."""
    opened: list[str] = []
    demo_context.open_browser = lambda url: opened.append(url) is None
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        landed = redirected_address(app)
        assert app.focused is None
        await pilot.press(*landed[:10])  # key by key: the first one moves the focus to the field
        field = screen.query_one("#paste", Input)
        type_burst(pilot, landed[10:])  # the rest as a terminal sends it, all at once
        await until(pilot, lambda: field.value == landed)
        assert app.focused is field and field.value == landed
        assert opened == []
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TokensScreen))


async def test_paste_with_the_listener_down_still_reaches_tokens(
    demo_context: WizardContext,
) -> None:
    demo_context.consent_timeout = 0.3
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "failed", 5)
        assert screen.listener is None
        consent = app.draft.consent
        assert consent is not None and consent.code_verifier
        landed = redirected_address(app)
        # someone else's redirect is refused, and nothing is lost
        await paste(pilot, app, landed.replace("state=", "state=x"))
        assert "state" in message(app, "#consent-message").lower()
        assert isinstance(app.screen, ConsentScreen) and app.draft.consent is consent
        await pilot.press("tab")
        await paste(pilot, app, landed)  # into the focused field this time
        tokens = await tokens_done(pilot, app)
        assert tokens.wizard.draft.tokens is not None


async def test_bare_code_is_accepted_with_the_listener_down(
    demo_context: WizardContext,
) -> None:
    demo_context.consent_timeout = 0.3
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "failed", 5)
        code = parse_qs(urlsplit(redirected_address(app)).query)["code"][0]
        await pilot.press("tab")
        field = screen.query_one("#paste", Input)
        field.value = code
        await pilot.press("enter")
        await tokens_done(pilot, app)


async def test_port_taken_offers_another_port_registered_in_the_demo(
    demo_context: WizardContext, emu: Emulator
) -> None:
    opened: list[str] = []
    demo_context.open_browser = lambda url: opened.append(url) is None
    taken = demo_context.demo.redirect_uri  # type: ignore[union-attr]
    app = make_app(demo_context)
    with squatter(taken):
        async with app.run_test(size=SIZE) as pilot:
            screen = await to_consent(pilot, app)
            await until(pilot, lambda: screen.state == "failed", 5)
            port = screen.offered_port
            assert port is not None and port != urlsplit(taken).port
            new_uri = f"http://127.0.0.1:{port}/callback"
            text = message(app, "#redirect-message")
            assert "already in use" in text and f"press p to use port {port}" in text
            assert new_uri in text and "register" in text
            assert "--redirect-uri" not in text
            # nothing listens: o and a must not send the code to the squatter
            await pilot.press("o", "a")
            await pilot.pause()
            assert (
                opened == []
                and not browser_workers(app)
                and screen.query_one("#paste", Input).value == ""
            )
            enabled = {b.binding.key for b in screen.active_bindings.values() if b.enabled}
            assert "o" not in enabled and "a" not in enabled and "p" in enabled
            await pilot.press("p")
            await until(pilot, lambda: screen.state == "listening")
            assert app.draft.redirect_uri == new_uri
            consent = app.draft.consent
            assert consent is not None and consent.redirect_uri == new_uri
            assert parse_qs(urlsplit(consent.url).query)["redirect_uri"] == [new_uri]
            assert new_uri in emu.redirect_uris
            note = message(app, "#redirect-message")
            assert new_uri in note and "registered" in note
            assert new_uri in str(screen.query_one("#redirect-uri").render())
            await pilot.press("a")
            await tokens_done(pilot, app)


async def test_port_taken_without_the_demo_says_to_register_the_new_uri(
    demo_context: WizardContext,
) -> None:
    assert demo_context.demo is not None
    from dataclasses import replace

    demo_context.demo = replace(demo_context.demo, register_redirect_uri=None)
    app = make_app(demo_context)
    with squatter(demo_context.demo.redirect_uri):
        async with app.run_test(size=SIZE) as pilot:
            screen = await to_consent(pilot, app)
            await until(pilot, lambda: screen.state == "failed", 5)
            await pilot.press("p")
            # DocuSign does not know the new URI yet: asked before any browser, it says so
            await until(pilot, lambda: "DocuSign answered" in message(app, "#redirect-message"))
            note = message(app, "#redirect-message")
            assert "demo registered" not in note
            assert app.draft.redirect_uri in note and "Add URI" in note
            assert "c copies it" in note


async def test_restart_keeps_the_consent_request(demo_context: WizardContext) -> None:
    demo_context.consent_timeout = 0.3
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "failed", 5)
        consent = app.draft.consent
        assert "press r" in message(app, "#redirect-message")
        demo_context.consent_timeout = 30.0
        await pilot.press("r")
        await until(pilot, lambda: screen.state == "listening")
        assert app.draft.consent is consent  # a URL copied before still works


async def test_a_wrong_key_ends_the_wait_with_docusigns_message_within_a_second(
    demo_context: WizardContext,
) -> None:
    """DocuSign's page for an unknown key stops the step before any browser opens."""
    import time
    from dataclasses import replace

    opened: list[str] = []
    demo_context.open_browser = lambda url: opened.append(url) is None
    assert demo_context.demo is not None
    wrong = "00000000-1111-2222-3333-444444444444"
    demo_context.demo = replace(demo_context.demo, integration_key=wrong)
    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_consent(pilot, app)
        shown_at = time.monotonic()
        await until(pilot, lambda: screen.state == "failed", 5)
        assert time.monotonic() - shown_at < 1.0
        text = message(app, "#consent-error")
        assert "DocuSign answered" in text
        assert "The client id is not registered with DocuSign" in text
        assert wrong in text and "Integration key step" in text
        assert screen.listener is None
        await pilot.press("o")  # no browser for a request DocuSign refused
        await pilot.pause()
        assert opened == [] and not browser_workers(app)
        # at 80×24 the error is in view, at the top of the step
        error = screen.query_one("#consent-error", FieldMessage)
        assert error.region.y < 24 and error.region.height > 0
        # esc twice: the Integration key step, to fix the key
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, KeyScreen))


async def test_an_unregistered_redirect_uri_is_named_and_r_checks_again(
    demo_context: WizardContext, emu: Emulator
) -> None:
    assert demo_context.demo is not None
    from dataclasses import replace

    uri = f"http://127.0.0.1:{_free_port()}/callback"
    demo_context.demo = replace(demo_context.demo, redirect_uri=uri)
    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "failed", 5)
        text = message(app, "#redirect-message")
        assert "The redirect URI is not registered properly with DocuSign" in text
        assert uri in text and "press r" in text
        emu.register_redirect_uri(uri)  # the admin adds it in Apps and Keys
        await pilot.press("r")
        await until(pilot, lambda: screen.state == "listening")
        await until_workers_done(pilot, "check")  # DocuSign's answer on the URI is in
        assert screen.state == "listening"


async def test_the_wait_shows_its_limit_and_then_the_usual_causes(
    demo_context: WizardContext,
) -> None:
    from clmwizard.screens import consent

    app = make_app(demo_context)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        await until(pilot, lambda: "of 0:30" in str(screen.query_one("#listen-status").render()))
        status = str(screen.query_one("#listen-status").render())
        waited = status.split(" of 0:30")[0].split()[-1]  # e.g. 0:00, or 0:01 on a busy machine
        assert waited.startswith("0:0"), status
        assert str(screen.query_one("#wait-hint").render()).strip() == ""
        screen.started_at -= consent.HINT_AFTER  # as if it had waited that long
        await until(pilot, lambda: "Usual causes" in str(screen.query_one("#wait-hint").render()))
        hint = str(screen.query_one("#wait-hint").render())
        assert "Usual causes" in hint and "esc twice" in hint and "c copies" in hint


def _free_port() -> int:
    from tests.support.ports import free_port

    return free_port()


async def test_the_consent_url_has_a_line_of_its_own_at_80x24(demo_context: WizardContext) -> None:
    """Out of the bordered box and never wrapped: the URL starts its own line at the screen's
    margin and runs past the edge (it scrolls sideways), so a mouse selection takes it whole;
    u still copies it."""
    from clmwizard.widgets.url_line import UrlLine
    from tests.support.pilot import plain_screen

    app = make_app(demo_context)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_consent(pilot, app)
        await until(pilot, lambda: screen.state == "listening")
        consent = app.draft.consent
        assert consent is not None and len(consent.url) > 80
        assert screen.query_one("#consent-url", UrlLine).url == consent.url
        rows = plain_screen(app).splitlines()
        start = consent.url[:30]
        first = next(i for i, row in enumerate(rows) if row.lstrip().startswith(start))
        margin = rows[first].index(start)
        assert margin <= 1, rows[first]  # the screen's own padding at most: no indent, no border
        shown = rows[first][margin:]
        assert consent.url.startswith(shown) and len(shown) >= 78  # cut by the edge, not wrapped
        rest = consent.url[len(shown) :]
        assert not any(rest[:20] in row for row in rows), rows  # no continuation row
        await pilot.press("u")
        await until(pilot, lambda: any("Consent URL" in n.message for n in app._notifications))
