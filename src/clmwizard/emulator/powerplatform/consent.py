"""The consent service (its own TLS origin, "consent"): where a consent link sends the browser
and where DocuSign sends it back. It stands in for `<region>.consent.azure-apihub.net` (the
link) and `global.consent.azure-apim.net` (the connectors' redirect URLs): in the emulator every
connector's redirect URL is `{consent origin}/redirect/<connector name>`, so it resolves here.

    GET /login?data=ID       -> 302 to the connector's authorizationUrl with the connector's own
                                client id, scopes (space separated, U) and redirect URL, and
                                `state` (no PKCE: U)
    GET /redirect/<name>?code=..&state=ID
                             -> the code is exchanged at the connector's tokenUrl with the
                                connector's own client id and secret (switch
                                `token_client_auth`, U); the grant is stored on the connection
                                (Connected), then 302 to the link's redirectUrl if one was given
                                (U), else a page "You can close this window"
    GET /redirect/<name>?error=..&state=ID
                             -> the connection turns Error (code: DocuSign's error, U) and a
                                page says why (status 400)

With the switch `consent_finish="confirm"` (T: the portal's way) and a redirectUrl, the browser
goes back to it with `?code=<consent code>` and the connection turns Connected only when its
owner POSTs `.../connections/{name}/confirmConsentCode {"code": …}` (10 minutes, once).

An unregistered redirect URL never gets here: DocuSign's own page stops the browser, and the
connection stays unauthenticated, as with the real service.
"""

from __future__ import annotations

import secrets
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from clmwizard.emulator.http_types import Request, Response, html_response, redirect
from clmwizard.emulator.powerplatform import grants
from clmwizard.emulator.powerplatform.records import Connection, ConsentSession, Platform

SUCCESS = "Your connection is ready. You can close this window."
CONFIRM_LIFETIME = 600.0  # U: how long a consent code waits for confirmConsentCode


def page(title: str, message: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n<body><header>Power Platform consent "
        "(clmwizard emulator, test values only)</header>\n"
        f'<main><h1>{escape(title)}</h1>\n<p class="consent-message">{escape(message)}</p>'
        "</main></body></html>\n"
    )


def _failed(message: str) -> Response:
    return html_response(400, page("The connection could not be made", message))


def handle(platform: Platform, request: Request) -> Response:
    if request.method != "GET":
        return html_response(405, page("Not allowed", "Only GET is served here."))
    if request.path.rstrip("/") == "/login":
        return _login(platform, request)
    if request.path.startswith("/redirect/") or request.path.rstrip("/") == "/redirect":
        return _redirected(platform, request)
    return html_response(404, page("Not found", "The page you asked for does not exist."))


def _open_session(platform: Platform, state: str) -> ConsentSession | None:
    """The consent session `state` names, unless used or expired (call it under the lock)."""
    session = platform.records.sessions.get(state)
    if session is None or session.used or session.expires_at <= platform.now():
        return None
    return session


def _signing_in(
    platform: Platform, session: ConsentSession
) -> tuple[Connection | None, dict[str, Any] | None]:
    """The connection a session signs in and its connector, if they still exist (under the lock)."""
    connection = platform.records.connections.get(session.connection)
    environment, connector_id, _ = session.connection
    return connection, platform.connector(environment, connector_id)


def _sign_in_failed(
    platform: Platform, connection: Connection, code: str, message: str, now: float
) -> Response:
    """The connection turns Error without a grant, and the browser is told why."""
    with platform.state.lock:
        connection.fail(code, message)
        connection.grant = None
        connection.changed = now
    return _failed(message)


def _login(platform: Platform, request: Request) -> Response:
    state = request.param("data") or ""
    with platform.state.lock:
        session = _open_session(platform, state)
        if session is None:
            return _failed("This consent link has expired or was already used. Ask for a new one.")
        connection, record = _signing_in(platform, session)
    if connection is None or record is None:
        return _failed("The connection or its connector no longer exists.")
    settings = grants.oauth_settings(record)
    if settings is None or not settings.authorization_url:
        return _failed("The connector has no OAuth settings to sign in with.")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.client_id,
            "redirect_uri": session.redirect_url,
            "scope": " ".join(settings.scopes),
            "state": state,
        }
    )
    base = settings.authorization_url
    return redirect(f"{base}{'&' if '?' in base else '?'}{query}")


def _redirected(platform: Platform, request: Request) -> Response:
    state = request.param("state") or ""
    with platform.state.lock:
        session = _open_session(platform, state)
        if session is None:
            return _failed("This sign-in has expired or was already answered. Start again.")
        if urlsplit(session.redirect_url).path.rstrip("/") != request.path.rstrip("/"):
            return _failed("This redirect URL belongs to another connector.")
        session.used = True
        connection, record = _signing_in(platform, session)
        client_auth = platform.records.switches.token_client_auth
        now = platform.now()
    if connection is None or record is None:
        return _failed("The connection or its connector no longer exists.")
    error = request.param("error")
    code = request.param("code")
    if error or not code:
        reason = error or "no_code"
        description = request.param("error_description") or "The sign-in did not return a code."
        message = f"The sign-in was not completed: {reason}: {description}"
        # U: the code the real service records (DocuSign's error, cut to 100 characters)
        return _sign_in_failed(platform, connection, reason[:100], message, now)
    settings = grants.oauth_settings(record)
    if settings is None:
        return _failed("The connector has no OAuth settings to sign in with.")
    try:
        grant = grants.exchange(settings, code, now, client_auth, platform.ca_pem)
    except grants.GrantError as failure:
        return _sign_in_failed(platform, connection, failure.code, failure.message, now)
    with platform.state.lock:
        platform.records.keep(grant)
        confirm = platform.records.switches.consent_finish == "confirm"
        if confirm and session.final_url:
            consent_code = secrets.token_urlsafe(32)
            platform.records.confirms[consent_code] = (
                connection.key,
                grant,
                now + CONFIRM_LIFETIME,
            )
            separator = "&" if "?" in session.final_url else "?"
            return redirect(f"{session.final_url}{separator}{urlencode({'code': consent_code})}")
        connection.connect(grant)
        connection.changed = now
    if session.final_url:
        return redirect(session.final_url)
    return html_response(200, page("Connected", SUCCESS))
