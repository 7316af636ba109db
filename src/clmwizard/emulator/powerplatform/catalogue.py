"""The managed catalogue an environment's connector list starts with, and the paging of it.

The real list (`GET /apis?$filter=environment eq 'ENV'`) answers every connector the environment
can use: about 1,300 of Microsoft's managed connectors, then the tenant's own, in pages of
`{"value": [...], "nextLink": "<absolute URL with $skiptoken>"}` (T: cli-microsoft365, PnP,
Microsoft's RestClientModule follow nextLink). Page size, order and the skiptoken's form are
unconfirmed (U): all three are this emulator's choice, the page size switchable.

The catalogue is generated deterministically (the same names on every start) and only when a
list is first asked for, so start-up and tests that never list pay nothing.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import Any
from urllib.parse import urlencode

CATALOGUE_SIZE = 1300
DEFAULT_PAGE_SIZE = 250  # unconfirmed (U): the service's page size
_WORDS = (
    "Adobe",
    "Azure",
    "Blob",
    "Box",
    "Calendar",
    "Dataverse",
    "Dropbox",
    "Dynamics",
    "Excel",
    "Forms",
    "GitHub",
    "Gmail",
    "Jira",
    "Mail",
    "Notion",
    "OneDrive",
    "Outlook",
    "Planner",
    "Salesforce",
    "SAP",
    "ServiceNow",
    "SharePoint",
    "Slack",
    "SQL",
    "Teams",
    "Todoist",
    "Trello",
    "Twilio",
    "Word",
    "Zendesk",
    "Zoom",
    "Approvals",
    "Notifications",
    "Translator",
    "Vision",
)
_BLURB = (
    "Connect to the service to read, create and update its records from your flows and apps. "
    "Operations cover listing, searching, creating, updating and deleting items, with triggers "
    "when an item is created or modified. Requires an account with the service; some "
    "operations need a premium plan. "
)


def _entry(index: int) -> dict[str, Any]:
    digest = hashlib.sha256(f"managed-{index}".encode()).hexdigest()
    word = _WORDS[index % len(_WORDS)]
    title = f"{word} {_WORDS[int(digest[:4], 16) % len(_WORDS)]} {index}"
    name = f"shared_{word.lower()}{index}{digest[:6]}"
    return {
        "name": name,
        "id": f"/providers/Microsoft.PowerApps/apis/{name}",
        "type": "Microsoft.PowerApps/apis",
        "properties": {
            "displayName": title,
            "iconUri": f"https://connectoricons-prod.azureedge.net/{name}/icon_{digest[:8]}.png",
            "iconBrandColor": f"#{digest[8:14]}",
            "apiEnvironment": "Shared",
            "isCustomApi": False,
            "connectionParameters": {
                "token": {
                    "type": "oauthSetting",
                    "oAuthSettings": {
                        "identityProvider": word.lower(),
                        "clientId": digest[14:46],
                        "scopes": [],
                        "redirectMode": "Global",
                        "redirectUrl": "https://global.consent.azure-apim.net/redirect",
                    },
                }
            },
            "runtimeUrls": [f"https://europe-002.azure-apim.net/apim/{name[7:]}"],
            "primaryRuntimeUrl": f"https://europe-002.azure-apim.net/apim/{name[7:]}",
            "metadata": {"source": "marketplace", "brandColor": f"#{digest[8:14]}"},
            "capabilities": ["actions", "triggers"] if index % 3 else ["actions"],
            "tier": "Premium" if index % 4 == 0 else "Standard",
            "publisher": "Microsoft",
            "description": (_BLURB * (2 + index % 3))[: 900 + index % 700],
            "createdTime": "2016-09-30T04:12:34.0000000Z",
            "changedTime": f"2026-0{1 + index % 9}-1{index % 10}T08:00:00.0000000Z",
        },
    }


@functools.lru_cache(maxsize=1)
def managed(size: int = CATALOGUE_SIZE) -> tuple[dict[str, Any], ...]:
    """The managed connectors, built on first use and kept (read-only: copy before changing)."""
    return tuple(_entry(index) for index in range(size))


def skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def offset_of(token: str | None) -> int | None:
    """The offset in a skiptoken this emulator made; None for one it did not."""
    if token is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None
    offset = data.get("o") if isinstance(data, dict) else None
    return offset if isinstance(offset, int) and offset >= 0 else None


def page(
    entries: list[dict[str, Any]],
    offset: int,
    page_size: int,
    next_base: str,
    query: dict[str, str],
) -> dict[str, Any]:
    """One page; `nextLink` is absolute and repeats the query with a `$skiptoken`."""
    answer: dict[str, Any] = {"value": entries[offset : offset + page_size]}
    if offset + page_size < len(entries):
        answer["nextLink"] = (
            f"{next_base}?{urlencode({**query, '$skiptoken': skiptoken(offset + page_size)})}"
        )
    return answer
