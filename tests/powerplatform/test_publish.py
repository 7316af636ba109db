"""Plan and publish against a Power Apps API served through an injected MockTransport: the
request bodies, concurrency, update on rerun, adoption, partial failure, what is remembered."""

from __future__ import annotations

import time

import pytest

from clmwizard.powerplatform.publish import (
    PlannedConnector,
    connector_payloads,
    plan_publish,
    summarise,
)
from clmwizard.powerplatform.records import secret_fingerprint
from clmwizard.store.profiles import ProfileStore
from tests.powerplatform.fake import FakePowerPlatform
from tests.powerplatform.publishing import SECRET, api_for, publish


async def test_single_layout_creates_one_connector_as_paconn_would(store: ProfileStore) -> None:
    fake = FakePowerPlatform()
    result = await publish(fake, store)
    assert result.ok, summarise(result)
    (outcome,) = result.outcomes
    stored = fake.connectors["env-one"][outcome.connector_id]["properties"]
    payload = connector_payloads(store.load("acme"), "single")[0]
    assert stored["openApiDefinition"] == payload.swagger
    assert stored["displayName"] == payload.swagger["info"]["title"]
    assert stored["backendService"]["serviceUrl"].startswith("https://")
    assert stored["environment"] == {"name": "env-one"}
    assert stored["iconUri"].startswith("https://store1.blob.core.test/icons-env-one/clm-icon.png?")
    assert list(fake.blobs.values()) == [payload.icon]
    assert fake.secret_of("env-one", outcome.connector_id) == SECRET
    assert stored["policyTemplateInstances"]  # the host routing came along
    assert outcome.redirect_url == (
        f"https://global.consent.azure-apim.net/redirect/{outcome.connector_id}"
    )
    (record,) = store.load("acme").publications
    assert record.environment_id == "env-one" and record.layout == "single"
    (remembered,) = record.connectors
    assert remembered.connector_id == outcome.connector_id
    assert remembered.secret_fingerprint == secret_fingerprint(
        store.load("acme").integration_key, SECRET
    )
    assert SECRET not in (store.root / "acme.yaml").read_text()


async def test_a_second_publish_updates_instead_of_duplicating(store: ProfileStore) -> None:
    fake = FakePowerPlatform()
    first = await publish(fake, store, "three")
    assert first.ok and len(fake.connectors["env-one"]) == 3
    second = await publish(fake, store, "three")
    assert second.ok and [o.action for o in second.outcomes] == ["update"] * 3
    assert len(fake.connectors["env-one"]) == 3
    assert len(fake.calls("PATCH", "/apis/")) == 3
    assert {o.connector_id for o in first.outcomes} == {o.connector_id for o in second.outcomes}
    assert len(store.load("acme").publications[0].connectors) == 3


async def test_a_same_named_connector_is_offered_for_adoption_never_overwritten(
    store: ProfileStore,
) -> None:
    fake = FakePowerPlatform()
    await publish(fake, ProfileStore())  # someone else's connector of the same name
    other = ProfileStore()
    other.update("acme", lambda p: p.publications.clear())
    before = dict(fake.connectors["env-one"])
    asked: list[PlannedConnector] = []
    declined = await publish(fake, store, asked=asked, adopt=False)
    assert [item.action for item in asked] == ["adopt"]
    assert not declined.ok and declined.outcomes[0].skipped
    assert fake.connectors["env-one"] == before and not fake.calls("PATCH", "/apis/")
    adopted = await publish(fake, store, adopt=True)
    assert adopted.ok and adopted.outcomes[0].connector_id == next(iter(before))
    assert len(fake.connectors["env-one"]) == 1


