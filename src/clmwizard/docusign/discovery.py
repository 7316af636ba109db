"""Who signed in (userinfo), which account to use, and that account's CLM hosts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from clmwizard.docusign.environments import (
    Environment,
    is_loopback_host,
    split_web_address,
    web_address_parts,
)
from clmwizard.docusign.keys import canonical_guid
from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.http import bearer, get_with_retry, host_of, json_body, malformed_error
from clmwizard.store.profile import ClmHosts

MANUAL_HOSTS = (
    "You can find them in the CLM web app (Admin → System Domains; older accounts: Help → "
    "SpringCM Resources) and enter them by hand."
)


@dataclass(frozen=True)
class Account:
    account_id: str
    account_name: str
    is_default: bool
    base_uri: str


@dataclass(frozen=True)
class UserInfo:
    user_id: str
    name: str
    email: str
    accounts: tuple[Account, ...]


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


MAX_NAME_LENGTH = 256  # user, account names and e-mail addresses; longer ones are cut
MAX_ACCOUNTS = 1000


def _text(value: Any) -> str:
    """A name from userinfo: a string (else empty), cut to MAX_NAME_LENGTH."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    text = str(value).strip()
    return text if len(text) <= MAX_NAME_LENGTH else text[: MAX_NAME_LENGTH - 1] + "…"


CHECK_ENVIRONMENT = (
    "Check the Environment and its OAuth server address on the Integration key step (esc "
    "goes back to it)."
)


def _account_id(value: Any, url: str) -> str:
    """The account id as a GUID: it goes into CLM URLs and the exported bundle."""
    guid = canonical_guid(value) if isinstance(value, str) else None
    if guid is None:
        shown = repr(value)[:80]
        raise ClmWizardError(
            f"{host_of(url)} listed an account whose id is not a GUID: {shown}.",
            cause="DocuSign's account ids (API Account ID) are GUIDs. A server that sends "
            "anything else is not DocuSign's account server, or is misbehaving; the id would "
            "end up in the addresses clmwizard and the connector call.",
            fix="Check the OAuth server address (environment / --auth-server); nothing was stored.",
            wizard_fix=f"{CHECK_ENVIRONMENT} Nothing was stored.",
            field="environment",
            code="bad_account_id",
        )
    return guid


def _base_uri(value: Any) -> str:
    """The account's eSignature base URI: a web address (else empty)."""
    text = value.strip().rstrip("/") if isinstance(value, str) else ""
    if len(text) > MAX_NAME_LENGTH:
        return ""
    parts = split_web_address(text)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        return ""
    return text


def parse_userinfo(payload: Any, url: str, status: int = 200) -> UserInfo:
    if not isinstance(payload, dict) or not isinstance(payload.get("accounts"), list):
        raise malformed_error(url, status)
    accounts = []
    for item in payload["accounts"][:MAX_ACCOUNTS]:
        if not isinstance(item, dict) or not item.get("account_id"):
            continue
        accounts.append(
            Account(
                account_id=_account_id(item["account_id"], url),
                account_name=_text(item.get("account_name")),
                is_default=_as_bool(item.get("is_default", False)),
                base_uri=_base_uri(item.get("base_uri")),
            )
        )
    return UserInfo(
        user_id=_text(payload.get("sub")),
        name=_text(payload.get("name")),
        email=_text(payload.get("email")),
        accounts=tuple(accounts),
    )


async def fetch_userinfo(
    client: httpx.AsyncClient, env: Environment, access_token: str
) -> UserInfo:
    """GET /oauth/userinfo (retried on transient failures). DocuSign rate-limits it: once a run."""
    url = env.userinfo_url
    response = await get_with_retry(client, url, headers=bearer(access_token))
    if response.status_code == 401:
        raise ClmWizardError(
            "DocuSign refused the new access token when asked who signed in (HTTP 401).",
            cause="The token was issued by another server than the one answering userinfo, "
            "or it was revoked at once.",
            fix="Check the environment / --auth-server and sign in again.",
            wizard_fix=f"{CHECK_ENVIRONMENT} Then sign in again.",
            field="environment",
            code="userinfo_401",
        )
    if response.status_code != 200:
        raise ClmWizardError(
            f"{host_of(url)} did not say who signed in (HTTP {response.status_code}).",
            fix="Check the environment / --auth-server and try again.",
            wizard_fix=f"{CHECK_ENVIRONMENT} Then try again.",
            field="environment",
            code=f"http_{response.status_code}",
        )
    info = parse_userinfo(json_body(response), url)
    if not info.accounts:
        raise ClmWizardError(
            f"The user {info.email or info.user_id} has no DocuSign account here.",
            cause="The user exists but belongs to no account in this environment.",
            fix="Sign in with a user of the CLM account (or check the environment).",
            field="environment",
            code="no_accounts",
        )
    return info


