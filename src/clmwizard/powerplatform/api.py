"""The Power Apps API as paconn and pac use it (see the README, "Publishing"): environments,
swagger validation, icon storage and upload, and custom connectors (create, update, get, list).

Every answer is bounded and validated before use; every failure is a ClmWizardError in plain
words. The httpx client is injected (tests pass the emulator's or a MockTransport).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from clmwizard.errors import ClmWizardError, NetworkError
from clmwizard.powerplatform.settings import API_VERSION

if TYPE_CHECKING:
    import httpx

SERVICE = "The Power Apps API"
STORAGE = "The icon storage"  # Azure blob storage, addressed by the SAS the API hands out
MAX_BODY = 8_000_000  # a connector with its swagger is a few hundred KB; a list a few MB
MAX_ITEMS = 2000
MAX_PAGES = 50  # the whole catalogue (about 1,300 entries) is a handful of pages
MAX_LIST_BYTES = 64_000_000  # every page of one listing together
MAX_LINK = 4000
RETRY_AFTER_CAP = 30.0
ATTEMPTS = 4
_ENV_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,99}")
_CONNECTOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")
_BLOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,100}")


@dataclass(frozen=True)
class PowerEnvironment:
    environment_id: str
    display_name: str
    is_default: bool = False


Level = Literal["error", "warning", "unknown"]


@dataclass(frozen=True)
class Finding:
    """One finding of the validation answer (its format is unconfirmed: classified when it
    says "Error"/"Warning", else `unknown`)."""

    level: Level
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RemoteConnector:
    connector_id: str
    display_name: str
    redirect_url: str | None
    redirect_mode: str | None
    properties: dict[str, Any]


def validate_environment_id(value: str) -> str:
    value = value.strip()
    if not _ENV_ID.fullmatch(value):
        raise ClmWizardError(
            f"{value[:60]!r} is not a Power Platform environment id.",
            fix="Give --environment as the environment's id (e.g. Default-<tenant id>; the "
            "Power Platform admin centre shows it), or leave it out to choose from a list.",
            field="environment",
            code="bad_environment_id",
        )
    return value


def validate_connector_id(value: object) -> str:
    if not isinstance(value, str) or not _CONNECTOR_ID.fullmatch(value):
        raise _malformed("a connector id that is not one")
    return value


def _malformed(what: str) -> NetworkError:
    return NetworkError(
        f"The Power Apps API answered with {what}.",
        cause="A proxy or a maintenance page may have answered instead, or --power-apps-url "
        "points at the wrong service.",
        fix="Check --power-apps-url and the network, then try again.",
        code="malformed",
    )


def _text(value: Any, limit: int = 300) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _service_message(response: httpx.Response) -> str:
    """The service's own error words, bounded: `error.message` or the first line of text."""
    text = response.text[:4000]
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return " ".join(text.split())[:300]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return f"{_text(error.get('code'), 80)}: {_text(error.get('message'))}".strip(": ")
        if isinstance(data.get("message"), str):
            return _text(data["message"])
    return ""


