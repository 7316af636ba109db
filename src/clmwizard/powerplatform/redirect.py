"""Does DocuSign accept a connector's redirect URL? Ask its /oauth/auth, follow nothing.

DocuSign's account server answers an unregistered `redirect_uri` with its "redirect URI is not
registered" page. Unconfirmed: whether it shows that page before the user signs in (it may show
the login page first for any redirect URI); so the verdict is worded as what DocuSign answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

from clmwizard.store.profile import Profile

if TYPE_CHECKING:
    import httpx

Verdict = Literal["registered", "not_registered", "unknown"]
NOT_REGISTERED_PHRASES = (
    "redirect uri is not registered",
    "no redirect uris registered",
)
LOGIN_MARKERS = ("<form", "password", "sign in", "log in", "consent")
MAX_PAGE = 200_000  # characters judged
MAX_PAGE_BYTES = 2_000_000  # a bigger answer is not DocuSign's page: "could not tell"


@dataclass(frozen=True)
class RedirectCheck:
    redirect_url: str
    verdict: Verdict
    said: str  # what DocuSign answered, in words

    @property
    def line(self) -> str:
        return {
            "registered": "DocuSign accepts it",
            "not_registered": "DocuSign says it is NOT registered",
            "unknown": "could not tell",
        }[self.verdict] + f" ({self.said})"


def auth_url(profile: Profile, redirect_url: str) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": profile.integration_key,
            "redirect_uri": redirect_url,
            "scope": " ".join(profile.scopes),
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
    if 300 <= status < 400:
        return RedirectCheck(
            redirect_url, "registered", f"HTTP {status}: it sends the browser on to sign in"
        )
    page = response.text[:MAX_PAGE].lower()
    if any(phrase in page for phrase in NOT_REGISTERED_PHRASES):
        return RedirectCheck(
            redirect_url,
            "not_registered",
            f"HTTP {status}: its 'redirect URI is not registered' page",
        )
    if status == 200 and any(marker in page for marker in LOGIN_MARKERS):
        return RedirectCheck(redirect_url, "registered", "HTTP 200: its sign-in or consent page")
    return RedirectCheck(redirect_url, "unknown", f"HTTP {status}, a page clmwizard does not know")
