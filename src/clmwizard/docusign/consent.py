"""The consent URL (state + PKCE) and reading the code DocuSign sends back."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from clmwizard.docusign.environments import Environment
from clmwizard.errors import ClmWizardError, UsageError
from clmwizard.redact import register_secret

_CODE_CHARS = re.compile(r"^[A-Za-z0-9._~+/=-]{8,4096}$")


class ConsentDeclined(ClmWizardError):
    """DocuSign sent an error to the redirect URI instead of a code: this sign-in is over."""


@dataclass(frozen=True)
class ConsentRequest:
    url: str
    state: str
    code_verifier: str | None
    redirect_uri: str


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_consent_request(
    env: Environment,
    integration_key: str,
    scopes: Sequence[str],
    redirect_uri: str,
    *,
    use_pkce: bool = True,
    prompt_login: bool = False,
) -> ConsentRequest:
    state = secrets.token_urlsafe(16)  # 128 random bits
    params = {
        "response_type": "code",
        "scope": " ".join(scopes),
        "client_id": integration_key,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    verifier = None
    if use_pkce:
        verifier = secrets.token_urlsafe(48)  # 64 characters, within RFC 7636's 43..128
        register_secret(verifier)
        params["code_challenge"] = pkce_challenge(verifier)
        params["code_challenge_method"] = "S256"
    if prompt_login:
        params["prompt"] = "login"
    url = f"{env.authorization_url}?{urlencode(params, quote_via=quote)}"
    return ConsentRequest(url=url, state=state, code_verifier=verifier, redirect_uri=redirect_uri)


def declined_error(error: str, description: str | None) -> ConsentDeclined:
    """The error DocuSign sent back to the redirect URI instead of a code."""
    if error == "access_denied":
        return ConsentDeclined(
            "You declined the consent in DocuSign (access_denied).",
            cause="The consent page was answered with Decline, so DocuSign issued no code.",
            fix="Run the sign-in again and choose Accept (Allow Access) on the consent page.",
            wizard_fix="Press r to listen again, open the consent URL and choose Accept (Allow "
            "Access).",
            code="access_denied",
        )
    detail = f": {description}" if description else ""
    return ConsentDeclined(
        f"DocuSign sent you back with an error instead of a code ({error}{detail}).",
        cause="DocuSign refused the consent request itself; the scopes, the integration key or "
        "its settings are the usual suspects.",
        fix="Check the key's settings in Apps and Keys (Authorization Code Grant, redirect URI), "
        "the scopes, then sign in again.",
        field="scopes" if error == "invalid_scope" else None,
        code=error,
    )


def code_from_params(
    params: Mapping[str, str], expected_state: str, *, require_state: bool
) -> str | None:
    """The code in redirect query parameters; None when there is neither a code nor an error."""
    state = params.get("state")
    if state is not None and state != expected_state:
        raise ClmWizardError(
            "This sign-in answer belongs to another consent request (state does not match).",
            cause="The address comes from an older or a different sign-in attempt, or from "
            "someone else's link.",
            fix="Use the consent URL printed by this run, then paste the address it ends on.",
            wizard_fix="Use the consent URL shown on this screen (u copies it), then paste the "
            "address it ends on.",
            code="state_mismatch",
        )
    code = params.get("code")
    if state is None and require_state and ("error" in params or code):
        raise ClmWizardError(
            "DocuSign's answer carries no state.",
            cause="Without it clmwizard cannot tell the answer belongs to this sign-in.",
            fix="Sign in again with the consent URL printed by this run.",
            wizard_fix="Sign in again with the consent URL shown on this screen (u copies it).",
            code="state_missing",
        )
    if "error" in params:
        raise declined_error(params["error"], params.get("error_description"))
    if not code:
        return None
    register_secret(code)
    return code


def _single(query: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}


def code_from_pasted(text: str, expected_state: str) -> str:
    """The code from a pasted redirected URL, a query string, or the bare code."""
    value = text.strip().strip("'\"<>").strip()
    if not value:
        raise UsageError(
            "Nothing was pasted.",
            fix="Paste the whole address the browser ended on (it starts with the redirect URI "
            "and contains code=…).",
            field="paste",
        )
    if "://" in value or "?" in value or "=" in value:
        query = value
        if "://" in value:
            try:
                parts = urlsplit(value)
                query = parts.query or parts.fragment
            except ValueError:  # e.g. a broken IPv6 literal: the query is still readable
                query = value.partition("?")[2]
        elif "?" in value:
            query = value.split("?", 1)[1]
        params = _single(query)
        code = code_from_params(params, expected_state, require_state=False)
        if code is None:
            raise UsageError(
                "The pasted address carries no code.",
                cause="It looks like the consent URL or another page, not the address DocuSign "
                "sent you back to.",
                fix="After Accept, the browser goes to the redirect URI with ?code=…&state=…: "
                "paste that address (even if the page itself shows an error).",
                field="paste",
            )
        return code
    if not _CODE_CHARS.match(value):
        raise UsageError(
            "That is neither an address nor a code.",
            fix="Paste the whole address the browser ended on (it contains code=…).",
            field="paste",
        )
    register_secret(value)
    return value