class PowerAppsApi:
    """The calls, with the signed-in user's token and object id."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        access_token: str,
        object_id: str,
        *,
        power_apps_url: str,
        flow_url: str,
        attempts: int = ATTEMPTS,
        backoff: float = 0.5,
        retry_after_cap: float = RETRY_AFTER_CAP,
    ) -> None:
        self.backoff = backoff
        self.retry_after_cap = retry_after_cap
        self.client = client
        self._token = access_token
        self.object_id = object_id
        self.power_apps_url = power_apps_url.rstrip("/")
        self.flow_url = flow_url.rstrip("/")
        self.attempts = attempts
        # Called once when the service answers 401: a fresh token (or None), then one retry.
        self.renew_token: Callable[[], Awaitable[str | None]] | None = None

    def __repr__(self) -> str:
        return f"PowerAppsApi({self.power_apps_url!r})"

    # --- the request loop ---------------------------------------------------------------

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", **(extra or {})}

    async def _request(
        self,
        method: str,
        url: str,
        *,
        doing: str,
        environment: str | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        retry_server_errors: bool = True,
        auth: bool = True,
    ) -> httpx.Response:
        from clmwizard.http import redirected_error, send_with_retry

        service = SERVICE if auth else STORAGE

        async def send() -> httpx.Response:
            return await send_with_retry(
                self.client,
                method,
                url,
                attempts=self.attempts,
                retry_server_errors=retry_server_errors,
                backoff=self.backoff,
                cap=self.retry_after_cap,
                max_bytes=MAX_BODY,
                service=service,
                json=json_body,
                content=content,
                params=params,
                headers=self._headers(headers) if auth else (headers or {}),
            )

        try:
            response = await send()
            if response.status_code == 401 and auth and self.renew_token is not None:
                fresh = await self.renew_token()  # a token refused although MSAL thinks it valid
                if fresh:
                    self._token = fresh
                    response = await send()
        except NetworkError as problem:
            problem.what = f"{problem.what} (while trying to {doing})"
            raise
        if 300 <= response.status_code < 400:  # a portal's or a proxy's, not the API's
            raise redirected_error(url, response.status_code, service=service)
        if response.status_code >= 400:
            raise self._error(response, doing, environment)
        return response

    def _error(
        self, response: httpx.Response, doing: str, environment: str | None
    ) -> ClmWizardError:
        status = response.status_code
        said = _service_message(response)
        cause = f"The service said: {said}" if said else f"HTTP {status}."
        if status == 401:
            return ClmWizardError(
                f"The Power Apps API refused the Microsoft sign-in (HTTP 401) when trying to "
                f"{doing}.",
                cause=cause,
                fix="Sign in again (the token may have expired or be for another service); "
                "check --power-apps-url and --authority belong to the same cloud.",
                code="http_401",
            )
        if status == 403:
            where = f" in environment {environment}" if environment else ""
            return ClmWizardError(
                f"You may not {doing}{where} (HTTP 403).",
                cause=f"{cause} Creating custom connectors needs the Environment Maker (or "
                "System Administrator) role in the environment.",
                fix="Ask a Power Platform administrator for the Environment Maker role in that "
                "environment, or choose another environment with --environment.",
                code="no_maker_role",
            )
        if status == 404:
            if environment:
                return ClmWizardError(
                    f"The environment {environment} does not exist, or this account cannot see "
                    f"it (HTTP 404 when trying to {doing}).",
                    cause=cause,
                    fix="Run without --environment to choose from the environments this "
                    "account can use.",
                    field="environment",
                    code="unknown_environment",
                )
            return ClmWizardError(
                f"The Power Apps API does not know this address (HTTP 404 when trying to {doing}).",
                cause=cause,
                fix="Check --power-apps-url and --flow-url.",
                code="http_404",
            )
        if status == 429:
            wait = response.headers.get("Retry-After", "").strip()[:10]
            return NetworkError(
                f"The Power Apps API is throttling requests (HTTP 429) when trying to {doing}.",
                cause="Too many requests in a short time"
                + (f"; it asked to wait {wait} s." if wait else "."),
                fix="Wait a minute, then run again: what was published so far is remembered.",
                code="http_429",
            )
        if status >= 500:
            return NetworkError(
                f"The Power Apps API failed (HTTP {status}) when trying to {doing}.",
                cause=f"{cause} The service is having trouble on its side.",
                fix="Wait a few minutes and run again: what was published so far is remembered.",
                code=f"http_{status}",
            )
        return ClmWizardError(
            f"The Power Apps API refused to {doing} (HTTP {status}).",
            cause=cause,
            fix="Check the message above; if the connector definition is at fault, this is a "
            "bug in clmwizard.",
            code=f"http_{status}",
        )

    async def _found(
        self, url: str, *, doing: str, params: dict[str, str]
    ) -> httpx.Response | None:
        """GET one thing by its name; None when the service answers 404. The environment is
        not named to `_request`: a 404 means the thing, not the environment, is missing."""
        try:
            return await self._request("GET", url, doing=doing, params=params)
        except ClmWizardError as error:
            if error.code == "http_404":
                return None
            raise

    def _json(self, response: httpx.Response) -> Any:
        from clmwizard.http import json_body

        return json_body(response, service=SERVICE)

    def _apis(self, suffix: str = "") -> str:
        return f"{self.power_apps_url}/providers/Microsoft.PowerApps/apis{suffix}"

    def _by_user(self, action: str) -> str:
        oid = quote(self.object_id, safe="")
        return f"{self.power_apps_url}/providers/Microsoft.PowerApps/objectIds/{oid}/{action}"

    @staticmethod
    def _filter(environment: str) -> dict[str, str]:
        return {"api-version": API_VERSION, "$filter": f"environment eq '{environment}'"}

    # --- the calls ------------------------------------------------------------------------

    async def list_environments(self) -> list[PowerEnvironment]:
        url = f"{self.flow_url}/providers/Microsoft.ProcessSimple/environments"
        response = await self._request(
            "GET", url, doing="list the environments", params={"api-version": API_VERSION}
        )
        data = self._json(response)
        values = data.get("value") if isinstance(data, dict) else None
        if not isinstance(values, list):
            raise _malformed("an environment list without `value`")
        found: list[PowerEnvironment] = []
        for item in values[:MAX_ITEMS]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            if not _ENV_ID.fullmatch(item["name"]):
                continue
            properties = item.get("properties")
            properties = properties if isinstance(properties, dict) else {}
            found.append(
                PowerEnvironment(
                    environment_id=item["name"],
                    display_name=_text(properties.get("displayName"), 200) or item["name"],
                    is_default=properties.get("isDefault") is True,
                )
            )
        return found

    async def validate_swagger(self, swagger: dict[str, Any]) -> list[Finding]:
        """The service's findings on the swagger; empty when it has none."""
        response = await self._request(
            "POST",
            self._by_user("validateApiSwagger"),
            doing="validate the connector definition",
            json_body=swagger,
            params={"api-version": API_VERSION},
            headers={"x-ms-origin": "paconn-cli"},
        )
        text = response.text.strip()
        if text in ("", "{}", "[]", "null", '""'):
            return []
        return findings_from(text)

    async def generate_storage(self, environment: str) -> str:
        """A shared access signature URL of a blob container for the icon."""
        response = await self._request(
            "POST",
            self._by_user("generateResourceStorage"),
            doing="get storage for the icon",
            environment=environment,
            json_body={"environment": {"name": environment}},
            params={"api-version": API_VERSION},
        )
        data = self._json(response)
        sas = data.get("sharedAccessSignature") if isinstance(data, dict) else None
        if not isinstance(sas, str) or len(sas) > 4000:
            raise _malformed("no storage address for the icon")
        parts = urlsplit(sas)
        if parts.scheme != "https" or not parts.hostname or not parts.path.strip("/"):
            raise _malformed("a storage address for the icon that is not an https blob container")
        return sas

    async def upload_icon(self, sas_url: str, blob_name: str, data: bytes) -> str:
        """PUT the icon as a block blob; returns the blob's URL (with the SAS): the iconUri."""
        if not _BLOB_NAME.fullmatch(blob_name):
            raise ValueError(f"not a blob name: {blob_name!r}")
        parts = urlsplit(sas_url)
        path = parts.path.rstrip("/") + "/" + blob_name
        url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
        await self._request(
            "PUT",
            url,
            doing="upload the connector icon",
            content=data,
            headers={"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "image/png"},
            auth=False,  # the SAS in the URL is the authorisation; no bearer token to storage
        )
        return url

    async def create_connector(self, environment: str, body: dict[str, Any]) -> RemoteConnector:
        response = await self._request(
            "POST",
            self._apis(),
            doing="create the connector",
            environment=environment,
            json_body=body,
            params=self._filter(environment),
            retry_server_errors=False,  # a 5xx may have created it: a retry could duplicate
        )
        return connector_from(self._json(response))

    async def update_connector(
        self, environment: str, connector_id: str, body: dict[str, Any]
    ) -> RemoteConnector | None:
        """PATCH; any 2xx is success. The answer's body is unconfirmed (the connector, nothing,
        or 204): the connector when it carries one, else None (read it back with GET)."""
        validate_connector_id(connector_id)
        response = await self._request(
            "PATCH",
            self._apis(f"/{quote(connector_id, safe='')}"),
            doing=f"update the connector {connector_id}",
            environment=environment,
            json_body=body,
            params=self._filter(environment),
        )
        if not response.content.strip():
            return None
        try:
            return connector_from(self._json(response))
        except NetworkError:
            return None  # not a connector: the update still happened

    async def get_connector(self, environment: str, connector_id: str) -> RemoteConnector | None:
        validate_connector_id(connector_id)
        response = await self._found(
            self._apis(f"/{quote(connector_id, safe='')}"),
            doing=f"read the connector {connector_id}",
            params=self._filter(environment),
        )
        return None if response is None else connector_from(self._json(response))

    async def list_connectors(self, environment: str) -> list[RemoteConnector]:
        """Every custom connector of `environment`: asks for custom ones only and follows
        `nextLink` (same host only, bounded pages and bytes); raises `catalogue_incomplete`
        when the whole list cannot be read, so no caller mistakes a partial list for all."""
        params: dict[str, str] | None = {
            **self._filter(environment),
            "$filter": f"environment eq '{environment}' and IsCustomApi eq 'True'",
        }
        url = self._apis()
        found: list[RemoteConnector] = []
        total = 0
        for _ in range(MAX_PAGES):
            response = await self._request(
                "GET",
                url,
                doing="list the custom connectors",
                environment=environment,
                params=params,
            )
            total += len(response.content)
            if total > MAX_LIST_BYTES:
                raise _incomplete(environment, f"it is larger than {MAX_LIST_BYTES} bytes")
            data = self._json(response)
            values = data.get("value") if isinstance(data, dict) else None
            if not isinstance(values, list):
                raise _malformed("a connector list without `value`")
            for item in values[:MAX_ITEMS]:
                properties = item.get("properties") if isinstance(item, dict) else None
                if isinstance(properties, dict) and properties.get("isCustomApi") is False:
                    continue  # a managed connector: the filter was not honoured
                try:
                    found.append(connector_from(item))
                except NetworkError:
                    continue  # one odd entry must not hide the others
            link = data.get("nextLink")
            if link is None or link == "":
                return found
            url = self._next_page(link, environment)
            params = None  # the link carries the query
        raise _incomplete(environment, f"it has more than {MAX_PAGES} pages")

    def _next_page(self, link: object, environment: str) -> str:
        own = urlsplit(self.power_apps_url)
        parts = urlsplit(link) if isinstance(link, str) and len(link) <= MAX_LINK else None
        if parts is None or (parts.scheme, parts.netloc.lower()) != (
            own.scheme,
            own.netloc.lower(),
        ):
            raise _incomplete(environment, "its next page is not on the Power Apps API's own host")
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _incomplete(environment: str, why: str) -> NetworkError:
    return NetworkError(
        f"The connector list of environment {environment} could not be read in full: {why}.",
        cause="Without the whole list clmwizard cannot tell whether a connector it would create "
        "already exists; nothing was created or changed.",
        fix="Run again; if it keeps happening, check --power-apps-url (a proxy may rewrite the "
        "answers).",
        code="catalogue_incomplete",
    )


def connector_from(data: Any) -> RemoteConnector:
    if not isinstance(data, dict):
        raise _malformed("a connector that is not a JSON object")
    connector_id = validate_connector_id(data.get("name"))
    properties = data.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    settings = _oauth_settings(properties)
    redirect = settings.get("redirectUrl")
    redirect_url = redirect if isinstance(redirect, str) and _is_https(redirect) else None
    mode = settings.get("redirectMode")
    return RemoteConnector(
        connector_id=connector_id,
        display_name=_text(properties.get("displayName"), 200),
        redirect_url=redirect_url,
        redirect_mode=mode if isinstance(mode, str) else None,
        properties=properties,
    )


def _oauth_settings(properties: dict[str, Any]) -> dict[str, Any]:
    parameters = properties.get("connectionParameters")
    token = parameters.get("token") if isinstance(parameters, dict) else None
    settings = token.get("oAuthSettings") if isinstance(token, dict) else None
    return settings if isinstance(settings, dict) else {}


def _is_https(url: str) -> bool:
    parts = urlsplit(url)
    return len(url) <= 2000 and parts.scheme == "https" and bool(parts.hostname)


def _classified(text: str, level: object = None) -> Finding:
    said = str(level).lower() if isinstance(level, str) else text.split(":", 1)[0].lower()
    if "error" in said:
        return Finding("error", text)
    if "warning" in said:
        return Finding("warning", text)
    return Finding("unknown", text)


def findings_from(text: str) -> list[Finding]:
    """The validation answer, one finding per line or item, classified where it says how."""
    text = text[:20_000]
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = text
    if isinstance(data, str):
        return [_classified(line.strip()[:300]) for line in data.splitlines() if line.strip()][:50]
    items: list[Any]
    if isinstance(data, list):
        items = data
    elif isinstance(data, dict):
        inner = data.get("errors") or data.get("value") or data.get("error") or [data]
        items = inner if isinstance(inner, list) else [inner]
    else:
        items = [data]
    found = []
    for item in items[:50]:
        if isinstance(item, dict):
            where = _text(
                item.get("operationId")
                or item.get("location")
                or item.get("path")
                or item.get("target"),
                120,
            )
            message = (
                _text(item.get("message") or item.get("description")) or json.dumps(item)[:300]
            )
            level = item.get("level") or item.get("severity") or item.get("type")
            found.append(_classified(f"{where}: {message}" if where else message, level))
        elif isinstance(item, str) and item:
            found.append(_classified(item[:300]))
        elif item is not None:
            found.append(Finding("unknown", json.dumps(item)[:300]))
    return found
