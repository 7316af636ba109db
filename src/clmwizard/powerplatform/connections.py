"""Power Automate connections to a custom connector, through the Power Apps API (see the
README, "Connect"): create, read, list, delete, and the consent link the user opens to sign in
to DocuSign through the connector.

The consent-link call is not documented by Microsoft (T: what the maker portal sends); when it
is refused, the user creates the connection in the portal and `find_connection` picks it up.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from clmwizard.errors import ClmWizardError, NetworkError
from clmwizard.powerplatform.api import MAX_ITEMS, PowerAppsApi, _malformed, _text
from clmwizard.powerplatform.api import validate_connector_id as _connector_id

if TYPE_CHECKING:
    import httpx

CONNECTED = "Connected"
_CONNECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")
MAX_PAGES = 20
# The status of a connection nobody has signed in to yet (T: Error on target `token`, with no
# error or one of these codes); any other error is a failure to explain.
NOT_SIGNED_IN_CODES = frozenset(
    {"", "unauthenticated", "connectionnotauthenticated", "unauthorized", "notsignedin"}
)


@dataclass(frozen=True)
class Connection:
    name: str
    connector_id: str
    display_name: str
    status: str  # "Connected", "Error", or whatever else the service says
    error_code: str = ""
    error_message: str = ""

    @property
    def connected(self) -> bool:
        return self.status == CONNECTED

    @property
    def signed_in_never(self) -> bool:
        """An Error that only says nobody signed in yet (not a failure)."""
        return not self.connected and self.error_code.lower() in NOT_SIGNED_IN_CODES


def new_connection_name() -> str:
    """A GUID without dashes, as the portal names connections (T)."""
    return uuid.uuid4().hex


def validate_connection_name(value: object) -> str:
    if not isinstance(value, str) or not _CONNECTION_NAME.fullmatch(value):
        raise _malformed("a connection name that is not one")
    return value


def connection_from(data: Any, connector_id: str) -> Connection:
    if not isinstance(data, dict):
        raise _malformed("a connection that is not a JSON object")
    name = validate_connection_name(data.get("name"))
    properties = data.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    statuses = properties.get("statuses")
    first = statuses[0] if isinstance(statuses, list) and statuses else {}
    first = first if isinstance(first, dict) else {}
    error = first.get("error")
    error = error if isinstance(error, dict) else {}
    api = properties.get("apiId")
    if isinstance(api, str) and "/apis/" in api:
        connector_id = api.rsplit("/apis/", 1)[1][:200] or connector_id
    return Connection(
        name=name,
        connector_id=connector_id,
        display_name=_text(properties.get("displayName"), 200),
        status=_text(first.get("status"), 40) or "Unknown",
        error_code=_text(error.get("code"), 100),
        error_message=_text(error.get("message"), 400),
    )


def _path(connector_id: str, name: str | None = None) -> str:
    suffix = f"/{quote(_connector_id(connector_id), safe='')}/connections"
    if name is not None:
        suffix += f"/{quote(validate_connection_name(name), safe='')}"
    return suffix


async def _on_connection(
    api: PowerAppsApi, method: str, environment: str, path: str, doing: str, **options: Any
) -> httpx.Response:
    """A call on a connection that names the environment when refused."""
    params = api._filter(environment)
    url = api._apis(path)
    return await api._request(
        method, url, doing=doing, environment=environment, params=params, **options
    )


async def create_connection(
    api: PowerAppsApi, environment: str, connector_id: str, display_name: str
) -> Connection:
    """PUT a new connection (named by us, so a retry after a lost answer cannot duplicate it)."""
    name = new_connection_name()
    body = {
        "properties": {
            "displayName": display_name,
            "environment": {
                "id": f"/providers/Microsoft.PowerApps/environments/{environment}",
                "name": environment,
            },
            "connectionParameters": {},
        }
    }
    doing, path = f"create a connection to {connector_id}", _path(connector_id, name)
    response = await _on_connection(api, "PUT", environment, path, doing, json_body=body)
    if not response.content.strip():
        return await get_connection(api, environment, connector_id, name) or Connection(
            name, connector_id, display_name, "Error"
        )
    return connection_from(api._json(response), connector_id)


async def get_connection(
    api: PowerAppsApi, environment: str, connector_id: str, name: str
) -> Connection | None:
    response = await api._found(
        api._apis(_path(connector_id, name)),
        doing=f"read the connection {name}",
        params=api._filter(environment),
    )
    return None if response is None else connection_from(api._json(response), connector_id)


async def list_connections(
    api: PowerAppsApi, environment: str, connector_id: str
) -> list[Connection]:
    """Every connection to `connector_id` this account can see (following `nextLink`)."""
    url: str | None = api._apis(_path(connector_id))
    params: dict[str, str] | None = api._filter(environment)
    found: list[Connection] = []
    origin = urlsplit(api.power_apps_url).netloc
    for _ in range(MAX_PAGES):
        if url is None:
            break
        response = await api._request(
            "GET",
            url,
            doing=f"list the connections to {connector_id}",
            environment=environment,
            params=params,
        )
        data = api._json(response)
        values = data.get("value") if isinstance(data, dict) else None
        if not isinstance(values, list):
            raise _malformed("a connection list without `value`")
        for item in values[:MAX_ITEMS]:
            try:
                found.append(connection_from(item, connector_id))
            except ClmWizardError:
                continue
        following = data.get("nextLink")
        url, params = None, None
        if isinstance(following, str) and urlsplit(following).netloc == origin:
            url = following  # the link carries its own query; never follow it elsewhere
    return found


def portal_steps(display_name: str) -> str:
    return (
        "make.powerautomate.com → (your environment) → Data → Connections → + New connection "
        f"→ search {display_name!r} → Create → sign in to DocuSign"
    )


async def consent_link(
    api: PowerAppsApi,
    environment: str,
    connector_id: str,
    name: str,
    redirect_url: str,
    *,
    display_name: str,
    profile: str,
) -> str:
    """The link that signs the user in to DocuSign through the connector (T: the portal's
    call); refused → the portal path to create the connection by hand."""
    try:
        doing = "get the sign-in link of the connection"
        path, body = _path(connector_id, name) + "/getConsentLink", {"redirectUrl": redirect_url}
        response = await _on_connection(api, "POST", environment, path, doing, json_body=body)
        data = api._json(response)
    except ClmWizardError as error:
        if isinstance(error, NetworkError) or error.code in ("http_401", "unknown_environment"):
            raise
        raise ClmWizardError(
            "Power Automate refused to give clmwizard the connection's sign-in link.",
            cause=f"{error.what} {error.cause}".strip()
            + " (Microsoft does not document this call for tools other than its portal.)",
            fix=f"Create the connection by hand: {portal_steps(display_name)}. Then run "
            f"`clmwizard connect --profile {profile}` again: it finds that connection and "
            "carries on.",
            code="consent_link_refused",
        ) from None
    link = data.get("consentLink") if isinstance(data, dict) else None
    if not isinstance(link, str) or len(link) > 8000:
        raise _malformed("no consent link")
    parts = urlsplit(link)
    if parts.scheme != "https" or not parts.hostname:
        raise _malformed("a consent link that is not an https address")
    return link


async def confirm_consent_code(
    api: PowerAppsApi, environment: str, connector_id: str, name: str, code: str
) -> None:
    """Finish the sign-in with the code the browser brought back (T: what the portal does when
    the consent service hands the code to the link's redirect URL instead of finishing)."""
    path = _path(connector_id, name) + "/confirmConsentCode"
    doing, body = "finish the connection's sign-in", {"code": code}
    # a code works once: never resent
    await _on_connection(
        api, "POST", environment, path, doing, json_body=body, retry_server_errors=False
    )
