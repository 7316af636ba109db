"""Asking DocuSign for the consent URL before the browser opens, to read its own error page early.

DocuSign answers a consent request it cannot serve (an integration key it does not know, a
redirect URI not registered on the key) with an HTML page, not a redirect: the browser shows it
and the redirect never comes, so a wizard that only waits would wait for its whole timeout. One
GET of the consent URL, no redirect followed, shows the same page to clmwizard; where DocuSign's
own error text is in it, the sign-in stops at once with what DocuSign answered.

A redirect (to a sign-in page, or straight back with a code for a user already signed in) or a
page without such text means DocuSign accepted the request: the check is silent. A check that
cannot be made (no network, a slow server) is silent too: the browser may still get through.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx

from clmwizard.docusign.environments import Environment
from clmwizard.errors import ClmWizardError
from clmwizard.http import send

CHECK_DEADLINE = 8.0  # seconds; a check that takes longer is skipped, not failed
_MAX_QUOTE = 200  # characters of DocuSign's sentence quoted back


@dataclass(frozen=True)
class PageError:
    """A phrase of DocuSign's consent error page and what it means."""

    phrase: str  # lower case, matched in the page's text
    kind: str
    confirmed: bool  # DocuSign's documented wording, or only reported by users


# The phrases DocuSign's browser pages are known to carry (reference/docusign.md).
PAGE_ERRORS = (
    PageError("there are no redirect uris registered", "no_redirect_uris", confirmed=True),
    PageError("redirect uri is not registered", "redirect_not_registered", confirmed=True),
    PageError("response type is not supported", "response_type", confirmed=True),
    # unconfirmed: the wording a user reported for a mistyped key (or a key of the other
    # environment); the reference has no DocuSign source for it yet.
    PageError("client id is not registered", "unknown_key", confirmed=False),
    PageError("client id is not valid", "unknown_key", confirmed=False),
)

REFUSAL_CODES = frozenset(
    {"unknown_integration_key", "redirect_uri_not_registered", "consent_request_refused"}
)

_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


def page_blocks(body: str) -> list[str]:
    """The text of an HTML page, one string per run of text between tags (scripts dropped)."""
    pieces = _TAGS.split(body[:200_000])
    blocks = []
    for piece in pieces:
        if piece is None or piece.lower() in ("script", "style"):
            continue
        text = _SPACE.sub(" ", html.unescape(piece)).strip()
        if text:
            blocks.append(text)
    return blocks


def find_page_error(body: str) -> tuple[PageError, str] | None:
    """The first known DocuSign error in the page, with DocuSign's sentence that carries it."""
    blocks = page_blocks(body)
    for block in blocks:
        lowered = block.lower()
        for known in PAGE_ERRORS:
            if known.phrase in lowered:
                return known, block
    return None


def _asking_sign_in(url: str) -> str:
    """The consent URL with prompt=login: with a remembered consent DocuSign would otherwise
    answer this check at once with a code (minted without the user, and shown by an HTTP debug
    log). The browser gets the URL unchanged."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "prompt"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("prompt", "login")])))


async def check_consent_url(
    client: httpx.AsyncClient,
    url: str,
    env: Environment,
    integration_key: str,
    redirect_uri: str,
) -> ClmWizardError | None:
    """DocuSign's refusal of the consent URL as an error to stop at, or None to go on."""
    try:
        response = await send(
            client, "GET", _asking_sign_in(url), deadline=CHECK_DEADLINE, follow_redirects=False
        )
    except (httpx.HTTPError, ClmWizardError):
        return None  # cannot check: the browser may still get through, so the wait goes on
    if response.is_redirect:
        return None
    try:
        body = response.content.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:
        body = response.content.decode("utf-8", errors="replace")
    found = find_page_error(body)
    if found is None:
        return None
    known, sentence = found
    return page_refusal(known.kind, sentence, env, integration_key, redirect_uri)


def page_refusal(
    kind: str, sentence: str, env: Environment, integration_key: str, redirect_uri: str
) -> ClmWizardError:
    """The error for DocuSign's answer `sentence` (of the kind `kind`), with the fix."""
    from clmwizard.safe_text import visible

    quoted = visible(sentence, limit=_MAX_QUOTE)
    what = f"DocuSign answered the consent request: “{quoted}”"
    if kind == "unknown_key":
        other = {"demo": "production", "production": "demo"}.get(env.name)
        switch = f", or use --environment {other} if it is a {other} key" if other else ""
        return ClmWizardError(
            what,
            cause=f"The {env.label} does not know the integration key {integration_key}: a "
            "typo in the key, or a key of the other environment (developer keys live on "
            "account-d.docusign.com, production keys only after go-live on "
            "account.docusign.com).",
            fix="Copy the integration key again from Apps and Keys (Settings → Apps and Keys, "
            f"the GUID under Integration Key){switch}; then run login again.",
            wizard_fix="Press esc twice for the Integration key step: copy the key again from "
            "Apps and Keys, or switch the environment there if it is a key of the other one.",
            field="integration_key",
            code="unknown_integration_key",
        )
    if kind in ("redirect_not_registered", "no_redirect_uris"):
        return ClmWizardError(
            what,
            cause=f"The redirect URI {redirect_uri} is not among the integration key's "
            "redirect URIs; DocuSign compares them exactly (scheme, host, port and path).",
            fix=f"Add it: Apps and Keys → your key → Edit → Redirect URIs → Add URI → "
            f"{redirect_uri} → Save; then run login again (or pass the --redirect-uri you "
            "registered).",
            wizard_fix=f"Add it: Apps and Keys → your key → Edit → Redirect URIs → Add URI → "
            f"{redirect_uri} → Save (c copies it); then press r to check again.",
            field="redirect_uri",
            code="redirect_uri_not_registered",
        )
    return ClmWizardError(
        what,
        cause="The integration key is not set up for the Authorization Code Grant, or the "
        "consent request was changed on the way.",
        fix="In Apps and Keys → your key → Edit, choose Authorization Code Grant under User "
        "Application; then run login again.",
        wizard_fix="In Apps and Keys → your key → Edit, choose Authorization Code Grant under "
        "User Application; then press r to check again.",
        field="integration_key",
        code="consent_request_refused",
    )


CAUSE_HINT = (
    "Still waiting? Usual causes: the browser shows a DocuSign error page (a mistyped key or "
    "one of the other environment: esc twice to the Integration key step), the redirect URI "
    "is not registered on the key (c copies it), or the browser was closed (o opens it again)."
)
CLI_CAUSE_HINT = (
    "Still waiting? Usual causes: the browser shows a DocuSign error page (a mistyped "
    "--integration-key, or a key of the other --environment), the redirect URI above is not "
    "registered on the key (--redirect-uri), or the browser tab was closed (open the address "
    "above again)."
)
