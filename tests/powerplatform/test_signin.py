"""MSAL sign-in through the injected http client: device code, service principal, the token
cache in the secret store (never a file), errors in plain words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clmwizard.errors import ClmWizardError
from clmwizard.powerplatform.settings import make_settings
from clmwizard.powerplatform.signin import (
    DeviceCode,
    sign_in_device_code,
    sign_in_service_principal,
    sign_in_silently,
    stored_sign_in,
)
from clmwizard.store.profile import MS_TOKEN_CACHE
from clmwizard.store.secrets import MemorySecretStore
from tests.powerplatform.fake import AUTHORITY, OID, TENANT, FakeEntra

SETTINGS = make_settings(authority=AUTHORITY, tenant=TENANT)


async def test_device_code_shows_the_code_then_signs_in_and_caches_in_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    entra, store = FakeEntra(pending_polls=2), MemorySecretStore()
    shown: list[DeviceCode] = []
    async with entra.client() as http:
        who = await sign_in_device_code(SETTINGS, store, "acme", http, shown.append)
    assert [code.user_code for code in shown] == ["ABCD-EFGH"]
    assert shown[0].verification_uri == "https://microsoft.com/devicelogin"
    assert who.object_id == OID and who.username == "maker@contoso.test"
    assert who.access_token in entra.issued and who.access_token not in repr(who)
    cache = store.get("acme", MS_TOKEN_CACHE)
    assert cache and who.access_token in cache  # MSAL's cache, in the secret store
    assert list(tmp_path.iterdir()) == []  # and nothing written to a file
    found = stored_sign_in(store, "acme")
    assert found is not None and found.usernames == ("maker@contoso.test",)


async def test_a_cached_sign_in_is_used_silently() -> None:
    entra, store = FakeEntra(pending_polls=0), MemorySecretStore()
    async with entra.client() as http:
        first = await sign_in_device_code(SETTINGS, store, "acme", http, lambda code: None)
        polls = len(entra.requests)
        again = await sign_in_silently(SETTINGS, store, "acme", http)
    assert again is not None and again.access_token == first.access_token
    assert not [r for r in entra.requests[polls:] if "devicecode" in r.url.path]
    assert await sign_in_silently(SETTINGS, MemorySecretStore(), "acme", entra.client()) is None


async def test_an_expired_device_code_is_said_plainly() -> None:
    entra = FakeEntra(pending_polls=1, device_error="expired_token")
    async with entra.client() as http:
        with pytest.raises(ClmWizardError) as caught:
            await sign_in_device_code(SETTINGS, MemorySecretStore(), "acme", http, lambda c: None)
    assert caught.value.code == "device_code_expired"
    assert "expired" in caught.value.what and "AADSTS70020" in caught.value.cause


async def test_service_principal_signs_in_and_a_wrong_secret_is_named() -> None:
    entra, store = FakeEntra(), MemorySecretStore()
    async with entra.client() as http:
        who = await sign_in_service_principal(SETTINGS, store, "acme", http, entra.sp_secret)
        assert who.object_id == OID and who.method == "service_principal"
        with pytest.raises(ClmWizardError) as caught:
            await sign_in_service_principal(SETTINGS, store, "other", http, "wrong-" + "y" * 20)
    assert caught.value.code == "invalid_client_secret"
    assert "CLMWIZARD_MS_CLIENT_SECRET" in caught.value.fix
    cache = store.get("acme", MS_TOKEN_CACHE) or ""
    assert entra.sp_secret not in cache and "wrong-" not in cache
    assert json.loads(cache)  # the app token is cached, the secret never


def test_settings_are_checked() -> None:
    with pytest.raises(ClmWizardError):
        make_settings(power_apps_url="http://api.powerapps.com")
    with pytest.raises(ClmWizardError):
        make_settings(client_id="not-a-guid")
    defaults = make_settings()
    assert defaults.authority_url == "https://login.microsoftonline.com/common"
    assert defaults.is_microsoft_authority and not SETTINGS.is_microsoft_authority
    for sovereign in ("https://login.microsoftonline.us/", "https://login.sovcloud-identity.fr/"):
        assert make_settings(authority=sovereign).is_microsoft_authority  # MSAL's own list
    assert defaults.scope == "https://service.powerapps.com/.default"


def test_an_authority_with_its_tenant_is_split() -> None:
    settings = make_settings(authority="https://login.microsoftonline.us/contoso.onmicrosoft.com")
    assert settings.authority == "https://login.microsoftonline.us/"
    assert settings.tenant == "contoso.onmicrosoft.com"
    assert settings.authority_url == "https://login.microsoftonline.us/contoso.onmicrosoft.com"
    both = make_settings(authority="https://login.fake.test/", tenant=TENANT)
    assert both.authority_url == f"https://login.fake.test/{TENANT}"
