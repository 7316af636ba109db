"""The Power Apps API client's answers to failures: plain words for 401, 403, 404, 429, 5xx;
retries where they are safe; bounded, validated answers."""

from __future__ import annotations

import httpx
import pytest

from clmwizard.errors import ClmWizardError, NetworkError
from clmwizard.powerplatform.api import PowerAppsApi, problems_from, validate_environment_id
from tests.powerplatform.fake import FLOW, OID, POWER_APPS, FakePowerPlatform


def api_for(fake: FakePowerPlatform, token: str | None = None) -> PowerAppsApi:
    return PowerAppsApi(
        fake.client(),
        token or fake.token,
        OID,
        power_apps_url=POWER_APPS,
        flow_url=FLOW,
        backoff=0.01,
        retry_after_cap=0.05,
    )


async def test_environments_are_listed() -> None:
    fake = FakePowerPlatform(environments=["env-one", "env-two"])
    found = await api_for(fake).list_environments()
    assert [e.environment_id for e in found] == ["env-one", "env-two"]


async def test_a_refused_token_is_401_in_plain_words() -> None:
    with pytest.raises(ClmWizardError) as caught:
        await api_for(FakePowerPlatform(), "wrong-token").list_environments()
    assert caught.value.code == "http_401" and "Sign in again" in caught.value.fix


async def test_403_names_the_maker_role() -> None:
    fake = FakePowerPlatform()
    fake.fail("POST", "generateResourceStorage", 403, count=1)
    with pytest.raises(ClmWizardError) as caught:
        await api_for(fake).generate_storage("env-one")
    assert caught.value.code == "no_maker_role" and "Environment Maker" in caught.value.cause


async def test_an_unknown_environment_is_404_in_plain_words() -> None:
    with pytest.raises(ClmWizardError) as caught:
        await api_for(FakePowerPlatform()).list_connectors("env-nope")
    assert caught.value.code == "unknown_environment" and "env-nope" in caught.value.what


async def test_429_is_retried_after_retry_after_then_reported() -> None:
    fake = FakePowerPlatform()
    fake.fail("GET", "/apis", 429, count=1, retry_after="1")
    assert await api_for(fake).list_connectors("env-one") == []
    fake.fail("GET", "/apis", 429, count=10, retry_after="7")
    with pytest.raises(NetworkError) as caught:
        await api_for(fake).list_connectors("env-one")
    assert caught.value.code == "http_429" and "7 s" in caught.value.cause


async def test_5xx_is_retried_for_reads_but_never_for_create() -> None:
    fake = FakePowerPlatform()
    fake.fail("GET", "/apis", 503, count=2)
    assert await api_for(fake).list_connectors("env-one") == []
    fake.fail("POST", "/apis", 502, count=1)
    with pytest.raises(NetworkError):
        await api_for(fake).create_connector("env-one", {"properties": {}})
    assert len(fake.calls("POST", "/apis")) == 1


async def test_malformed_and_hostile_answers_are_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "generateResourceStorage" in request.url.path:
            return httpx.Response(200, json={"sharedAccessSignature": "http://evil.test/c?x"})
        return httpx.Response(200, json={"value": [{"name": "../../etc"}, {"name": "ok_1"}]})

    api = PowerAppsApi(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        "t",
        OID,
        power_apps_url=POWER_APPS,
        flow_url=FLOW,
    )
    with pytest.raises(NetworkError):
        await api.generate_storage("env-one")
    assert [c.connector_id for c in await api.list_connectors("env-one")] == ["ok_1"]
    with pytest.raises(ClmWizardError):
        validate_environment_id("env one'; drop")


def test_validation_answers_become_one_line_per_problem() -> None:
    assert problems_from("line one\n\nline two") == ["line one", "line two"]
    assert problems_from('{"errors": [{"path": "/paths/x", "message": "bad"}]}') == [
        "/paths/x: bad"
    ]
