"""The sign-in in progress: what the wizard has gathered, held in memory until it is stored.

Nothing here is written anywhere until the discovery step succeeds and `store_login` stores the
profile and its secrets together; quitting before that leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from clmwizard.store.profile import ClmHosts, Profile

if TYPE_CHECKING:  # imported when the steps need them: the first frame comes sooner
    from clmwizard.context import DemoSetup
    from clmwizard.docusign.consent import ConsentRequest
    from clmwizard.docusign.discovery import Account, UserInfo
    from clmwizard.docusign.environments import Environment
    from clmwizard.docusign.oauth import TokenSet


def _developer_environment() -> Environment:
    from clmwizard.docusign.environments import DEMO

    return DEMO


def _default_scopes() -> list[str]:
    from clmwizard.docusign.scopes import DEFAULT_SCOPES

    return list(DEFAULT_SCOPES)


DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass
class Draft:
    profile_name: str = ""
    environment: Environment = field(default_factory=_developer_environment)
    integration_key: str = ""
    secret_key: str = ""
    rsa_private_key: str = ""
    jwt_user_id: str = ""
    scopes: list[str] = field(default_factory=_default_scopes)
    redirect_uri: str = DEFAULT_REDIRECT_URI
    use_pkce: bool = True
    consent: ConsentRequest | None = None
    tokens: TokenSet | None = None
    userinfo: UserInfo | None = None
    account: Account | None = None
    hosts: ClmHosts | None = None
    existing: Profile | None = None  # the stored profile when re-consenting

    @classmethod
    def new(cls, name: str = "", demo: DemoSetup | None = None) -> Draft:
        """A new profile's draft: empty, or filled with the demo's test values."""
        if demo is None:
            return cls(profile_name=name)
        from clmwizard.docusign.environments import resolve_environment

        return cls(
            profile_name=name or "demo",
            environment=resolve_environment(
                auth_server=demo.auth_server, clm_auth_server=demo.clm_auth_server
            ),
            integration_key=demo.integration_key,
            secret_key=demo.secret_key,
            redirect_uri=demo.redirect_uri,
        )

    @classmethod
    def of_profile(cls, profile: Profile) -> Draft:
        """A stored profile's draft, to re-consent, see its fields or export it."""
        from clmwizard.docusign.environments import environment_of

        return cls(
            profile_name=profile.name,
            environment=environment_of(profile),
            integration_key=profile.integration_key,
            scopes=list(profile.scopes),
            redirect_uri=profile.redirect_uri,
            use_pkce=profile.use_pkce,
            jwt_user_id=profile.jwt_user_id or "",
            existing=profile,
        )

    def base_profile(self) -> Profile:
        """The profile as known before sign-in: the existing one updated, or a new one."""
        from clmwizard.docusign.profile_settings import profile_before_login

        return profile_before_login(
            self.existing,
            self.profile_name,
            self.environment,
            self.integration_key,
            self.scopes,
            self.redirect_uri,
            use_pkce=self.use_pkce,
            jwt_user_id=self.jwt_user_id or None,
        )

    def forget_sign_in(self) -> None:
        """Drop everything learned from consent onwards (e.g. after the key or scopes change)."""
        self.consent = None
        self.tokens = None
        self.userinfo = None
        self.account = None
        self.hosts = None


def now_utc() -> datetime:
    return datetime.now(UTC)
