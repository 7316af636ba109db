"""Is a connector's redirect URL registered on the integration key? Ask DocuSign's
/oauth/auth, follow nothing, and say only what the answer proves.

DocuSign's sign-in is a JavaScript application: to a caller who is not signed in it shows its
sign-in page (or redirects to it) for any redirect URI, registered or not, and cannot send a code
back. What /oauth/auth answers without a session is unconfirmed. So the only verdict the answer
can support is "NOT registered", when DocuSign's own error text is in it; anything else is
"could not tell": the first sign-in through the connector is the proof. Never "registered".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

from clmwizard.store.profile import Profile

if TYPE_CHECKING:
    import httpx

Verdict = Literal["not_registered", "unknown"]
NOT_REGISTERED_PHRASES = (
    "redirect uri is not registered",
    "no redirect uris registered",
)
UNKNOWN_LINE = (
    "DocuSign could not tell before sign-in; the first sign-in through the connector proves it"
)
MAX_PAGE = 200_000  # characters judged
MAX_PAGE_BYTES = 2_000_000  # a bigger answer is not DocuSign's page: "could not tell"


@dataclass(frozen=True)
class RedirectCheck:
    redirect_url: str
    verdict: Verdict
    said: str  # what DocuSign answered, in words

    @property
    def line(self) -> str:
        if self.verdict == "not_registered":
            return f"DocuSign says it is NOT registered ({self.said})"
        return f"{UNKNOWN_LINE} ({self.said})"


def auth_url(profile: Profile, redirect_url: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": profile.integration_key,
            "redirect_uri": redirect_url,
            "scope": " ".join(profile.scopes),
            # Never a code to this check: with a remembered consent DocuSign would otherwise
            # redirect at once with one (and an HTTP debug log would show it).
            "prompt": "login",
        }
    )
    return f"{profile.auth_server.rstrip('/')}/oauth/auth?{query}"


async def check_redirect_url(
    client: httpx.AsyncClient, profile: Profile, redirect_url: str
) -> RedirectCheck:
    """GET /oauth/auth with this redirect URI (no redirect followed) and judge the answer."""
    import httpx

    from clmwizard.errors import NetworkError
    from clmwizard.http import send

    url = auth_url(profile, redirect_url)
    try:
        response = await send(client, "GET", url, max_bytes=MAX_PAGE_BYTES, service="DocuSign")
    except (httpx.HTTPError, NetworkError) as error:
        what = error.what if isinstance(error, NetworkError) else type(error).__name__
        return RedirectCheck(
            redirect_url, "unknown", f"no answer from {profile.auth_server}: {what}"
        )
    status = response.status_code
    page = response.text[:MAX_PAGE].lower()
    if any(phrase in page for phrase in NOT_REGISTERED_PHRASES):
        return RedirectCheck(
            redirect_url,
            "not_registered",
            f"HTTP {status}: its 'redirect URI is not registered' page",
        )
    if 300 <= status < 400:
        said = f"HTTP {status}: it sends the browser on, as it does for any redirect URI"
    elif status == 200:
        said = "HTTP 200: a page without its 'not registered' error, e.g. its sign-in"
    else:
        said = f"HTTP {status}"
    return RedirectCheck(redirect_url, "unknown", said)
