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
    if existing is not None:
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
        )
    return Profile(
        name=name,
        environment=env.name,
        auth_server=env.auth_server,
        clm_auth_server=env.clm_auth_server,
        integration_key=integration_key,
        scopes=list(scopes),
        redirect_uri=redirect_uri,
        use_pkce=use_pkce,
        jwt_user_id=jwt_user_id,
    )
