"""What the wizard is started with: where profiles live, how to reach the keyring, demo setup.

Kept free of Textual so the command line builds it cheaply and tests can build their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clmwizard.powerplatform.polling import POLL_SECONDS

if TYPE_CHECKING:
    import httpx

    from clmwizard.emulator import Emulator
    from clmwizard.http import ClientFactory
    from clmwizard.powerplatform.settings import MicrosoftSettings
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore


@dataclass(frozen=True)
class DemoSetup:
    """The built-in emulator the demo runs against; its secrets are test values."""

    integration_key: str
    secret_key: str
    spare_secret_key: str
    auth_server: str
    clm_auth_server: str
    redirect_uri: str
    user_email: str
    approve: Callable[[str], str]  # plays the signed-in demo user: accepts a consent URL
    # Registers another redirect URI on the demo's integration key (None: cannot).
    register_redirect_uri: Callable[[str], None] | None = None
    jwt_user_id: str = ""  # the demo user's GUID, the integration user for JWT Grant
    # the emulator's test RSA key (PEM), made when first asked for: the demo starts no slower
    jwt_private_key: Callable[[], str] = field(default=lambda: "", repr=False)
    # The emulator's Power Platform: plays the demo user entering the newest device code.
    approve_device_code: Callable[[], str] | None = None
    # The emulator's browser stand-in: follows a connection's consent link and accepts it.
    approve_connection: Callable[[str], str] | None = None

    @classmethod
    def from_emulator(cls, emulator: Emulator, redirect_uri: str | None = None) -> DemoSetup:
        """The demo against a running emulator (its last registered redirect URI by default)."""
        from clmwizard.emulator.browser import follow_consent

        return cls(
            integration_key=emulator.integration_key,
            secret_key=emulator.secret_key,
            spare_secret_key=emulator.spare_secret_key,
            auth_server=emulator.auth_server,
            clm_auth_server=emulator.clm_auth_server,
            redirect_uri=redirect_uri or emulator.redirect_uris[-1],
            user_email=emulator.user_email,
            approve=lambda url: follow_consent(url, "accept"),
            register_redirect_uri=emulator.register_redirect_uri,
            jwt_user_id=emulator.user_id,
            jwt_private_key=lambda: emulator.jwt_private_key,
            approve_device_code=_device_code_approver(emulator),
            approve_connection=_connection_approver(emulator),
        )


def _device_code_approver(emulator: Emulator) -> Callable[[], str] | None:
    try:
        power_platform = emulator.power_platform
    except RuntimeError:  # started with power_platform=False
        return None
    return lambda: power_platform.approve_device_code()


def _connection_approver(emulator: Emulator) -> Callable[[str], str] | None:
    try:
        ca_cert = emulator.power_platform.ca_cert
    except RuntimeError:  # started with power_platform=False
        return None

    def approve(link: str) -> str:
        from clmwizard.emulator.browser import follow_consent_link

        return follow_consent_link(link, "accept", ca_cert=ca_cert).message

    return approve


@dataclass
class WizardContext:
    profiles: ProfileStore
    open_secrets: Callable[[], SecretStore]  # may raise KeyringError; called off the UI thread
    demo: DemoSetup | None = None
    initial_profile: str | None = None
    clipboard_clear_seconds: float = 30.0
    open_browser: Callable[[str], bool] = field(default=lambda url: _open_browser(url))
    consent_timeout: float = 300.0
    # Names the process on a busy callback port; None reads /proc (docusign.callback).
    port_owner: Callable[[int], str | None] | None = None
    client_factory: ClientFactory = field(
        default=lambda **options: default_client_factory(**options)
    )
    # Where the Microsoft side lives (the demo's: the emulator's Power Platform).
    microsoft: Callable[[], MicrosoftSettings] = field(default=lambda: default_microsoft())
    # How often a wait asks the Power Platform whether a connection or a run is done.
    poll_seconds: float = POLL_SECONDS


def default_client_factory(**options: Any) -> httpx.AsyncClient:
    """The product's client (clmwizard.http.make_client), imported when the first one is made;
    with `ca_bundle` (even None), the Microsoft side's."""
    from clmwizard.http import make_client

    return make_client(**options)


def default_microsoft() -> MicrosoftSettings:
    """Microsoft's public cloud, or what CLMWIZARD_CA_BUNDLE adds (powerplatform.settings)."""
    from clmwizard.powerplatform.settings import make_settings

    return make_settings()


def demo_microsoft(emulator: Emulator, ca_file: str) -> MicrosoftSettings:
    """The emulator's Power Platform, its per-start CA in `ca_file` (written by the caller)."""
    from clmwizard.powerplatform.settings import make_settings

    pp = emulator.power_platform
    return make_settings(
        authority=pp.authority_host,
        tenant=pp.tenant,
        power_apps_url=pp.power_apps_url,
        flow_url=pp.flow_url,
        ca_bundle=ca_file,
    )


def _open_browser(url: str) -> bool:
    from clmwizard.browser import open_in_browser

    return open_in_browser(url).opened
