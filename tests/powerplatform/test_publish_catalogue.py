"""Publishing into a tenant that looks like a real one: the emulator's paged catalogue of 1,300
managed connectors before the tenant's own, each PATCH-answer variant, a custom-connector filter
the service may not honour, one broken answer among three, two publishes at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from clmwizard.emulator import Emulator
from clmwizard.errors import ClmWizardError
from clmwizard.http import make_client
from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.publish import (
    PlannedConnector,
    PublishResult,
    connector_payloads,
    plan_publish,
    publish,
    request_body,
    summarise,
)
from clmwizard.powerplatform.settings import MicrosoftSettings, make_settings
from clmwizard.powerplatform.signin import sign_in_service_principal
from clmwizard.store.profiles import ProfileStore
from clmwizard.store.secrets import MemorySecretStore
from tests.support.store_fixtures import make_profile

SECRET = "5b7e9c1a-0d2f-4e6b-8a3c-9f1e2d3c4b5a"


@dataclass
class Tenant:
    emu: Emulator
    api: PowerAppsApi
    settings: MicrosoftSettings
    store: ProfileStore

    @property
    def environment(self) -> str:
        return self.emu.power_platform.default_environment

    def stored(self) -> list[dict[str, Any]]:
        return self.emu.power_platform.connectors(self.environment)

    async def publish(self, layout: Any, *, adopt: bool = False, name: str = "acme") -> Any:
        profile = self.store.load(name)
        plan = await plan_publish(self.api, profile, self.environment, layout)

        async def ask(item: PlannedConnector) -> bool:
            return adopt

        return await publish(plan, self.api, self.store, self.settings, SECRET, adopt=ask)


@pytest.fixture
async def tenant(microsoft: Emulator) -> AsyncIterator[Tenant]:
    pp = microsoft.power_platform
    settings = make_settings(
        authority=pp.authority_host,
        tenant=pp.tenant,
        client_id=pp.client_id,
        power_apps_url=pp.power_apps_url,
        flow_url=pp.flow_url,
    )
    store = ProfileStore()
    store.save(make_profile("acme"))
    async with make_client(ca_bundle=pp.ca_cert) as http:
        who = await sign_in_service_principal(
            settings, MemorySecretStore(), "acme", http, pp.client_secret
        )
        api = PowerAppsApi(
            http,
            who.access_token,
            who.object_id,
            power_apps_url=settings.power_apps_url,
            flow_url=settings.flow_url,
            backoff=0.01,
        )
        yield Tenant(microsoft, api, settings, store)


@pytest.mark.parametrize("patch_answer", ["connector", "empty", "204"])
@pytest.mark.parametrize("layout", ["single", "three"])
async def test_twice_into_the_real_size_catalogue_creates_once_then_updates(
    layout: str, patch_answer: str, tenant: Tenant
) -> None:
    pp = tenant.emu.power_platform
    # The service may ignore IsCustomApi: then the whole catalogue comes, page by page.
    pp.set_behaviour(patch_answer=patch_answer, honour_custom_filter=False)
    count = 1 if layout == "single" else 3
    first = await tenant.publish(layout)
    assert first.ok, summarise(first)
    assert [o.action for o in first.outcomes] == ["create"] * count
    second = await tenant.publish(layout)
    assert second.ok, summarise(second)
    assert [o.action for o in second.outcomes] == ["update"] * count
    assert len(tenant.stored()) == count
    assert {o.connector_id for o in first.outcomes} == {o.connector_id for o in second.outcomes}
    for outcome in second.outcomes:  # read back with GET whatever the PATCH answered
        # the emulator's consent origin stands in for global.consent.azure-apim.net
        assert outcome.redirect_url and outcome.redirect_url.startswith(
            f"{pp.consent_url}/redirect/"
        )
    (record,) = tenant.store.load("acme").publications
    assert {c.connector_id for c in record.connectors} == {o.connector_id for o in first.outcomes}


async def test_a_recorded_connector_on_the_last_page_is_updated_and_a_lost_one_adopted(
    tenant: Tenant,
) -> None:
    pp = tenant.emu.power_platform
    env = tenant.environment
    others = connector_payloads(make_profile("other"), "three")
    for index, payload in enumerate(others * 2):  # six custom connectors of someone else
        body = request_body(payload, env, SECRET, "", create=True)
        body["properties"]["displayName"] = f"Someone else's {index}"
        await tenant.api.create_connector(env, body)
    first = await tenant.publish("single")
    assert first.ok, summarise(first)
    pp.set_behaviour(page_size=2)  # the profile's connector is on the last of four pages
    custom = await tenant.api.list_connectors(env)
    assert custom[-1].connector_id == first.outcomes[0].connector_id and len(custom) == 7
    again = await tenant.publish("single")
    assert [o.action for o in again.outcomes] == ["update"]
    tenant.store.update("acme", lambda p: p.publications.clear())  # the record is lost
    plan = await plan_publish(tenant.api, tenant.store.load("acme"), env, "single")
    (item,) = plan.connectors
    assert item.action == "adopt" and item.connector_id == first.outcomes[0].connector_id
    adopted = await tenant.publish("single", adopt=True)
    assert adopted.ok and len(tenant.stored()) == 7


async def test_a_list_that_cannot_be_read_in_full_stops_before_creating(
    tenant: Tenant,
) -> None:
    pp = tenant.emu.power_platform
    pp.set_behaviour(page_size=1, honour_custom_filter=False)  # 1,300 pages: over the bound
    with pytest.raises(ClmWizardError) as caught:
        await plan_publish(tenant.api, tenant.store.load("acme"), tenant.environment, "single")
    assert caught.value.code == "catalogue_incomplete"
    assert "nothing was created" in caught.value.cause
    assert tenant.stored() == []


async def test_one_garbled_create_answer_leaves_every_connector_recorded(tenant: Tenant) -> None:
    profile = tenant.store.load("acme")
    plan = await plan_publish(tenant.api, profile, tenant.environment, "three")
    # The first request to /apis from here on is a create: the service makes the connector,
    # its answer arrives labelled gzip and does not decompress.
    tenant.emu.inject_fault("powerapps", "/providers/Microsoft.PowerApps/apis", bad_gzip=True)

    async def no(item: PlannedConnector) -> bool:
        return False

    result: PublishResult = await publish(
        plan, tenant.api, tenant.store, tenant.settings, SECRET, adopt=no
    )
    assert len(tenant.stored()) == 3
    recorded = tenant.store.load("acme").publications[0].connectors
    assert {c.connector_id for c in recorded} == {c["name"] for c in tenant.stored()}
    garbled = [o for o in result.outcomes if o.error is not None]
    assert len(garbled) == 1 and garbled[0].error is not None
    # clmwizard.http names it (a plain error), so no "unreadable answer" guess is needed
    assert garbled[0].error.code == "bad_encoding" and garbled[0].exists
    assert "does not decompress" in garbled[0].error.what
    lines = summarise(result)
    assert sum(line.startswith("✓") for line in lines) == 2
    assert any(line.startswith("✗") and "exists (" in line for line in lines)
    rerun = await tenant.publish("three")
    assert rerun.ok and [o.action for o in rerun.outcomes] == ["update"] * 3


async def test_two_publishes_at_once_never_make_a_duplicate(tenant: Tenant) -> None:
    profile = tenant.store.load("acme")
    plans = [await plan_publish(tenant.api, profile, tenant.environment, "three") for _ in range(2)]
    assert all(item.action == "create" for plan in plans for item in plan.connectors)

    async def no(item: PlannedConnector) -> bool:
        return False

    results = await asyncio.gather(
        *(
            publish(plan, tenant.api, ProfileStore(), tenant.settings, SECRET, adopt=no)
            for plan in plans
        )
    )
    assert all(result.ok for result in results), [summarise(r) for r in results]
    assert len(tenant.stored()) == 3
    assert sorted(o.action for r in results for o in r.outcomes) == ["create"] * 3 + ["update"] * 3


async def test_a_publish_waiting_too_long_names_the_holder(tenant: Tenant) -> None:
    profile = tenant.store.load("acme")
    plan = await plan_publish(tenant.api, profile, tenant.environment, "single")
    impatient = ProfileStore(grant_lock_timeout=0.2)

    async def no(item: PlannedConnector) -> bool:
        return False

    held = tenant.store.connector_lock("acme", "clmwizard publish --profile acme")
    with held, pytest.raises(ClmWizardError) as caught:
        await publish(plan, tenant.api, impatient, tenant.settings, SECRET, adopt=no)
    assert caught.value.code == "locked"
    assert "clmwizard publish --profile acme" in caught.value.what
    assert tenant.stored() == []
