"""Publishing the profile `acme` against the fake Power Apps API (tests/powerplatform/fake.py)
through the core's plan and execute, as the publish tests and the rotation tests drive it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.publish import PlannedConnector, execute_plan, plan_publish
from clmwizard.powerplatform.settings import make_settings
from clmwizard.store.profile import Profile
from clmwizard.store.profiles import ProfileStore
from tests.powerplatform.fake import FLOW, OID, POWER_APPS, FakePowerPlatform

SECRET = "5b7e9c1a-0d2f-4e6b-8a3c-9f1e2d3c4b5a"
SETTINGS = make_settings(power_apps_url=POWER_APPS, flow_url=FLOW)


def api_for(fake: FakePowerPlatform) -> PowerAppsApi:
    return PowerAppsApi(
        fake.client(), fake.token, OID, power_apps_url=POWER_APPS, flow_url=FLOW, backoff=0.01
    )


async def publish(
    fake: FakePowerPlatform,
    store: ProfileStore,
    layout: Any = "single",
    *,
    adopt: bool = False,
    asked: list[PlannedConnector] | None = None,
) -> Any:
    profile = store.load("acme")
    api = api_for(fake)
    plan = await plan_publish(api, profile, "env-one", layout)

    async def save(change: Callable[[Profile], None]) -> object:
        return await asyncio.to_thread(store.update, "acme", change)

    async def ask(item: PlannedConnector) -> bool:
        (asked if asked is not None else []).append(item)
        return adopt

    return await execute_plan(plan, api, profile, SETTINGS, SECRET, save=save, adopt=ask)
