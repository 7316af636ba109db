"""One authenticated CLM call — List attribute groups — to prove CLM answers the new token.

Discovery only proves the discovery server knows the account; this call proves the general
host, the account id and the token's spring scopes together, before anything is built on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from clmwizard.errors import ClmWizardError, NetworkError
from clmwizard.http import bearer, get_with_retry, host_of, json_body


@dataclass(frozen=True)
class ClmAnswer:
    """What CLM answered to List attribute groups."""

    groups: int
    host: str

    def describe(self) -> str:
        plural = "" if self.groups == 1 else "s"
        return f"CLM answered: {self.groups} attribute group{plural} ({self.host})"


def attribute_groups_url(general: str, account_id: str) -> str:
    return f"{general.rstrip('/')}/v2/{account_id}/attributegroups"


async def list_attribute_groups(
    client: httpx.AsyncClient, general: str, account_id: str, access_token: str
) -> ClmAnswer:
    """GET {general}/v2/{accountId}/attributegroups with the token; the count, or the cause."""
    url = attribute_groups_url(general, account_id)
    host = host_of(url)
    try:
        response = await get_with_retry(client, url, headers=bearer(access_token), attempts=2)
    except ClmWizardError as error:
        raise NetworkError(
            f"CLM did not answer: {error.what}",
            cause=f"The general host {host} could not be reached: {error.cause}".strip(),
            fix="Check the CLM general host (the Discovery step or --clm-auth-server) and the "
            "network, then try again.",
            field="clm_hosts",
            code=f"clm_{error.code or 'unreachable'}",
        ) from None
    status = response.status_code
    if status == 200:
        return ClmAnswer(_count(response), host)
    if status == 401:
        raise ClmWizardError(
            "CLM refused the token (HTTP 401 to List attribute groups).",
            cause="The token lacks the CLM scopes spring_read and spring_write, or the user has "
            "no CLM access in this account.",
            fix="Add spring_read and spring_write to the scopes and consent again; or ask a CLM "
            "administrator to give the user access to CLM in this account.",
            field="scopes",
            code="clm_401",
        )
    if status == 403:
        raise ClmWizardError(
            "CLM refused the call (HTTP 403 to List attribute groups).",
            cause="The user is not allowed to read attribute groups in this CLM account.",
            fix="Ask a CLM administrator for the user's API access and read permission, or "
            "sign in as another user.",
            field="account",
            code="clm_403",
        )
    if status == 404:
        raise ClmWizardError(
            f"{host} does not know the account (HTTP 404 to List attribute groups).",
            cause="The general host belongs to another data center or environment than the "
            "account, or the account has no CLM.",
            fix="Check the CLM hosts (Admin → System Domains in CLM lists them) and the "
            "account chosen at sign-in.",
            field="clm_hosts",
            code="clm_404",
        )
    raise ClmWizardError(
        f"CLM answered HTTP {status} to List attribute groups.",
        cause="The CLM service refused or failed.",
        fix="Try again in a few minutes; status.docusign.com lists incidents.",
        field="clm_hosts",
        code=f"clm_http_{status}",
    )


def _count(response: httpx.Response) -> int:
    payload = json_body(response)
    if isinstance(payload, dict):
        total = payload.get("Total")
        if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
            return total
        items = payload.get("Items")
        if isinstance(items, list):
            return len(items)
    raise ClmWizardError(
        "CLM answered List attribute groups without a list.",
        cause="Something other than CLM answered on the general host (a proxy or a "
        "maintenance page?), or the host is not a CLM API host.",
        fix="Check the CLM general host, then try again.",
        field="clm_hosts",
        code="clm_malformed",
    )
