"""Microsoft tokens stay where they were issued: the cached sign-in is bound to the authority
(with its port) and the Power Apps URL, and a Power Apps or Flow host that is not Microsoft's
gets a token only once the user confirmed it (publish --trust-server), as DocuSign servers do."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from clmwizard.cli import main
from clmwizard.emulator import Emulator
from clmwizard.errors import EXIT_USAGE, UsageError
from clmwizard.powerplatform.settings import (
    confirm_api_hosts,
    make_settings,
    unconfirmed_api_hosts,
)
from clmwizard.powerplatform.signin import (
    TokenCache,
    sign_in_device_code,
    sign_in_silently,
    stored_sign_in,
)
from clmwizard.store.profile import MS_TOKEN_CACHE
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from tests.powerplatform.fake import AUTHORITY, POWER_APPS, TENANT, FakeEntra

SETTINGS = make_settings(authority=AUTHORITY, tenant=TENANT, power_apps_url=POWER_APPS)


def cached_tokens(store: MemorySecretStore, settings: object) -> list[object]:
    import msal

    cache = TokenCache(store, "acme", settings).cache  # type: ignore[arg-type]
    return list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN))


async def test_a_cached_sign_in_is_used_only_where_it_was_issued() -> None:
    entra, store = FakeEntra(pending_polls=0), MemorySecretStore()
    async with entra.client() as http:
        first = await sign_in_device_code(SETTINGS, store, "acme", http, lambda code: None)
        again = await sign_in_silently(SETTINGS, store, "acme", http)
        elsewhere = make_settings(base=SETTINGS, power_apps_url="https://api.powerapps.other.test")
        assert await sign_in_silently(elsewhere, store, "acme", http) is None
    assert again is not None and again.access_token == first.access_token
    assert cached_tokens(store, SETTINGS)
    other_port = make_settings(base=SETTINGS, authority="https://login.fake.test:8443/")
    assert other_port.authority_url != SETTINGS.authority_url
    assert cached_tokens(store, other_port) == []  # MSAL's own keys drop the port
    stored = json.loads(store.get("acme", MS_TOKEN_CACHE) or "")
    assert stored["bound_to"] == f"{SETTINGS.authority_url} {POWER_APPS}"
    found = stored_sign_in(store, "acme")
    assert found is not None and found.usernames == ("maker@contoso.test",)


def test_an_unbound_cache_is_not_trusted() -> None:
    """A cache stored before the binding (or edited) names no place: it is not used."""
    store = MemorySecretStore()
    store.set_many("acme", {MS_TOKEN_CACHE: json.dumps({"AccessToken": {"k": {"secret": "t"}}})})
    assert cached_tokens(store, SETTINGS) == []
    assert stored_sign_in(store, "acme") is None


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://api.powerapps.com", True),
        ("https://gov.api.powerapps.us", True),
        ("https://api.flow.microsoft.com", True),
        ("https://127.0.0.1:8443", True),  # the emulator's (the demo's): loopback
        ("https://localhost:9", True),
        ("https://api.powerapps.com.evil.example", False),
        ("https://evilpowerapps.com", False),
        ("https://api.powerapps.test", False),
    ],
)
def test_power_apps_hosts_outside_microsofts_domains_need_confirmation(
    url: str, trusted: bool
) -> None:
    settings = make_settings(power_apps_url=url)
    assert (unconfirmed_api_hosts(settings, []) == []) is trusted


def test_confirming_a_host_once_records_it(signed_in: Callable[..., None]) -> None:
    signed_in()
    profiles = ProfileStore()
    settings = make_settings(power_apps_url="https://pa.proxy.example:8443")
    with pytest.raises(UsageError) as caught:
        confirm_api_hosts(profiles, profiles.load("acme"), settings, trust=False)
    assert caught.value.code == "untrusted_api" and "pa.proxy.example:8443" in caught.value.what
    confirm_api_hosts(profiles, profiles.load("acme"), settings, trust=True)
    assert profiles.load("acme").trusted_api_hosts == ["pa.proxy.example:8443"]
    confirm_api_hosts(profiles, profiles.load("acme"), settings, trust=False)  # asked once
    other_port = make_settings(power_apps_url="https://pa.proxy.example:9443")
    with pytest.raises(UsageError):
        confirm_api_hosts(profiles, profiles.load("acme"), other_port, trust=False)


def test_publish_refuses_an_unconfirmed_power_apps_url_before_signing_in(
    microsoft: Emulator,
    signed_in: Callable[..., None],
    publish_argv: Callable[..., list[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    signed_in()
    before = len(microsoft.request_log)
    code = main(publish_argv("--power-apps-url", "https://api.powerapps.evil.example"))
    out, err = capsys.readouterr()
    assert code == EXIT_USAGE, out + err
    assert "api.powerapps.evil.example" in err and "--trust-server" in err
    assert [r for r in microsoft.request_log[before:] if "token" in r[2]] == []
