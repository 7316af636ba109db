"""What publishing and rotation start from, decided here so the CLI and the wizard only ask and
show: the Microsoft settings, the API of a sign-in, the secret key the connectors carry, the
environment offered first, and a first call retried once with a fresh sign-in when a cached
token is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from clmwizard.errors import ClmWizardError, GrantDeadError, UsageError
from clmwizard.powerplatform.settings import MicrosoftChoices, MicrosoftSettings, make_settings
from clmwizard.redact import register_secret
from clmwizard.store.profile import SECRET_KEY, MicrosoftUserSignIn, Profile, PublishRecord

if TYPE_CHECKING:
    import httpx

    from clmwizard.powerplatform.api import PowerAppsApi, PowerEnvironment
    from clmwizard.powerplatform.flows import FlowApi
    from clmwizard.powerplatform.signin import MicrosoftSignIn
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import SecretStore

T = TypeVar("T")


def settings_from(
    record: PublishRecord | None = None,
    *,
    base: MicrosoftSettings | None = None,
    **given: Unpack[MicrosoftChoices],
) -> MicrosoftSettings:
    """The given values over what `record` was published with, over `base` or the defaults."""
    if record is not None:
        base = make_settings(
            client_id=record.client_id,
            tenant=record.tenant,
            authority=record.authority,
            power_apps_url=record.power_apps_url,
            flow_url=record.flow_url,  # recorded since connect/heartbeat (None in older files)
            base=base,
        )
    return make_settings(**given, base=base)


def user_settings(
    profile: Profile,
    record: PublishRecord | None = None,
    *,
    base: MicrosoftSettings | None = None,
    **given: Unpack[MicrosoftChoices],
) -> MicrosoftSettings:
    """For a sign-in as a person (connect, heartbeat, status, the wizard's Connect and
    Heartbeat): the given values over the user sign-in the profile remembers, over what
    `record` was published with (perhaps by a service principal), over `base` or the defaults.
    The Flow API and the consent link refuse a service principal's app-only token."""
    settings = settings_from(record, base=base)
    user = profile.microsoft_user
    if user is not None:
        settings = make_settings(
            client_id=user.client_id, tenant=user.tenant, authority=user.authority, base=settings
        )
    return make_settings(**given, base=settings)


def remember_user_sign_in(profiles: ProfileStore, name: str, settings: MicrosoftSettings) -> None:
    """Record the Microsoft settings a person signed in with, so the later commands and the
    wizard sign in the same way without the flags (no write when already recorded)."""
    signed = MicrosoftUserSignIn(settings.client_id, settings.tenant, settings.authority)

    def change(profile: Profile) -> None:
        profile.microsoft_user = signed

    if profiles.load(name).microsoft_user != signed:
        profiles.update(name, change)


def make_api(
    http: httpx.AsyncClient, who: MicrosoftSignIn, settings: MicrosoftSettings
) -> PowerAppsApi:
    from clmwizard.powerplatform.api import PowerAppsApi

    return PowerAppsApi(
        http,
        who.access_token,
        who.object_id,
        power_apps_url=settings.power_apps_url,
        flow_url=settings.flow_url,
    )


def docusign_secret(secrets: SecretStore, profile: Profile) -> str:
    """The profile's DocuSign secret key: every connector carries it as its client secret."""
    value = secrets.get(profile.name, SECRET_KEY)
    if not value:
        raise GrantDeadError(
            f"The profile {profile.name} has no secret key in the keyring.",
            cause="The connectors need it as their client secret.",
            fix=f"Sign in again: clmwizard login --profile {profile.name} --integration-key "
            f"{profile.integration_key}",
            code="missing_secret_key",
        )
    register_secret(value)
    return value


def no_environments() -> ClmWizardError:
    return ClmWizardError(
        "This Microsoft account sees no Power Platform environment.",
        fix="Sign in with the account you use in Power Automate, or ask an administrator "
        "for access to an environment.",
        code="no_environments",
    )


def environment_needed() -> UsageError:
    return UsageError(
        "A service principal cannot list the environments: the Flow API refuses app-only tokens.",
        fix="Give --environment with the environment's id (Power Platform admin centre → "
        "Environments → the environment → Environment ID).",
        field="environment",
        code="environment_needed",
    )


