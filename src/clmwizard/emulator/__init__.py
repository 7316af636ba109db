"""A faithful local stand-in for DocuSign's account server and the CLM hosts.

Used by the tests, by `clmwizard --demo` and by `clmwizard emulator`. It carries its own
knowledge of DocuSign (see /work/shared/reference/docusign.md) and imports nothing from the
client core, so a wrong client assumption is caught rather than mirrored.

    from clmwizard.emulator import Emulator

    with Emulator(auto_consent=False, redirect_uris=(), accounts=1) as emu:
        emu.auth_server        # /oauth/auth, /oauth/consent, /oauth/token, /oauth/userinfo
        emu.clm_auth_server    # GET /api/v2/{accountId}/account (CLM base-URL discovery)
        emu.clm_hosts          # {"general": ..., "upload": ..., "download": ...}
        emu.integration_key, emu.secret_key, emu.spare_secret_key, emu.redirect_uris
        emu.user_email, emu.user_id, emu.user_name, emu.account_id, emu.accounts
        emu.info()             # the first JSON line `clmwizard emulator` prints

Every origin is a stdlib threaded HTTP server on a loopback port, served from daemon threads.

With `power_platform=True` (the default) it also runs a local Power Platform over TLS: Entra ID,
the Power Apps and Flow APIs and blob storage (`emu.power_platform`; see
`clmwizard.emulator.powerplatform`), and `info()` carries its "power_platform" object.

What it does like DocuSign (and our choices, where DocuSign's answer is unconfirmed):

- `/oauth/auth` checks response_type, client_id, redirect_uri (exact match), scope (known names
  only) and PKCE (`S256`; `plain` only when the app settings allow it; a request without a
  challenge is refused when the app requires PKCE); any error is an HTML page with status 400
  and no redirect. Otherwise it shows a consent page (form POST to `/oauth/consent`, buttons
  `decision=accept|decline`), or redirects at once with a code when the user already consented
  to these scopes (or `auto_consent`), unless `prompt=login`.
- Codes: single use, 120 s on the emulator clock, bound to key, redirect URI, scopes, PKCE.
- `/oauth/token` (form body; client credentials in the Basic header or as `client_id` and
  `client_secret` in the body, not both; a public app sends only `client_id` and the PKCE
  `code_verifier`): `authorization_code` and `refresh_token`. Errors are
  400 `{"error", "error_description"}`: `invalid_grant` for bad, expired or reused codes and
  refresh tokens, a wrong PKCE verifier, a bad Basic header and a key this server does not know
  (description `unknown_client`: our choice); `invalid_grant` + `expired_client_token` when the
  integration key is sent as the secret; `invalid_grant` + `unauthorized_client` for a wrong or
  revoked secret, as the public evidence shows (`invalid_client` selectable: no DocuSign source
  shows it); `invalid_request` for a non-form body (our choice, per the brief;
  users report DocuSign answering `invalid_grant` there); `unsupported_grant_type` otherwise.
- JWT Grant (`clmwizard.emulator.jwt_grant`): no Basic header; RS256 checked against the public
  half of a key pair made per start (`emu.jwt_private_key`, `jwt_private_key` in `info()`);
  consent per user and scope set (the consent page with `impersonation` records it); 1-hour
  tokens, no refresh token; `consent_required`, `invalid_grant` + `no_valid_keys_or_signatures`
  (wrong key, iat in the future, expired), `issuer_not_found`, `user_not_found`.
- Access tokens live 28800 s. Refresh tokens live 30 days; a refresh with `extended` in the
  grant gives a new full 30 days, without it the new token keeps the first expiry. A refreshed
  token stops working.
- `/oauth/userinfo` lists the accounts; with several, the default is listed second. `base_uri`
  is the auth server origin (eSignature itself is not emulated).
- CLM: see `clmwizard.emulator.clm` (trailing "/" on the discovered base URLs, 401 without a
  spring scope, 403 without the one an operation needs, asynchronous tasks).

Test controls, in Python and over HTTP on the auth server (JSON bodies; not in `request_log`):

    emu.advance_clock(3600)                 POST   /_emulator/clock          {"advance": 3600}
         (scheduled flows of the Power Platform fire at their times on the way)
    emu.revoke_consent()                    POST   /_emulator/revoke-consent
    emu.grant_jwt_consent(["signature"])    POST   /_emulator/jwt-consent    {"scopes": [...]}
    emu.revoke_jwt_consent()                DELETE /_emulator/jwt-consent
    emu.revoke_secret("secret_key")         POST   /_emulator/revoke-secret  {"which": "secret_key"}
    emu.configure_app(require_pkce=True)    POST   /_emulator/app            {"require_pkce": true}
         fields: wrong_secret_error ("invalid_grant" | "invalid_client"),
         wrong_secret_description ("" for none), require_pkce, allow_plain_pkce, public_client
    emu.register_redirect_uri(uri)          POST   /_emulator/redirect-uris  {"uri": "..."}
    emu.clear_redirect_uris()               DELETE /_emulator/redirect-uris
    emu.inject_fault("general", "/v2", status=429, retry_after=2, count=1)
                                            POST   /_emulator/faults         {"origin": "general",
                                                   "path_prefix": "/v2", "status": 429, ...}
    emu.clear_faults()                      DELETE /_emulator/faults
    emu.info()                              GET    /_emulator/info
    emu.request_log                         GET    /_emulator/requests

Fault fields: origin ("auth", "clm_auth", "general", "upload", "download", and for the Power
Platform "entra", "powerapps", "flow", "blob", "consent"), path_prefix, status,
count (0 or less: until cleared), latency (seconds, real sleep), drop (close the socket without
an answer), malformed (200 with truncated JSON), retry_after (a Retry-After header).
`Emulator(auto_register_redirects=True)` (`clmwizard emulator --auto-register-redirects`)
registers each Power Platform connector's redirect URL on the integration key once it exists.
`emu.issued_secrets()` returns every secret it generated or issued, for leak scans.
"""

from clmwizard.emulator.server import Emulator

__all__ = ["Emulator"]
