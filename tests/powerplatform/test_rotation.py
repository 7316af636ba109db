"""A rotated secret reaches every published connector; a failure between connectors leaves a
state the next run finishes; without a sign-in the exact steps are given per connector."""

from __future__ import annotations

from clmwizard.powerplatform.api import PowerAppsApi
from clmwizard.powerplatform.records import secret_fingerprint
from clmwizard.powerplatform.rotation import connectors_to_update, update_connector_secrets
from clmwizard.store.profile import PublishRecord
from clmwizard.store.profiles import ProfileStore
from tests.powerplatform.fake import FakePowerPlatform
from tests.powerplatform.publishing import SECRET, api_for, publish
from tests.support.records import PUBLIC_CLIENT, publish_record

NEW = "7c9e1b3d-2f4a-4b6c-8d0e-1a3b5c7d9e0f"


async def test_every_connector_gets_the_new_secret(store: ProfileStore) -> None:
    fake = FakePowerPlatform()
    await publish(fake, store, "three")
    assert len(connectors_to_update(store.load("acme"), NEW)) == 3

    async def sign_in(record: PublishRecord) -> PowerAppsApi:
        return api_for(fake)

    report = await update_connector_secrets("acme", store, NEW, sign_in)
    assert report.complete and len(report.updated) == 3
    assert all(fake.secret_of("env-one", c) == NEW for c in fake.connectors["env-one"])
    profile = store.load("acme")
    fingerprint = secret_fingerprint(profile.integration_key, NEW)
    assert {c.secret_fingerprint for c in profile.publications[0].connectors} == {fingerprint}
    assert connectors_to_update(profile, NEW) == []


async def test_a_failure_between_connectors_is_finished_by_the_next_run(
    store: ProfileStore,
) -> None:
    fake = FakePowerPlatform()
    await publish(fake, store, "three")
    fake.fail("PATCH", "/apis/", 400, count=1)  # the first update is refused (not retried)

    async def sign_in(record: PublishRecord) -> PowerAppsApi:
        return api_for(fake)

    first = await update_connector_secrets("acme", store, NEW, sign_in)
    assert len(first.updated) == 2 and len(first.remaining) == 1
    left = first.remaining[0]
    assert (
        left.error is not None and fake.secret_of("env-one", left.connector.connector_id) == SECRET
    )
    assert [t.connector.connector_id for t in connectors_to_update(store.load("acme"), NEW)] == [
        left.connector.connector_id
    ]
    second = await update_connector_secrets("acme", store, NEW, sign_in)
    assert second.complete and [c.connector_id for c in second.updated] == [
        left.connector.connector_id
    ]
    assert all(fake.secret_of("env-one", c) == NEW for c in fake.connectors["env-one"])


async def test_without_a_sign_in_the_steps_are_given_per_connector(store: ProfileStore) -> None:
    fake = FakePowerPlatform()
    await publish(fake, store, "single")

    async def no_sign_in(record: PublishRecord) -> None:
        return None

    report = await update_connector_secrets("acme", store, NEW, no_sign_in)
    assert not report.complete and not fake.calls("PATCH", "/apis/")
    steps = "\n".join(report.remaining[0].manual_steps("acme"))
    assert "Data → Custom connectors" in steps and "Security → Client secret" in steps
    assert "paconn update --env env-one --cid " in steps
    assert NEW not in steps and SECRET not in steps


async def test_after_a_layout_change_the_old_connectors_get_the_secret_too(
    store: ProfileStore,
) -> None:
    fake = FakePowerPlatform()
    await publish(fake, store, "three")
    # The single connector has the general one's name: adopting it turns that one into it.
    assert (await publish(fake, store, "single", adopt=True)).ok
    (record,) = store.load("acme").publications
    assert record.layout == "single"
    assert sorted(c.key for c in record.connectors) == ["clm", "download", "upload"]

    async def sign_in(record: PublishRecord) -> PowerAppsApi:
        return api_for(fake)

    report = await update_connector_secrets("acme", store, NEW, sign_in)
    assert report.complete and len(report.updated) == 3
    assert all(fake.secret_of("env-one", c) == NEW for c in fake.connectors["env-one"])


def test_the_suggested_publish_command_keeps_the_stored_microsoft_settings() -> None:
    from clmwizard.powerplatform.rotation import publish_command

    record = publish_record(
        environment_id="env-one",
        power_apps_url="https://api.powerapps.us",
        authority="https://login.microsoftonline.us",
        tenant="contoso.onmicrosoft.us",
        client_id="9f1e2d3c-4b5a-4c3d-8e9f-0a1b2c3d4e5f",
    )
    command = publish_command("acme", record)
    assert command.startswith("clmwizard publish --profile acme --environment env-one")
    for part in (
        "--layout single",
        "--authority https://login.microsoftonline.us",
        "--tenant contoso.onmicrosoft.us",
        "--client-id 9f1e2d3c-4b5a-4c3d-8e9f-0a1b2c3d4e5f [--service-principal]",
        "--power-apps-url https://api.powerapps.us",
    ):
        assert part in command, command
    public = publish_record(environment_id="env-one", layout="three", **PUBLIC_CLIENT)
    assert publish_command("acme", public) == (
        "clmwizard publish --profile acme --environment env-one --layout three"
    )