async def list_environments(api: PowerAppsApi, who: MicrosoftSignIn) -> list[PowerEnvironment]:
    """The environments to choose from; never empty (a plain error instead)."""
    if who.method == "service_principal":
        raise environment_needed()
    found = await api.list_environments()
    if not found:
        raise no_environments()
    return found


def default_environment(environments: Sequence[PowerEnvironment], profile: Profile) -> str:
    """Where this profile published before, else the tenant's default, else the first."""
    recorded = {record.environment_id for record in profile.publications}
    for environment in environments:
        if environment.environment_id in recorded:
            return environment.environment_id
    for environment in environments:
        if environment.is_default:
            return environment.environment_id
    return environments[0].environment_id


async def retried_once(
    sign_in: Callable[[bool], Awaitable[MicrosoftSignIn]],
    forget: Callable[[], Awaitable[None]],
    call: Callable[[MicrosoftSignIn], Awaitable[T]],
) -> tuple[MicrosoftSignIn, T]:
    """`call` with a sign-in (a cached one allowed); when the service refuses a token MSAL took
    from its cache (HTTP 401: revoked, or for another service), drop the cached sign-in, sign in
    afresh once and call again. `sign_in(allow_cached)`."""
    who = await sign_in(True)
    try:
        return who, await call(who)
    except ClmWizardError as error:
        if error.code != "http_401" or not who.from_cache:
            raise
    await forget()
    who = await sign_in(False)
    return who, await call(who)


# -- connect, heartbeat and status: the Flow API beside the Power Apps API -----------------


def no_flow_token() -> ClmWizardError:
    return ClmWizardError(
        "Microsoft gave no token for the Flow API from the cached sign-in.",
        cause="The account may not be allowed Power Automate (service.flow.microsoft.com).",
        fix="Sign in again with an account that can make flows; with your organisation's "
        "own app registration, give it the Power Automate (Flow Service) permission.",
        code="no_flow_token",
    )


async def flow_sign_in(
    http: httpx.AsyncClient, settings: MicrosoftSettings, secrets: SecretStore, profile: str
) -> MicrosoftSignIn:
    """The Flow API's token, silently from the same MSAL account as the Power Apps sign-in
    (MSAL redeems its refresh token for the other resource): no second device code."""
    from clmwizard.powerplatform import signin

    flow_who = await signin.sign_in_silently(settings.for_flow, secrets, profile, http)
    if flow_who is None:
        raise no_flow_token()
    return flow_who


def make_apis(
    http: httpx.AsyncClient,
    settings: MicrosoftSettings,
    who: MicrosoftSignIn,
    flow_who: MicrosoftSignIn | None,
    *,
    secrets: SecretStore | None = None,
    profile: str = "",
) -> tuple[PowerAppsApi, FlowApi | None]:
    """The two APIs; with `secrets`, a token the service refuses (401) although MSAL still
    thinks it valid (revoked, or a clock that disagrees) is renewed silently once."""
    from clmwizard.powerplatform.api import PowerAppsApi
    from clmwizard.powerplatform.flows import FlowApi

    def build(kind: Any, token: MicrosoftSignIn, scoped: MicrosoftSettings) -> Any:
        api = kind(
            http,
            token.access_token,
            token.object_id,
            power_apps_url=settings.power_apps_url,
            flow_url=settings.flow_url,
        )
        if secrets is not None:
            api.renew_token = lambda: renewed_token(http, scoped, secrets, profile)
        return api

    flows = build(FlowApi, flow_who, settings.for_flow) if flow_who is not None else None
    return build(PowerAppsApi, who, settings), flows


async def renewed_token(
    http: httpx.AsyncClient, settings: MicrosoftSettings, secrets: SecretStore, profile: str
) -> str | None:
    """A fresh access token from the cached sign-in (MSAL force_refresh), or None."""
    from clmwizard.powerplatform import signin

    try:
        fresh = await signin.sign_in_silently(settings, secrets, profile, http, force_refresh=True)
    except ClmWizardError:
        return None
    return fresh.access_token if fresh is not None else None