async def test_one_failing_connector_leaves_the_others_published_and_reported(
    store: ProfileStore,
) -> None:
    fake = FakePowerPlatform()
    fake.fail("POST", "/apis", 500, count=1)  # the first create fails (never retried)
    result = await publish(fake, store, "three")
    assert not result.ok
    failed = [o for o in result.outcomes if o.error is not None]
    assert len(failed) == 1 and failed[0].error is not None
    assert failed[0].error.code == "http_500" and not failed[0].exists
    assert len(fake.connectors["env-one"]) == 2
    assert len(store.load("acme").publications[0].connectors) == 2
    lines = summarise(result)
    assert sum("NOT published" in line for line in lines) == 1
    rerun = await publish(fake, store, "three")
    assert rerun.ok and sorted(o.action for o in rerun.outcomes) == ["create", "update", "update"]
    assert len(fake.connectors["env-one"]) == 3


async def test_validation_errors_stop_and_each_is_shown(store: ProfileStore) -> None:
    fake = FakePowerPlatform(
        validation_answer='[{"operationId": "ListFolders", "level": "Error", "message": "bad"},'
        ' {"operationId": "GetFolder", "level": "Error", "message": "worse"},'
        ' {"operationId": "GetDoc", "level": "Warning", "message": "long"}]'
    )
    result = await publish(fake, store)
    error = result.outcomes[0].error
    assert error is not None and error.code == "swagger_invalid"
    assert "ListFolders: bad" in error.cause and "GetFolder: worse" in error.cause
    assert not fake.connectors["env-one"]
    lines = "\n".join(summarise(result))
    assert "NOT published" in lines and "validation warning: GetDoc: long" in lines


@pytest.mark.parametrize(
    "answer",
    [
        '"Warning: paths./folders.get: The summary is long.\\r\\nWarning: info: short."',
        '[{"operationId": "ListFolders", "message": "something clmwizard cannot classify"}]',
    ],
)
async def test_warnings_and_unclassified_findings_are_shown_and_publishing_goes_on(
    answer: str, store: ProfileStore
) -> None:
    fake = FakePowerPlatform(validation_answer=answer)
    result = await publish(fake, store)
    assert result.ok, summarise(result)
    (outcome,) = result.outcomes
    assert outcome.findings and all(f.level != "error" for f in outcome.findings)
    assert len(fake.connectors["env-one"]) == 1
    shown = "\n".join(summarise(result))
    assert all(f"validation {f.level}: {f.text}" in shown for f in outcome.findings)


async def test_three_connectors_are_published_concurrently(store: ProfileStore) -> None:
    fake = FakePowerPlatform(latency=0.05)
    started = time.monotonic()
    await publish(fake, store, "single")
    one = time.monotonic() - started
    store.update("acme", lambda p: p.publications.clear())
    fake.connectors["env-one"].clear()
    started = time.monotonic()
    result = await publish(fake, store, "three")
    three = time.monotonic() - started
    assert result.ok and three < 2.0 * one, (one, three)


async def test_a_missing_redirect_url_says_where_the_portal_shows_it(store: ProfileStore) -> None:
    fake = FakePowerPlatform(redirect_in_answer=False)
    result = await publish(fake, store)
    outcome = result.outcomes[0]
    assert outcome.redirect_url is None and "Security" in outcome.redirect_hint


async def test_dry_run_plan_changes_nothing(store: ProfileStore) -> None:
    fake = FakePowerPlatform()
    plan = await plan_publish(api_for(fake), store.load("acme"), "env-one", "three")
    assert [item.action for item in plan.connectors] == ["create"] * 3
    assert {r.method for r in fake.requests} == {"GET"}


async def test_a_connector_of_the_other_layout_is_listed_once(store: ProfileStore) -> None:
    """Single, then three: the single connector shares the general one's name. The dry run
    offers it for adoption and does not also call it "left as is"."""
    from clmwizard.powerplatform.publish import describe_plan

    fake = FakePowerPlatform()
    (single,) = (await publish(fake, store, "single")).outcomes
    plan = await plan_publish(api_for(fake), store.load("acme"), "env-one", "three")
    lines = describe_plan(plan)
    mentions = [line for line in lines if single.connector_id in line]
    assert len(mentions) == 1, lines
    assert "adopt?" in mentions[0] and "this profile's, of its other layout" in mentions[0]
