"""Publishing three connectors vs one with 300 ms injected on every Power Platform call (run on
demand, never in the test suite): `.venv/bin/python benchmarks/publish.py [--runs N]`.

Targets: three connectors take at most 1.5× the time of one, because the connectors of a profile
are published concurrently; and publishing into the real-size catalogue (1,300 managed
connectors before the tenant's own) takes at most 1.5× the three-connector figure measured
before the catalogue existed (1.97 s, docs/benchmarks.md). Each run publishes into a fresh
environment of the emulator (so every connector is a create) under the profile's connector
lock, after one service-principal sign-in outside the timing. `--unfiltered` makes the service
ignore `IsCustomApi eq 'True'`, so the whole catalogue comes page by page.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LATENCY = 0.3
TARGET = 1.5
BEFORE_THREE = 1.97  # s: three connectors, before the catalogue (3 managed entries, one page)


async def publish_once(
    emu: Any, profile: Any, profiles: Any, api: Any, settings: Any, layout: Any
) -> float:
    from clmwizard.powerplatform.publish import plan_publish, publish

    environment = emu.power_platform.add_environment(f"bench {time.monotonic_ns()}")

    async def no(item: Any) -> bool:
        return False

    start = time.perf_counter()
    plan = await plan_publish(api, profile, environment, layout)
    result = await publish(plan, api, profiles, settings, emu.secret_key, adopt=no)
    elapsed = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"publishing failed: {[str(o.error) for o in result.outcomes]}")
    return elapsed


async def main(runs: int, unfiltered: bool) -> None:
    from clmwizard.emulator import Emulator
    from clmwizard.http import make_client
    from clmwizard.powerplatform.api import PowerAppsApi
    from clmwizard.powerplatform.settings import make_settings
    from clmwizard.powerplatform.signin import sign_in_service_principal
    from clmwizard.store.profile import ClmHosts, Profile
    from clmwizard.store.profiles import ProfileStore
    from clmwizard.store.secrets import MemorySecretStore

    with tempfile.TemporaryDirectory() as folder, Emulator() as emu:
        os.environ["CLMWIZARD_CONFIG_DIR"] = folder
        pp = emu.power_platform
        ca = Path(folder) / "ca.pem"
        ca.write_text(pp.ca_cert, encoding="ascii")
        settings = make_settings(
            authority=pp.authority_host,
            tenant=pp.tenant,
            client_id=pp.client_id,
            power_apps_url=pp.power_apps_url,
            flow_url=pp.flow_url,
            ca_bundle=str(ca),
        )
        profile = Profile(
            name="bench",
            environment="custom",
            auth_server=emu.auth_server,
            clm_auth_server=emu.clm_auth_server,
            integration_key=emu.integration_key,
            scopes=["signature", "spring_read", "spring_write", "extended"],
            redirect_uri="http://127.0.0.1:8765/callback",
            account_id=emu.account_id,
            clm_hosts=ClmHosts(**emu.clm_hosts),
        )
        profiles = ProfileStore()
        profiles.save(profile)
        async with make_client(ca_bundle=settings.ca_bundle) as http:
            who = await sign_in_service_principal(
                settings, MemorySecretStore(), "bench", http, pp.client_secret
            )
            pp.set_behaviour(honour_custom_filter=not unfiltered)
            for origin in ("powerapps", "blob", "flow"):
                emu.inject_fault(origin, "/", latency=LATENCY, count=0)
            api = PowerAppsApi(
                http,
                who.access_token,
                who.object_id,
                power_apps_url=settings.power_apps_url,
                flow_url=settings.flow_url,
            )
            times: dict[str, list[float]] = {"single": [], "three": []}
            await publish_once(emu, profile, profiles, api, settings, "single")  # warm up
            for _ in range(runs):
                for layout in ("single", "three"):
                    times[layout].append(
                        await publish_once(emu, profile, profiles, api, settings, layout)
                    )
    one, three = (statistics.median(times[layout]) for layout in ("single", "three"))
    ratio = three / one
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    against = three / BEFORE_THREE
    before = "ok" if against <= TARGET else "OVER TARGET"
    listing = "whole catalogue, page by page" if unfiltered else "custom connectors only"
    print(f"{LATENCY * 1000:.0f} ms injected on every Power Platform call, medians of {runs} runs")
    print(f"catalogue: 1,300 managed connectors + the tenant's own; list: {listing}")
    print(f"one connector (single)     {one:6.2f} s")
    print(f"three connectors (three)   {three:6.2f} s  ratio {ratio:4.2f}×", end=" ")
    print(f"(target ≤ {TARGET}×) {verdict}")
    print(f"three vs before ({BEFORE_THREE:.2f} s)  {against:4.2f}× (target ≤ {TARGET}×) {before}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--unfiltered", action="store_true")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.unfiltered))
    sys.exit(0)
