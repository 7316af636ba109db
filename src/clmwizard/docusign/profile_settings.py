"""The profile as known before sign-in: what the user chose, on top of the stored profile.

Built here once for the wizard's draft and for `clmwizard login`.
"""

from __future__ import annotations

from dataclasses import replace

from clmwizard.docusign.environments import Environment
from clmwizard.store.profile import Profile


def profile_before_login(
    existing: Profile | None,
    name: str,
    env: Environment,
    integration_key: str,
    scopes: list[str],
    redirect_uri: str,
    *,
    use_pkce: bool,
    jwt_user_id: str | None,
) -> Profile:
    """The existing profile with these settings, or a new profile named `name`."""
    if existing is None:
        existing = Profile(
            name,
            env.name,
            env.auth_server,
            env.clm_auth_server,
            integration_key,
            scopes,
            redirect_uri,
        )
    same_jwt = (existing.jwt_user_id, existing.integration_key, existing.auth_server) == (
        jwt_user_id,
        integration_key,
        env.auth_server,
    )
    return replace(
        existing,
        environment=env.name,
        auth_server=env.auth_server,
        clm_auth_server=env.clm_auth_server,
        integration_key=integration_key,
        scopes=list(scopes),
        redirect_uri=redirect_uri,
        use_pkce=use_pkce,
        jwt_user_id=jwt_user_id,
        # the last JWT check was about another user or key: stale, so dropped
        jwt_consent=existing.jwt_consent if same_jwt else None,
    )