def describe_account(account: Account) -> str:
    name = account.account_name or "(no name)"
    return f"{name} ({account.account_id})"


def choose_account(userinfo: UserInfo, account_id: str | None = None) -> Account:
    """The account with `account_id`, else the user's default (else the first)."""
    if account_id:
        wanted = canonical_guid(account_id) or account_id.strip().lower()
        for account in userinfo.accounts:
            if account.account_id.lower() == wanted:
                return account
        listing = "; ".join(describe_account(account) for account in userinfo.accounts)
        raise UsageError(
            f"The user has no account {account_id.strip()}.",
            cause=f"Accounts of {userinfo.email or 'this user'}: {listing}.",
            fix="Use one of these with --account-id (the API Account ID GUID, not the account "
            "number).",
            wizard_fix="Choose one of these accounts in the list on the Discovery step.",
            field="account_id",
            code="account_not_found",
        )
    for account in userinfo.accounts:
        if account.is_default:
            return account
    return userinfo.accounts[0]


def validate_clm_base_url(text: str) -> str:
    """A CLM API base URL typed by hand: https (http only on loopback), a host, no query."""
    value = text.strip().rstrip("/")
    parts = web_address_parts(
        value,
        refusal=f"{value!r} is not a valid web address.",
        fix="Enter the base URL such as https://apina11.springcm.com.",
        field="clm_hosts",
    )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"{value!r} is not a web address.",
            fix="Enter the base URL such as https://apina11.springcm.com.",
            field="clm_hosts",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise UsageError(
            f"{value} uses plain http.",
            cause="CLM hosts speak https; http is accepted only on loopback (the emulator).",
            fix="Use the https:// address.",
            field="clm_hosts",
        )
    if parts.query or parts.fragment or parts.username:
        raise UsageError(
            f"{value} has a query, fragment or user name.",
            fix="Enter only the base URL, e.g. https://apina11.springcm.com.",
            field="clm_hosts",
        )
    return value


def _discovery_failed(what: str, cause: str, code: str) -> ClmWizardError:
    return ClmWizardError(
        what,
        cause=cause,
        fix="Check the CLM discovery server (--clm-auth-server) and try again. " + MANUAL_HOSTS,
        field="clm_hosts",
        code=code,
    )


async def discover_clm_hosts(
    client: httpx.AsyncClient, env: Environment, account_id: str, access_token: str
) -> ClmHosts:
    """The general, upload and download CLM base URLs of the account."""
    url = f"{env.clm_auth_server}/api/v2/{account_id}/account"
    host = host_of(url)
    try:
        response = await get_with_retry(client, url, headers=bearer(access_token))
    except ClmWizardError as error:
        error.fix = f"{error.fix} {MANUAL_HOSTS}".strip()
        error.field = error.field or "clm_hosts"
        raise
    if response.status_code == 401:
        raise ClmWizardError(
            "CLM refused the token when asked for the account's hosts (HTTP 401).",
            cause="The token lacks the CLM scopes spring_read and spring_write (or the user "
            "has no CLM access in this account).",
            fix="Add spring_read and spring_write to the scopes and consent again. " + MANUAL_HOSTS,
            field="scopes",
            code="clm_401",
        )
    if response.status_code == 404:
        raise _discovery_failed(
            f"{host} does not know the account {account_id} (HTTP 404).",
            "The account may not have CLM, or it lives in the other environment (UAT / "
            "production discovery servers differ).",
            "clm_404",
        )
    if response.status_code != 200:
        raise _discovery_failed(
            f"{host} could not list the account's CLM hosts (HTTP {response.status_code}).",
            "The discovery server refused or failed.",
            f"http_{response.status_code}",
        )
    try:
        payload = json_body(response)
    except ClmWizardError as error:
        raise _discovery_failed(error.what, error.cause, "malformed") from None
    keys = ("ApiBaseUrl", "ApiBaseUploadUrl", "ApiBaseDownloadUrl")
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in keys):
        raise _discovery_failed(
            f"{host} answered without the CLM base URLs.",
            "The answer lacks ApiBaseUrl, ApiBaseUploadUrl or ApiBaseDownloadUrl.",
            "malformed",
        )
    try:
        general, upload, download = (validate_clm_base_url(payload[k]) for k in keys)
    except UsageError as error:
        raise _discovery_failed(
            f"{host} answered with an unusable CLM base URL.", error.what, "malformed"
        ) from None
    return ClmHosts(general=general, upload=upload, download=download)
